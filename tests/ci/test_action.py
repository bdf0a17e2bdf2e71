"""The GitHub Action: its steps run as the runner runs them, on the v2 -> v3 sample and the recipe."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions import ROOT, ActionRun, git, load_action, run_action

SAMPLES = ROOT / "samples"
V2 = SAMPLES / "docs-example-dataframe.json"
V3 = SAMPLES / "docs-example-dataframe-v3.json"
RECIPE = ROOT / "docs" / "recipes" / "github-actions.yml"


def _repo(tmp_path: Path) -> Path:
    """A repository whose main has the v2 schema and whose work tree has v3, as in a pull request."""
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    shutil.copy(V2, repo / "schemas" / "ads.json")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v2")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    shutil.copy(V3, repo / "schemas" / "ads.json")
    return repo


def _diff(tmp_path: Path, **inputs: str) -> ActionRun:
    repo = _repo(tmp_path)
    return run_action(
        {"old": "git:origin/main:schemas/ads.json", "new": "schemas/ads.json", "install": "none", **inputs}, repo
    )


def test_the_action_declares_what_the_docs_promise() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    assert {"mode", "old", "new", "fail-on", "ignore", "python-version", "install"} <= set(action["inputs"])
    assert set(action["outputs"]) >= {"breaking", "warnings", "report-path"}
    for step in action["runs"]["steps"]:
        # Inputs reach the shell through the environment, never pasted into the script.
        assert "${{" not in step.get("run", "")


def test_v2_to_v3_fails_on_the_breaking_change(tmp_path: Path) -> None:
    run = _diff(tmp_path)
    assert run.returncode == 1, run.stderr
    assert run.outputs["breaking"] == "1"
    assert run.outputs["warnings"] == "4"
    assert run.summary.startswith("### Schema diff for `example-endpoint`: ❌ breaking changes")
    assert "response-nullable-added" in run.summary
    report = Path(run.outputs["report-path"])
    assert report.read_text() in run.summary
    # Annotations on the repository file, relative to the workspace, with a line.
    error = next(line for line in run.stdout.splitlines() if line.startswith("::error file="))
    assert error.startswith("::error file=schemas/ads.json,line=")
    assert "response-nullable-added" in error


def test_fail_on_never_reports_without_a_green_mark(tmp_path: Path) -> None:
    run = _diff(tmp_path, **{"fail-on": "never"})
    assert run.returncode == 0, run.stderr
    assert run.outputs["breaking"] == "1"
    headline = run.summary.splitlines()[0]
    assert "✅" not in run.summary
    assert headline.endswith("⚠️ 1 breaking (not failing: --fail-on never)")
    assert run.stdout.splitlines()[-1] == (
        "::warning title=schemakit diff::1 breaking, 4 warning, 4 info (not failing: --fail-on never)"
    )


def test_fail_on_warning(tmp_path: Path) -> None:
    assert _diff(tmp_path, **{"fail-on": "warning"}).returncode == 1


_IGNORE = """ignore:
  - rule: response-nullable-added
    field: predictions
    reason: the app handles null
