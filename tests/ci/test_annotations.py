"""Annotations GitHub can place: paths relative to the workspace, the line where the finding's pointer lands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from schemakit.diff import RULES
from schemakit.diff.locate import annotation_path, pointer_line

ROOT = Path(__file__).resolve().parents[2]
V2 = ROOT / "samples" / "docs-example-dataframe.json"
V3 = ROOT / "samples" / "docs-example-dataframe-v3.json"


def cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    from ..conftest import run_cli_in_process  # in process, through main()'s error translation

    return run_cli_in_process(*args, cwd=cwd, env={**base, **(env or {})})


def _annotations(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    out = []
    for line in stdout.splitlines():
        head, _, message = line[2:].partition("::")
        command, _, props = head.partition(" ")
        out.append((command, dict(p.split("=", 1) for p in props.split(",")) if props else {}, message))
    return out


def test_absolute_paths_from_the_repository_root_become_relative() -> None:
    result = cli("diff", str(V2), str(V3), "--format", "github")
    assert result.returncode == 1
    annotations = _annotations(result.stdout)
    findings = annotations[:-1]
    assert findings
    assert all(props["file"] == "samples/docs-example-dataframe-v3.json" for _, props, _ in findings)
    lines = V3.read_text().splitlines()
    where = {message.split(":")[0]: int(props["line"]) for _, props, message in findings}
    assert '"version"' in lines[where["info.version"] - 1]
    assert '"/served-models/vanilla_simple_model-3/invocations"' in lines[where["served model"] - 1]
    assert '"sentiment"' in lines[where["param sentiment"] - 1]
    assert '"predictions"' in lines[where["response predictions[]"] - 1]
    assert '"region"' in lines[where["dataframe_records column region"] - 1]


def test_github_workspace_is_the_base(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    (repo / "schemas").mkdir(parents=True)
    (repo / "schemas" / "v3.json").write_text(V3.read_text())
    result = cli(
        "diff", str(V2), str(repo / "schemas" / "v3.json"), "--format", "github", env={"GITHUB_WORKSPACE": str(repo)}
    )
    assert "::error file=schemas/v3.json,line=" in result.stdout


def test_a_live_or_model_new_side_annotates_the_committed_old_file(tmp_path: Path) -> None:
    # Committed schema vs a document that is not a repository file: annotations go on the committed one.
    piped = subprocess.run(
        [sys.executable, "-m", "schemakit", "diff", "samples/docs-example-dataframe.json", "-", "--format", "github"],
        cwd=ROOT,
        input=V3.read_text(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 1, piped.stderr
    assert "::error file=samples/docs-example-dataframe.json,line=" in piped.stdout


def test_yaml_documents_get_lines_too(tmp_path: Path) -> None:
    new = tmp_path / "v3.yaml"
    new.write_text(yaml.safe_dump(json.loads(V3.read_text()), sort_keys=False))
    result = cli("diff", str(V2), str(new), "--format", "github", cwd=tmp_path)
    findings = _annotations(result.stdout)[:-1]
    lines = new.read_text().splitlines()
    line = next(int(p["line"]) for _, p, m in findings if m.startswith("param sentiment"))
    assert lines[line - 1].strip().startswith("sentiment:")


def test_outside_the_workspace_the_path_is_kept(tmp_path: Path) -> None:
    assert annotation_path(str(tmp_path / "x.json"), base=str(ROOT)) == str(tmp_path / "x.json")
    assert annotation_path(str(ROOT / "samples" / "x.json"), base=str(ROOT)) == "samples/x.json"


@pytest.mark.parametrize(
    ("pointer", "line"),
    [
        ("", 1),
        ("/a", 2),
        ("/a/b~1c", 3),
        ("/a/b~1c/1", 5),
        ("/a/b~1c/1/x~0y", 6),
        ("/s", 9),
        ("/a/missing", 2),
        ("/a/b~1c/7", 3),
    ],
)
def test_json_pointer_lines(pointer: str, line: int) -> None:
    text = '{\n  "a": {\n    "b/c": [\n      "{[\\"]}",\n      {\n        "x~y": 1\n      }\n    ]},\n  "s": "\\u0041"\n}\n'
    assert json.loads(text)  # the sample is JSON
    assert pointer_line(text, pointer) == line


def test_locating_never_raises_on_text_it_cannot_read() -> None:
    assert pointer_line('{"a": [1, 2', "/a/5") in (1, None)
    assert pointer_line("a: [", "/a", yaml_text=True) is None


def test_list_rules_prints_every_diff_rule() -> None:
    result = cli("diff", "--list-rules")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(RULES)
    for line, (rule_id, rule) in zip(lines, RULES.items(), strict=True):
        assert line.split()[:2] == [rule_id, rule.severity]


def test_diff_without_sources_says_so() -> None:
    result = cli("diff")
    assert result.returncode == 2
    assert result.stderr.startswith("schemakit: error: Missing argument 'OLD' (OLD and NEW, or --list-rules)")
