"""The `schemakit` command line: a thin layer over the library.

Exit codes, for every command: 0 ok (warnings allowed), 1 a finding (an invalid
document or payload, a breaking change, a file that is out of date), 2 cannot
run (unreadable input, bad usage, unreachable workspace).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from schemakit._exceptions import SchemakitError
from schemakit._version import __version__
from schemakit.cli.common import echo_json, format_option, load_options, load_schema, source_options
from schemakit.core.inspect import describe, render_text
from schemakit.core.load import display_name
from schemakit.core.validate import validate_document
from schemakit.runtime.text import terminal

__all__ = ["cli", "main", "run"]

#: Commands whose modules are imported only when used, so start-up stays fast.
LAZY_COMMANDS: dict[str, str] = {
    "check": "schemakit.cli.check:check",
    "codegen": "schemakit.cli.codegen:codegen",
    "diff": "schemakit.cli.diff:diff",
    "mock": "schemakit.cli.mock:mock",
    "fetch": "schemakit.cli.workspace:fetch",
    "endpoint": "schemakit.cli.workspace:endpoint",
    "from-mlflow": "schemakit.cli.mlflow:from_mlflow",
    "check-table": "schemakit.cli.table:check_table",
    "replay": "schemakit.cli.table:replay",
    "gate": "schemakit.cli.gate:gate",
    "probe": "schemakit.cli.probe:probe",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole one-line description (click would cut it to fit one line)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="schemakit")
def cli() -> None:
    """Tools for the query schemas of model serving endpoints.

    SPEC, wherever a command takes one, is a file (JSON or YAML), `-` for standard
    input, an http(s) URL, git:REV:PATH, endpoint:[PROFILE/]NAME or mlflow:PATH.

    Exit codes: 0 ok, 1 a finding (invalid document or payload, breaking change),
    2 cannot run (unreadable input, bad usage, unreachable workspace).
    """


@cli.command()
@click.argument("spec", required=False)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--list-rules", is_flag=True, help="Print every document rule (code, severity, meaning) and exit.")
@format_option("text", "json")
@source_options
def validate(spec: str | None, strict: bool, list_rules: bool, output_format: str, **source: Any) -> None:
    """Check a document: OpenAPI structure, then the serving rules.

    Exits 0 when there are no errors (warnings allowed), 1 when the document has
    errors (or warnings, with --strict), 2 when it cannot be read.
    """
    if list_rules:
        from schemakit.core.lint import DOCUMENT_RULES
        from schemakit.runtime.rules import render_rule_lines

        click.echo(render_rule_lines(DOCUMENT_RULES))
        return
    if spec is None:
        raise click.UsageError("Missing argument 'SPEC' (or --list-rules)")
    report = validate_document(spec, strict=strict, options=load_options(**source))
    if output_format == "json":
        echo_json(report.to_json())
    else:
        # A URL may carry credentials or a signed query string: name it without them.
        name = display_name(spec)
        for diagnostic in report.diagnostics:
            # Pointers and messages quote the document: one line each, controls written visibly.
            line = (
                f"{name}: {diagnostic.severity} [{diagnostic.code}] {diagnostic.pointer or '/'}: {diagnostic.message}"
            )
            click.echo(terminal(line))
        errors = sum(1 for d in report.diagnostics if d.severity == "error")
        verdict = "ok" if report.ok else "invalid"
        models = len(report.schema.models)
        click.echo(
            f"{name}: {verdict}: {models} served model(s), {errors} error(s), {len(report.warnings)} warning(s)"
            + (" (strict: warnings count as errors)" if strict and report.warnings else "")
        )
    sys.exit(0 if report.ok else 1)


@cli.command()
@click.argument("spec")
@format_option("text", "json")
@source_options
def inspect(spec: str, output_format: str, **source: Any) -> None:
    """Show the served models, their input formats, columns, params and responses."""
    schema = load_schema(spec, load_options(**source), on_errors="warn")
    if output_format == "json":
        echo_json(describe(schema))
    else:
        click.echo(render_text(schema))


def run(argv: list[str] | None = None) -> int:
    """Run the command line and translate every error into one line on stderr; returns the exit code.

    The one error translation: `main()` exits with its code, and the tests call it in process.
    """
    try:
        result = cli.main(args=argv, prog_name="schemakit", standalone_mode=False)
    except SchemakitError as exc:
        # Messages quote documents, payloads and servers: each line escaped for the terminal.
        lines = exc.format_message().splitlines() or [type(exc).__name__]
        click.echo("\n".join(terminal(line) for line in [f"schemakit: error: {lines[0]}", *lines[1:]]), err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("schemakit: aborted", err=True)
        return 2
    except click.UsageError as exc:
        # One line, like every other error: what is wrong, and where to read how to call it.
        command = exc.ctx.command_path if exc.ctx is not None else "schemakit"
        message = " ".join(exc.format_message().split())
        click.echo(terminal(f"schemakit: error: {message} (see '{command} --help')"), err=True)
        return 2
    except click.ClickException as exc:
        click.echo(terminal(f"schemakit: error: {' '.join(exc.format_message().split())}"), err=True)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("schemakit: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        sys.stderr.close()
        return 0
    except Exception as exc:
        if os.environ.get("SCHEMAKIT_DEBUG"):
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(
            terminal(
                f"schemakit: internal error: {type(exc).__name__}: {message[:300]} (set SCHEMAKIT_DEBUG=1 for details)"
            ),
            err=True,
        )
        return 2
    return result if isinstance(result, int) else 0


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with documented exit codes, never a traceback."""
    sys.exit(run(argv))
