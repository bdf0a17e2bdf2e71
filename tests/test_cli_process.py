"""A few real `python -m schemakit` runs: the in-process runner the other tests use says what a user sees.

Every other CLI test runs the command in process (`run_cli`); these check, for each kind of outcome (ok,
finding, cannot run, bad usage, standard input), that a real process gives the same exit code and the same
bytes on stdout and stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DOC = str(SAMPLES / "docs-example-dataframe.json")

CASES = [
    ("--version",),
    ("validate", DOC),
    ("inspect", DOC, "--format", "json"),
    ("validate", str(SAMPLES / "invalid" / "no-invocations.json")),
    ("validate", str(SAMPLES / "no-such-file.json")),
    ("inspect", DOC, "--format", "xml"),
    ("no-such-command",),
]


@pytest.mark.parametrize("args", CASES, ids=lambda args: " ".join(Path(a).name for a in args))
def test_a_real_process_and_the_in_process_runner_agree(run_cli: Any, run_cli_process: Any, args: tuple[str, ...]) -> None:
    real = run_cli_process(*args)
    inside = run_cli(*args)
    assert (inside.returncode, inside.stdout, inside.stderr) == (real.returncode, real.stdout, real.stderr)
    assert "Traceback" not in real.stderr


def test_standard_input_through_a_real_pipe(run_cli: Any, run_cli_process: Any) -> None:
    data = Path(DOC).read_bytes()
    real = run_cli_process("inspect", "-", input=data)
    assert real.returncode == 0, real.stderr
    assert real.stdout == run_cli("inspect", "-", input=data).stdout


def test_the_installed_entry_point_module_runs_main(run_cli_process: Any) -> None:
    # `python -m schemakit` with no command prints the usage and exits 0 (click's group behaviour, kept).
    real = run_cli_process("--help")
    assert real.returncode == 0
    assert real.stdout.startswith("Usage: schemakit")