"""


def test_the_default_ignore_file_is_used_when_present_and_no_error_when_missing(tmp_path: Path) -> None:
    assert _diff(tmp_path / "without").returncode == 1
    repo = _repo(tmp_path / "with")
    (repo / ".schemakit-diff-ignore.yaml").write_text(_IGNORE)
    run = run_action({"old": "git:origin/main:schemas/ads.json", "new": "schemas/ads.json", "install": "none"}, repo)
    assert run.returncode == 0, run.stderr
    assert run.outputs["breaking"] == "0"
    assert "<details><summary>1 ignored</summary>" in run.summary


def test_a_named_ignore_file_must_exist(tmp_path: Path) -> None:
    run = _diff(tmp_path, ignore="schemas/missing.yaml")
    assert run.returncode == 2
    assert "::error title=schemakit::schemas/missing.yaml: no such ignore file" in run.stdout
    assert "could not run" in run.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"mode": "nope"}, "input mode: 'nope' is not one of diff, deploy-gate, codegen-check"),
        ({"fail-on": "sometimes"}, "input fail-on: 'sometimes' is not one of breaking, warning, never"),
        ({"args": "--format json"}, "input args: output-format is set by the action, not by args"),
        ({"old": ""}, "input old is required in mode diff"),
    ],
)
def test_bad_inputs_are_one_line(tmp_path: Path, inputs: dict[str, str], message: str) -> None:
    run = _diff(tmp_path, **inputs)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1] == f"schemakit: error: {message}"


def test_args_reach_diff(tmp_path: Path) -> None:
    # Pairing the models by hand gives the same findings: --model parses as in `schemakit diff`.
    run = _diff(tmp_path, args="--model vanilla_simple_model-2=vanilla_simple_model-3")
    assert run.returncode == 1
    assert "served-model-renamed" in run.summary


def test_codegen_check_mode(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = _repo(tmp_path)
    generated = subprocess.run(
        [sys.executable, "-m", "schemakit", "codegen", "schemas/ads.json", "-o", "clients"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    inputs = {"mode": "codegen-check", "new": "schemas/ads.json", "output": "clients", "install": "none"}
    run = run_action(inputs, repo)
    assert run.returncode == 0, run.stderr
    assert "✅ `clients` is in sync with `schemas/ads.json`" in run.summary
    shutil.copy(V2, repo / "schemas" / "ads.json")
    stale = run_action(inputs, repo)
    assert stale.returncode == 1, stale.summary + stale.stderr
    assert "❌ out of date" in stale.summary
    assert stale.outputs["failed"] == "true"
    assert any(line.startswith("::error title=schemakit codegen --check::") for line in stale.stdout.splitlines())


# -- the recipe in docs/recipes is what runs here ---------------------------------------------------


def _recipe() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    return data


def _schemakit_step(job: dict[str, Any]) -> dict[str, Any]:
    return next(step for step in job["steps"] if str(step.get("uses", "")).split("@")[0].endswith("/schemakit"))


def test_the_recipe_uses_only_inputs_the_action_declares() -> None:
    declared = set(load_action()["inputs"])
    for name, job in _recipe()["jobs"].items():
        step = _schemakit_step(job)
        assert set(step.get("with", {})) <= declared, name


def test_the_recipes_pull_request_job_runs_on_the_v2_to_v3_change(tmp_path: Path) -> None:
    step = _schemakit_step(_recipe()["jobs"]["pull-request"])
    repo = _repo(tmp_path)
    inputs = {**{key: str(value) for key, value in step["with"].items()}, "install": "none"}
    from actions import evaluate

    inputs = {key: evaluate(value, {"github": {"base_ref": "main"}}) for key, value in inputs.items()}
    run = run_action(inputs, repo)
    assert run.returncode == 1, run.stderr
    assert (run.outputs["breaking"], run.outputs["warnings"]) == ("1", "4")
    assert "❌ breaking changes" in run.summary
    assert "::error file=schemas/ads.json,line=" in run.stdout


def test_the_recipes_drift_job_annotates_the_committed_schema(tmp_path: Path) -> None:
    import json

    from schemakit.testing import MockServer

    job = _recipe()["jobs"]["drift"]
    step = _schemakit_step(job)
    live = json.loads(V3.read_text())
    live["info"]["title"] = "ads"
    (tmp_path / "live.json").write_text(json.dumps(live))
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    committed = json.loads(V2.read_text())
    committed["info"]["title"] = "ads"
    (repo / "schemas" / "ads.json").write_text(json.dumps(committed, indent=2))
    from actions import evaluate

    with MockServer([tmp_path / "live.json"]) as server:
        secrets = {"secrets": {"DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": server.token}}
        env = {key: evaluate(str(value), secrets) for key, value in step["env"].items()}
        run = run_action({**{k: str(v) for k, v in step["with"].items()}, "install": "none"}, repo, env=env)
    assert run.returncode == 1, run.stderr
    findings = [
        line for line in run.stdout.splitlines() if line.startswith("::") and "title=schemakit diff::" not in line
    ]
    assert findings
    assert all(line.split(" ", 1)[1].startswith("file=schemas/ads.json,line=") for line in findings)
    assert server.token not in run.stdout + run.stderr + run.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"new": "--help"}, "input new: '--help' looks like an option"),
        ({"new": "-h"}, "input new: '-h' looks like an option"),
        ({"output": "--version"}, "input output: '--version' looks like an option"),
        ({"args": "--help"}, "input args: --help would stop the check before it runs"),
        ({"args": "--version"}, "input args: --version would stop the check before it runs"),
    ],
)
def test_codegen_check_refuses_option_like_inputs(tmp_path: Path, inputs: dict[str, str], message: str) -> None:
    """Issue 23: `new: --help` made codegen-check print usage and pass."""
    repo = _repo(tmp_path)
    run = run_action({"mode": "codegen-check", "new": "schemas/ads.json", "output": "clients", **inputs}, repo)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr.strip().splitlines()[-1]
    assert run.outputs.get("failed") != "false"


def test_option_like_old_is_refused_in_diff(tmp_path: Path) -> None:
    run = _diff(tmp_path, old="--help")
    assert run.returncode == 2
    assert "input old: '--help' looks like an option" in run.stderr
