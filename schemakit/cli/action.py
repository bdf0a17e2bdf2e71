"""The step the GitHub Action (`action.yml`) runs: `python -m schemakit.cli.action`.

The composite action only sets up Python, installs schemakit and runs this module with its inputs
in `SCHEMAKIT_*` variables (never interpolated into shell text). Everything else lives here, so a
test runs exactly what the action runs:

- `diff` and `deploy-gate`: compare OLD with NEW once, write the Markdown report to a file and to
  `$GITHUB_STEP_SUMMARY`, print annotations on the repository file, set the outputs `breaking`,
  `warnings`, `failed` and `report-path` in `$GITHUB_OUTPUT`, exit 1 when `fail-on` says so;
- `codegen-check`: `schemakit codegen NEW -o OUTPUT --check`, with a summary and an annotation.

Exit codes as everywhere: 0 ok, 1 a finding, 2 cannot run (then an `::error` says why).
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import click

from schemakit._exceptions import SchemakitError
from schemakit.diff import FAIL_ON_CHOICES, render_markdown
from schemakit.diff.render import gh_data, gh_property, md_code, md_text, render_gate
from schemakit.runtime.text import terminal

__all__ = ["DEFAULT_IGNORE_FILE", "MODES", "ActionInputs", "main", "run"]

MODES = ("diff", "deploy-gate", "codegen-check")
#: Used when the `ignore` input is empty and this file exists: a missing default is no error.
DEFAULT_IGNORE_FILE = ".schemakit-diff-ignore.yaml"


#: Options that end a command before it checks anything (and exit 0): never accepted in `args`.
_NEVER_IN_ARGS = frozenset({"-h", "--help", "--version"})


class ActionError(SchemakitError):
    """The action's inputs are wrong."""


@dataclass(frozen=True)
class ActionInputs:
    mode: str
    old: str
    new: str
    fail_on: str
    ignore: str
    output: str
    args: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionInputs:
        def get(name: str, default: str = "") -> str:
            return env.get(f"SCHEMAKIT_{name}", default).strip() or default

        mode, fail_on = get("MODE", "diff"), get("FAIL_ON", "breaking")
        if mode not in MODES:
            raise ActionError(f"input mode: {mode!r} is not one of {', '.join(MODES)}")
        if fail_on not in FAIL_ON_CHOICES:
            raise ActionError(f"input fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON_CHOICES)}")
        try:
            args = tuple(shlex.split(get("ARGS")))
        except ValueError as exc:
            raise ActionError(f"input args: {exc}") from None
        inputs = cls(mode, get("OLD"), get("NEW"), fail_on, get("IGNORE"), get("OUTPUT"), args)
        for name in ("old", "new", "ignore", "output"):
            value = getattr(inputs, name)
            if value.startswith("-"):
                # Passed on as an argument, `--help` would make the step print usage and pass.
                raise ActionError(
                    f"input {name}: {value!r} looks like an option, not a file or source "
                    f"(name a file that starts with '-' as ./{value})"
                )
        for arg in args:
            if arg in _NEVER_IN_ARGS or arg.startswith(("--help=", "--version=")):
                raise ActionError(f"input args: {arg} would stop the check before it runs")
        if not inputs.new:
            raise ActionError("input new is required")
        if mode != "codegen-check" and not inputs.old:
            raise ActionError(f"input old is required in mode {mode}")
        if mode == "codegen-check" and not inputs.output:
            raise ActionError("input output (the generated client's folder) is required in mode codegen-check")
        return inputs


class _Runner:
    """Where the step writes: the summary, the outputs, the report; all named by the runner's variables."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def append(self, variable: str, text: str) -> None:
        path = self.env.get(variable)
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(text)

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        lines = []
        for name, value in outputs.items():
            # The multi-line form, with a delimiter no value can contain.
            delimiter = f"schemakit_{secrets.token_hex(8)}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        self.append("GITHUB_OUTPUT", "".join(lines))

    def report_path(self, name: str) -> Path:
        base = Path(self.env.get("RUNNER_TEMP") or tempfile.gettempdir()) / "schemakit"
        base.mkdir(parents=True, exist_ok=True)
        return base / name


def _ignore_file(inputs: ActionInputs) -> str | None:
    if inputs.ignore:
        return inputs.ignore  # named: it must exist, and load_ignore_file says so when it does not
    return DEFAULT_IGNORE_FILE if Path(DEFAULT_IGNORE_FILE).is_file() else None


def _diff_params(inputs: ActionInputs) -> dict[str, object]:
    """The `args` input parsed by `schemakit diff`'s own options, so they mean what they mean there."""
    from schemakit.cli.diff import diff

    ignore = _ignore_file(inputs)
    argv = [inputs.old, inputs.new, *(["--ignore", ignore] if ignore else []), *inputs.args]
    with diff.make_context("schemakit diff", argv) as ctx:
        params = dict(ctx.params)
    for option in ("output_format", "output", "gate", "list_rules"):
        if params.get(option) not in (None, False, "text"):
            raise ActionError(f"input args: {option.replace('_', '-')} is set by the action, not by args")
    return params


