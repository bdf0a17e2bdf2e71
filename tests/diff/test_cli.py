"""`schemakit diff` as a user runs it: exit codes, one-line errors, sources, options."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from diff_docs import DEFAULT_COLUMNS, col, doc, model

A, B, C = DEFAULT_COLUMNS
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SCHEMAKIT_DEBUG", None)
    from ..conftest import run_cli_in_process  # in process, through main()'s error translation

    return run_cli_in_process("diff", *args, input=stdin, cwd=cwd, env=env)


def write(path: Path, document: dict[str, Any], indent: int | None = 2) -> str:
    path.write_text(json.dumps(document, indent=indent))
    return str(path)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    """An old schema and a new version of it with one breaking change, one warning and info."""
    old = write(tmp_path / "old.json", doc(model("ads-model-2"), version="2"))
    new = write(
        tmp_path / "new.json",
        doc(model("ads-model-3", columns=(col("a", "double", required=True), B)), version="3"),
    )
    return old, new


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_breaking_change_exits_1_with_a_text_report(pair: tuple[str, str]) -> None:
    old, new = pair
    result = run(old, new)
    assert result.returncode == 1
    assert "served model ads-model-3 (was ads-model-2)" in result.stdout
    assert "breaking  dataframe_split column c: column c (string) removed" in result.stdout
    assert result.stdout.splitlines()[-1] == "FAIL: 1 breaking, 3 warning, 2 info (fail on: breaking)"
    assert result.stderr == ""


def test_fail_on_decides_the_exit_code(tmp_path: Path, pair: tuple[str, str]) -> None:
    old, new = pair
    assert run(old, new, "--fail-on", "never").returncode == 0
    warning_only = write(
        tmp_path / "warn.json",
        doc(model("ads-model-2", columns=(col("a", "double", required=True), B, C)), version="2"),
    )
    assert run(old, warning_only).returncode == 0
    assert run(old, warning_only, "--fail-on", "warning").returncode == 1
    assert run(old, old, "--fail-on", "warning").returncode == 0


def test_reformatted_json_and_yaml_have_no_changes(tmp_path: Path) -> None:
    document = doc()
    compact = write(tmp_path / "compact.json", document, indent=None)
    yaml_path = tmp_path / "same.yaml"
    import yaml

    yaml_path.write_text(yaml.safe_dump(document, sort_keys=True, indent=4))
    result = run(compact, str(yaml_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ok: no changes (fail on: breaking)"


def test_git_revision_source(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=git_env, check=True, capture_output=True, timeout=60)

    git("init", "-q", "-b", "main")
    write(repo / "schemas" / "ads.json", doc(model("ads-model-1")))
    git("add", "schemas/ads.json")
    git("commit", "-q", "-m", "schema v1")
    write(repo / "schemas" / "ads.json", doc(model("ads-model-2", columns=(A, B))))

    result = run("git:HEAD:schemas/ads.json", "schemas/ads.json", cwd=repo)
    assert result.returncode == 1, result.stderr
    assert "served model ads-model-2 (was ads-model-1)" in result.stdout
    assert "column-removed" in result.stdout

    result = run("git:HEAD:schemas/ads.json", "git:main:schemas/ads.json", cwd=repo)
    assert result.returncode == 0, result.stderr

    missing = run("git:HEAD:schemas/nope.json", "schemas/ads.json", cwd=repo)
    assert_one_line_error(missing, "schemakit: error: git:HEAD:schemas/nope.json")


def test_one_side_from_standard_input(pair: tuple[str, str]) -> None:
    old, new = pair
    result = run(old, "-", stdin=Path(new).read_text())
    assert result.returncode == 1
    assert "column-removed" in result.stdout


def test_both_sides_from_standard_input_is_refused(pair: tuple[str, str]) -> None:
    result = run("-", "-", stdin="{}")
    assert result.returncode == 2
    assert "only one of OLD and NEW can be '-'" in result.stderr
    assert "Traceback" not in result.stderr


def test_http_source(pair: tuple[str, str], tmp_path: Path) -> None:
    old, new = pair
    body = Path(new).read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = run(old, f"http://127.0.0.1:{server.server_address[1]}/openapi.json")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert result.returncode == 1, result.stderr
    assert "column-removed" in result.stdout


@pytest.mark.parametrize("side", ["old", "new"])
def test_unreadable_document_exits_2_with_one_line(tmp_path: Path, side: str) -> None:
    good = write(tmp_path / "good.json", doc())
    missing = str(tmp_path / "missing.json")
    args = (missing, good) if side == "old" else (good, missing)
    assert_one_line_error(run(*args), "schemakit: error:", "missing.json")


def test_invalid_json_exits_2_with_line_and_column(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", doc())
    broken = tmp_path / "broken.json"
    broken.write_text('{"openapi": "3.1.0",\n  "info": }')
    assert_one_line_error(run(good, str(broken)), "broken.json:2:11", "not valid JSON")


def test_not_a_serving_schema_exits_2(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", doc())
    petstore = write(
        tmp_path / "petstore.json",
        {"openapi": "3.1.0", "info": {"title": "pets", "version": "1"}, "paths": {"/pets": {"get": {"responses": {}}}}},
    )
    assert_one_line_error(run(good, petstore), "petstore.json", "not a serving endpoint schema")
    not_openapi = write(tmp_path / "details.json", {"name": "ads", "state": {"ready": "READY"}})
    assert_one_line_error(run(not_openapi, good), "details.json")


def test_output_file_is_written_and_summary_goes_to_stderr(pair: tuple[str, str], tmp_path: Path) -> None:
    old, new = pair
    target = tmp_path / "reports" / "diff.xml"
    result = run(old, new, "--format", "junit", "--output", str(target))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"report written to {target}" in result.stderr
    root = ET.fromstring(target.read_text())
    assert root.get("failures") == "1"
    assert [p.name for p in target.parent.iterdir()] == ["diff.xml"]  # no temporary file left behind


def test_json_and_github_formats(pair: tuple[str, str]) -> None:
    old, new = pair
    data = json.loads(run(old, new, "--format", "json").stdout)
    assert data["summary"] == {"breaking": 1, "warning": 3, "info": 2, "ignored": 0}
    assert data["old"]["source"] == old
    github = run(old, new, "--format", "github").stdout.splitlines()
    assert github[0].startswith(f"::notice file={new.replace(':', '%3A')},line=")
    assert ",title=info info-version-changed in endpoint::" in github[0]
    assert any(line.startswith("::error ") for line in github)
    markdown = run(old, new, "--format", "markdown").stdout
    assert "| Severity | Model | Where | Change | Rule |" in markdown


def test_github_annotations_go_on_old_when_new_is_not_a_file(pair: tuple[str, str]) -> None:
    # A committed schema against a live endpoint or a model: the annotations go on the committed file.
    old, new = pair
    result = run(old, "-", "--format", "github", stdin=Path(new).read_text())
    findings = result.stdout.splitlines()[:-1]
    assert findings
    assert all(f" file={old.replace(':', '%3A')},line=" in line for line in findings)


def test_ignore_file_option(pair: tuple[str, str], tmp_path: Path) -> None:
    old, new = pair
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text(
        "- rule: column-removed\n  column: c\n  format: dataframe_split\n  reason: nobody sends c\n"
        "- rule: type-changed\n  column: b\n  reason: stale\n  expires: 2020-01-01\n"
    )
    result = run(old, new, "--ignore", str(ignore))
    assert result.returncode == 0, result.stdout
    assert "(ignored: nobody sends c)" in result.stdout
    assert "note: ignore entry #2 (rule=type-changed, column=b) expired on 2020-01-01" in result.stdout
    data = json.loads(run(old, new, "--ignore", str(ignore), "--format", "json").stdout)
    assert data["summary"]["ignored"] == 1
    assert data["failed"] is False


def test_bad_ignore_file_exits_2(pair: tuple[str, str], tmp_path: Path) -> None:
    old, new = pair
    ignore = tmp_path / "ignore.yaml"
    ignore.write_text("- rule: column-removed\n  column: c\n")
    assert_one_line_error(run(old, new, "--ignore", str(ignore)), "ignore.yaml: entry #1: 'reason' is required")
    assert_one_line_error(run(old, new, "--ignore", str(tmp_path / "nope.yaml")), "no such ignore file")


def test_model_option(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", doc(model("ads")))
    new = write(tmp_path / "new.json", doc(model("ads-ranker")))
    assert "served-model-removed" in run(old, new).stdout
    result = run(old, new, "--model", "ads=ads-ranker")
    assert result.returncode == 0
    assert "served-model-renamed" in result.stdout
    assert_one_line_error(run(old, new, "--model", "ads=nope"), "new schema has no served model 'nope'")
    bad = run(old, new, "--model", "ads")
    assert bad.returncode == 2
    assert "expected OLD=NEW" in bad.stderr


def test_help_lists_the_rules() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "column-removed" in result.stdout
    assert "response-type-changed" in result.stdout
    assert "git:REV:PATH" in result.stdout


@pytest.mark.parametrize("output", ["json", "markdown"])
def test_a_document_with_errors_is_named_once_and_diffed(tmp_path: Path, output: str) -> None:
    """Diff names a broken document's errors and proceeds (core/policy): one warning, never a refusal after it,
    even when the witnesses of a breaking finding compile validators for that document."""
    old = write(tmp_path / "old.json", doc(model("m"), version="2"))
    broken = doc(model("m", columns=(col("a", "double", required=True),)), version="3")
    response = broken["paths"]["/served-models/m/invocations"]["post"]["responses"]["200"]
    response["content"]["application/json"]["schema"]["properties"]["predictions"]["items"] = {"type": "nope"}
    new = write(tmp_path / "new.json", broken)
    result = run("--format", output, "--fail-on", "never", old, new)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("schemakit: warning: "), lines
    assert "[invalid-type]" in lines[0], lines
    if output == "json":
        assert json.loads(result.stdout)["summary"]["breaking"] >= 1
