"""docs/workspace.md's grant example works against the emulator started as the page says."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from .ws_helpers import cli_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "workspace.md"


def test_the_grant_example_runs_against_the_emulator_as_the_page_starts_it() -> None:
    text = DOC.read_text()
    started_as = re.search(r"started as\s+`(schemakit mock [^`]+)`", text)
    assert started_as, "the page says how the emulator was started"
    grant = re.search(r"^\$ (schemakit endpoint permissions .*--grant .*)$", text, re.MULTILINE)
    assert grant
    shown = text[grant.end() :].split("\n\n", 1)[0].strip().splitlines()
    args = shlex.split(started_as.group(1))[1:]
    mock = subprocess.Popen(
        [sys.executable, "-m", "schemakit", *args, "--token", "dapi-docs"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=cli_env(),
    )
    try:
        assert mock.stdout is not None
        url = mock.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        env = cli_env(DATABRICKS_HOST=url, DATABRICKS_TOKEN="dapi-docs")
        result = run_cli(*shlex.split(grant.group(1))[1:], env=env)
        assert result.returncode == 0, result.stderr
        assert (result.stderr + result.stdout).strip().splitlines() == shown
    finally:
        mock.terminate()
        deadline = time.monotonic() + 10
        while mock.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if mock.poll() is None:
            mock.kill()
        mock.wait()
        if mock.stdout is not None:
            mock.stdout.close()
