"""Shared test helpers: paths to the shipped samples and a runner for the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


def _run_cli(*args: str, input: bytes | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m schemakit ARGS` as a user would; returns the completed process (text mode)."""
    return subprocess.run(
        [sys.executable, "-m", "schemakit", *args],
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.fixture
def run_cli() -> object:
    """`run_cli("inspect", path)` runs `python -m schemakit inspect PATH`; returns CompletedProcess (text)."""
    return _run_cli
