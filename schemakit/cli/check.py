"""`schemakit check SPEC PAYLOAD`: does a payload fit the served model(s), and if not, why."""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from schemakit._exceptions import ParseError
from schemakit.check.validator import SERVING_RULES, PayloadReport, compile_validator
from schemakit.cli.common import echo_json, format_option, load_options, load_schema, source_options
from schemakit.core.load import LoadOptions, read_source_bytes

__all__ = ["check"]

#: Payloads can be far larger than documents; a million-row split payload is about 30 MB.
MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024


@click.command()
@click.argument("spec")
@click.argument("payload")
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
    help="Switch a serving rule off (repeatable); see the README for the codes.",
)
@source_options
def check(
    spec: str,
    payload: str,
    model_name: str | None,
    output_format: str,
    max_errors: int,
    disabled: tuple[str, ...],
    **source: Any,
) -> None:
    """Check a request PAYLOAD (a JSON file, or - for standard input) against SPEC.

    With several served models and no --model, the payload is checked against each:
    traffic may reach any of them, so it passes only when every model accepts it.

    Exits 0 when the payload is valid (warnings allowed), 1 when it is invalid,
    2 when the spec or the payload cannot be read.
    """
    schema = load_schema(spec, load_options(**source))
    models = [schema.model(model_name)] if model_name is not None else list(schema.models)
    where = "<stdin>" if payload == "-" else payload
    data = read_source_bytes(payload, LoadOptions(max_bytes=MAX_PAYLOAD_BYTES))
    reports = [compile_validator(m, disable=disabled, max_errors=max_errors).validate_json(data) for m in models]
    for report in reports:
        if report.counts.get("invalid-json"):
            raise _not_json(where, report.problems[0].message)
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
                f"{where}: accepted by {len(accepted)} of {len(reports)} served models"
                + (f" ({', '.join(accepted)})" if accepted else "")
            )
    sys.exit(0 if all(r.ok for r in reports) else 1)


def _echo_text(where: str, report: PayloadReport) -> None:
    for problem in report.problems:
        click.echo(f"{where}: {problem.severity} [{problem.code}] {problem.message}")
    if report.truncated:
        hidden = report.total_errors + report.total_warnings - len(report.problems)
        click.echo(f"{where}: ... {hidden:,} more not listed (--max-errors {len(report.problems)})")
    click.echo(f"{where}: {report.summary()}")


def _not_json(where: str, message: str) -> ParseError:
    match = re.match(r"line (\d+), column (\d+): (.*)", message)
    if match is None:
        return ParseError(f"{where}: {message}")
    line, column = int(match[1]), int(match[2])
    return ParseError(f"{where}:{line}:{column}: {match[3]}", line=line, column=column)
