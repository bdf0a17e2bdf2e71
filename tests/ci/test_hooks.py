"""The pre-commit hooks: their definitions, and their entries run in a repository as pre-commit runs them."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions import ROOT, git

V2 = ROOT / "samples" / "docs-example-dataframe.json"
V3 = ROOT / "samples" / "docs-example-dataframe-v3.json"


def _hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def _run(hook_id: str, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The hook's entry with `args` (pre-commit appends args, then the file names), as pre-commit runs it."""
    entry = shlex.split(_hooks()[hook_id]["entry"])
    assert entry[0] == "python"
    return subprocess.run(
        [sys.executable, *entry[1:], *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    shutil.copy(V2, repo / "schemas" / "ads.json")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v2")
    return repo


def test_the_three_hooks_are_defined() -> None:
    hooks = _hooks()
    assert set(hooks) == {"schemakit-validate", "schemakit-codegen-check", "schemakit-diff"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert {"id", "name", "entry"} <= set(hook)
    pattern = re.compile(hooks["schemakit-validate"]["files"])
    assert pattern.search("schemas/ads.json")
    assert pattern.search("svc/schema/ads.yaml")
    assert not pattern.search("package.json")


def test_validate_hook(repo: Path) -> None:
    ok = _run("schemakit-validate", repo, "schemas/ads.json")
    assert ok.returncode == 0, ok.stderr
    assert "schemas/ads.json: ok" in ok.stdout
    (repo / "schemas" / "bad.json").write_text('{"openapi": "3.1.0"}')
    bad = _run("schemakit-validate", repo, "schemas/ads.json", "schemas/bad.json")
    assert bad.returncode in (1, 2)
    assert "schemas/ads.json: ok" in bad.stdout  # every file is reported, not only up to the first bad one


def test_diff_hook_against_head(repo: Path) -> None:
    assert _run("schemakit-diff", repo, "schemas/ads.json").returncode == 0  # unchanged
    shutil.copy(V3, repo / "schemas" / "ads.json")
    breaking = _run("schemakit-diff", repo, "schemas/ads.json")
    assert breaking.returncode == 1
    assert "FAIL: 1 breaking, 4 warning, 4 info (fail on: breaking)" in breaking.stdout
    assert _run("schemakit-diff", repo, "--fail-on", "never", "schemas/ads.json").returncode == 0
    (repo / "schemas" / "new.json").write_text(V3.read_text())
    new = _run("schemakit-diff", repo, "--rev", "main", "--fail-on", "never", "schemas/new.json", "schemas/ads.json")
    assert new.returncode == 0
    assert "schemas/new.json: new since main, nothing to compare" in new.stdout


def test_codegen_check_hook(repo: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "schemakit", "codegen", "schemas/ads.json", "-o", "clients"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert _hooks()["schemakit-codegen-check"]["pass_filenames"] is False
    assert _run("schemakit-codegen-check", repo, "schemas/ads.json", "-o", "clients").returncode == 0
    shutil.copy(V3, repo / "schemas" / "ads.json")
    assert _run("schemakit-codegen-check", repo, "schemas/ads.json", "-o", "clients").returncode == 1
