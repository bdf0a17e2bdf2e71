"""Shared test helpers: paths to the shipped samples and runners for the CLI (in process, or as a real process)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@dataclass
class CliRun:
    """What `subprocess.run(..., capture_output=True, text=True)` returns, for a CLI run in this process."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = field(repr=False, default=b"")
    stderr_bytes: bytes = field(repr=False, default=b"")

    def check_returncode(self) -> None:
        if self.returncode:
            raise subprocess.CalledProcessError(self.returncode, self.args, self.stdout, self.stderr)


def _text(data: bytes) -> str:
    """Bytes as `subprocess.run(text=True)` gives them: UTF-8, universal newlines (a lone CR reads as LF)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """`env` replaces the whole environment, as `subprocess.run(env=...)` does; restored afterwards."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    # sys.exit("message") prints the message and exits 1, as the interpreter does.
    sys.stderr.write(f"{exc.code}\n")
    return 1


#: What `python` without -W or PYTHONWARNINGS filters (see the `warnings` documentation, "Default Warning Filter").
_DEFAULT_WARNING_FILTERS: tuple[tuple[Any, type[Warning]], ...] = (
    ("ignore", DeprecationWarning),
    ("ignore", PendingDeprecationWarning),
    ("ignore", ImportWarning),
    ("ignore", ResourceWarning),
)


def _show_on_stderr(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run_cli_in_process(
    *args: str,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 120,
) -> CliRun:
    """`schemakit ARGS` in this process, through the same error translation as `python -m schemakit`.

    Standard input is `input` (empty when None), stdout and stderr are captured as bytes; `env` replaces the
    environment and `cwd` the working directory for the run. `timeout` is accepted for the subprocess
    runner's signature (pytest-timeout bounds the test).
    """
    from schemakit.cli.main import run

    del timeout
    runner = CliRunner()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment(env))
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd) if sys.version_info >= (3, 11) else _chdir(cwd))
        out, err, _ = stack.enter_context(runner.isolation(input=input))
        # The interpreter's own warning filters, not the suite's "error": a warning is printed on stderr, as a
        # real run prints it (a test that wants none asserts on stderr).
        stack.enter_context(warnings.catch_warnings())
        warnings.resetwarnings()
        warnings.showwarning = _show_on_stderr
        for action, category in _DEFAULT_WARNING_FILTERS:
            warnings.simplefilter(action, category, append=True)
        try:
            code = run(list(args))
        except SystemExit as exc:
            code = _exit_code(exc)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue(), err.getvalue()
    return CliRun(list(args), code, _text(stdout), _text(stderr), stdout, stderr)


@contextlib.contextmanager
def _chdir(path: str | Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def run_cli_process(
    *args: str,
    input: bytes | str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m schemakit ARGS` in a real process, as a user runs it; returns the completed process (text)."""
    return subprocess.run(
        [sys.executable, "-m", "schemakit", *args],
        input=input.decode() if isinstance(input, bytes) else input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        check=False,
    )


# The old name, for helpers that import it.
_run_cli = run_cli_in_process


@pytest.fixture
def run_cli() -> object:
    """`run_cli("inspect", path)` runs `schemakit inspect PATH` in this process; returns a CompletedProcess-like run.

    For what only a real process shows (signals, a real stdin pipe, start-up, servers) use `run_cli_process`.
    """
    return run_cli_in_process


@pytest.fixture(name="run_cli_process")
def run_cli_process_fixture() -> object:
    """`run_cli_process("inspect", path)` runs `python -m schemakit inspect PATH` as a real process."""
    return run_cli_process
