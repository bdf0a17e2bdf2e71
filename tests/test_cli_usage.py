"""Bad usage gets the same one-line error as bad input, with exit code 2."""

from __future__ import annotations

from typing import Any

import pytest

USAGE_ERRORS = [
    (("validate", "--format", "xml", "x.json"), "Invalid value for '--format'", "schemakit validate --help"),
    (("nope",), "No such command 'nope'", "schemakit --help"),
    (("check",), "Missing argument 'SPEC'", "schemakit check --help"),
    (("endpoint", "stop"), "Missing argument 'NAME'", "schemakit endpoint stop --help"),
    (("diff", "a.json", "b.json", "--fail-on", "sometimes"), "Invalid value for '--fail-on'", "schemakit diff --help"),
    (("mock", "--port", "http"), "Invalid value for '--port'", "schemakit mock --help"),
]


@pytest.mark.parametrize(("args", "message", "help_hint"), USAGE_ERRORS, ids=[" ".join(a) for a, _, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line(run_cli: Any, args: tuple[str, ...], message: str, help_hint: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("schemakit: error: ")
    assert message in lines[0]
    assert f"(see '{help_hint}')" in lines[0]
    assert result.stdout == ""


def test_help_and_version_exit_zero(run_cli: Any) -> None:
    assert run_cli("--help").returncode == 0
    version = run_cli("--version")
    assert version.returncode == 0
    assert "schemakit, version" in version.stdout