def _run_diff(inputs: ActionInputs, runner: _Runner) -> int:
    from schemakit.cli.diff import compare

    params = _diff_params(inputs)
    annotate = params.pop("annotate", None)
    fail_on = inputs.fail_on
    for option in ("old", "new", "output_format", "output", "gate", "list_rules", "fail_on"):
        params.pop(option, None)
    comparison = compare(inputs.old, inputs.new, **params)  # type: ignore[arg-type]
    report = comparison.report
    markdown = render_markdown(report, fail_on=fail_on)
    if inputs.mode == "deploy-gate":
        markdown = render_gate(report, fail_on=fail_on, markdown=True) + "\n" + markdown
    path = runner.report_path("diff-report.md" if inputs.mode == "diff" else "deploy-gate.md")
    path.write_text(markdown, encoding="utf-8")
    runner.append("GITHUB_STEP_SUMMARY", markdown + "\n")
    click.echo(comparison.github(fail_on, annotate=annotate if isinstance(annotate, str) else None), nl=False)
    failed = report.fails(fail_on)
    runner.set_outputs(
        {
            "breaking": str(report.count("breaking")),
            "warnings": str(report.count("warning")),
            "failed": "true" if failed else "false",
            "report-path": str(path),
        }
    )
    return 1 if failed else 0


def _run_codegen_check(inputs: ActionInputs, runner: _Runner) -> int:
    # The source after `--`, the folder as `--output=`: neither can be read as an option.
    command = [
        sys.executable,
        "-m",
        "schemakit",
        "codegen",
        f"--output={inputs.output}",
        "--check",
        *inputs.args,
        "--",
        inputs.new,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stderr.write(result.stderr)
    sys.stdout.write(result.stdout)
    details = (result.stdout + result.stderr).strip()
    if result.returncode == 0:
        markdown = f"### Generated client: ✅ {md_code(inputs.output)} is in sync with {md_code(inputs.new)}\n"
    else:
        verdict = "❌ out of date" if result.returncode == 1 else "❌ could not check"
        markdown = (
            f"### Generated client: {verdict}\n\n{md_code(inputs.output)} against {md_code(inputs.new)}:\n\n"
            + "".join(f"    {line}\n" for line in details.splitlines())
        )
        first = details.splitlines()[0] if details else "schemakit codegen --check failed"
        click.echo(f"::error title={gh_property('schemakit codegen --check')}::{gh_data(first)}")
    path = runner.report_path("codegen-check.md")
    path.write_text(markdown, encoding="utf-8")
    runner.append("GITHUB_STEP_SUMMARY", markdown + "\n")
    runner.set_outputs(
        {
            "breaking": "0",
            "warnings": "0",
            "failed": "false" if result.returncode == 0 else "true",
            "report-path": str(path),
        }
    )
    return result.returncode


def run(env: Mapping[str, str] | None = None) -> int:
    """Run the action's step with the inputs in `env` (default: the process environment); the exit code."""
    env = os.environ if env is None else env
    runner = _Runner(env)
    try:
        inputs = ActionInputs.from_env(env)
        if inputs.mode == "codegen-check":
            return _run_codegen_check(inputs, runner)
        return _run_diff(inputs, runner)
    except (SchemakitError, click.ClickException) as exc:
        message = " ".join(exc.format_message().split())
        code = exc.exit_code if isinstance(exc, SchemakitError) else 2
    click.echo(terminal(f"schemakit: error: {message}"), err=True)
    click.echo(f"::error title={gh_property('schemakit')}::{gh_data(message)}")
    runner.append("GITHUB_STEP_SUMMARY", f"### schemakit: ❌ could not run\n\n{md_text(message)}\n")
    return code


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
