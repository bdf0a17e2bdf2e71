"""`schemakit check SPEC PAYLOAD`: does a payload fit the served model(s), and if not, why."""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit._exceptions import ParseError
from schemakit.check.validator import SERVING_RULES, PayloadReport, Problem, compile_validator
from schemakit.cli.common import echo_json, force_option, format_option, load_options, load_schema, source_options
from schemakit.core.load import LoadOptions, read_source_bytes
from schemakit.runtime.payload_rules import PAYLOAD_RULES, SCHEMA_RULES
from schemakit.runtime.rules import render_rule_lines
from schemakit.runtime.text import terminal

__all__ = ["check"]

#: Payloads can be far larger than documents; a million-row split payload is about 30 MB.
MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024


def rule_lines() -> str:
    """Every payload rule, one a line: what `schemakit check --list-rules` prints."""
    return (
        "Serving rules (switch off with --disable CODE):\n"
        + render_rule_lines(PAYLOAD_RULES)
        + "\n\nJSON Schema problems (what the schema says; always on):\n"
        + render_rule_lines(SCHEMA_RULES)
    )


@click.command()
@click.argument("spec", required=False)
@click.argument("payload", required=False)
@click.option("--model", "model_name", metavar="NAME", help="Check against this served model only.")
@format_option("text", "json")
@click.option(
    "--max-errors",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Problems to list per model (all are counted).",
)
@click.option(
    "--disable",
    "disabled",
    multiple=True,
    type=click.Choice(sorted(SERVING_RULES)),
    metavar="CODE",
    help="Switch a serving rule off (repeatable); --list-rules prints the codes.",
)
@click.option("--strict", is_flag=True, help="Make float-for-integer (1.0 for an integer) an error, not a warning.")
@click.option(
    "--max-request-bytes",
    type=click.IntRange(min=1),
    metavar="N",
    help="The endpoint's request size limit (default: 16 MB; 4 MB for foundation-model and agent endpoints).",
)
@click.option("--list-rules", is_flag=True, help="Print every payload rule (code, severity, meaning) and exit.")
@force_option
@source_options
def check(
    spec: str | None,
    payload: str | None,
    model_name: str | None,
    output_format: str,
    max_errors: int,
    disabled: tuple[str, ...],
    strict: bool,
    max_request_bytes: int | None,
    list_rules: bool,
    force: bool,
    **source: Any,
) -> None:
    """Check a request PAYLOAD (a JSON file, or - for standard input) against SPEC.

    With several served models and no --model, the payload is checked against each:
    traffic may reach any of them, so it passes only when every model accepts it.

    Exits 0 when the payload is valid (warnings allowed), 1 when it is invalid,
    2 when the spec or the payload cannot be read.
    """
    if list_rules:
        click.echo(rule_lines())
        return
    if spec is None or payload is None:
        missing = "SPEC" if spec is None else "PAYLOAD"
        raise click.UsageError(f"Missing argument '{missing}' (SPEC and PAYLOAD, or --list-rules)")
    schema = load_schema(spec, load_options(**source), force=force)
    models = [schema.model(model_name)] if model_name is not None else list(schema.models)
    where = "<stdin>" if payload == "-" else payload
    data = read_source_bytes(payload, LoadOptions(max_bytes=MAX_PAYLOAD_BYTES))
    reports = [
        compile_validator(
            m, disable=disabled, max_errors=max_errors, strict=strict, max_request_bytes=max_request_bytes
        ).validate_json(data)
        for m in models
    ]
    for report in reports:
        if report.counts.get("invalid-json"):
            raise _not_json(where, report.problems[0])
    if output_format == "json":
        echo_json(
            {
                "payload": where,
                "ok": all(r.ok for r in reports),
                "accepted_by": [r.model for r in reports if r.ok],
                "models": [r.to_json() for r in reports],
            }
        )
    else:
        for report in reports:
            _echo_text(f"{where}: {report.model}" if len(reports) > 1 else where, report)
        if len(reports) > 1:
            accepted = [r.model for r in reports if r.ok]
            click.echo(
                terminal(
                    f"{where}: accepted by {len(accepted)} of {len(reports)} served models"
                    + (f" ({', '.join(accepted)})" if accepted else "")
                )
            )
    sys.exit(0 if all(r.ok for r in reports) else 1)


def _echo_text(where: str, report: PayloadReport) -> None:
    # Payload keys and values reach these lines: escaped, so a newline or an ESC cannot forge output.
    shown_where = terminal(where)
    for problem in report.problems:  # errors first: the engine lists them before warnings
        click.echo(f"{shown_where}: {problem.severity} [{problem.code}] {terminal(problem.message)}")
    if report.truncated:
        hidden = report.total_errors + report.total_warnings - len(report.problems)
        click.echo(f"{shown_where}: ... {hidden:,} more not listed (--max-errors {len(report.problems)})")
    click.echo(f"{shown_where}: {terminal(report.summary())}")


def _not_json(where: str, problem: Problem) -> ParseError:
    if problem.line is None or problem.col is None:
        return ParseError(f"{where}: {problem.message}")
    reason = problem.message.removeprefix(f"line {problem.line}, column {problem.col}: ")
    return ParseError(f"{where}:{problem.line}:{problem.col}: {reason}", line=problem.line, column=problem.col)
