"""`schemakit diff OLD NEW`: what changed between two schemas, and does it break clients."""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit._io import atomic_write_text
from schemakit.cli.common import load_options, load_schema, source_options
from schemakit.diff import (
    FAIL_ON_CHOICES,
    OUTPUT_FORMATS,
    RULES,
    apply_ignores,
    diff_schemas,
    load_ignore_file,
    render_diff,
)

__all__ = ["diff"]

_PLAIN_SOURCE_PREFIXES = ("http://", "https://", "git:", "endpoint:", "mlflow:")


def _rule_table() -> str:
    return "\n".join(f"  {rule.id:<30} {rule.severity}" for rule in RULES.values())


def _parse_pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"expected OLD=NEW, got {value!r}", param_hint="--model")
        if old.strip() in pairs:
            raise click.BadParameter(f"{old.strip()!r} is paired twice", param_hint="--model")
        pairs[old.strip()] = new.strip()
    return pairs


@click.command(
    epilog="\b\nRule ids and their severities:\n" + _rule_table(),
)
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(OUTPUT_FORMATS)),
    default="text",
    show_default=True,
    help="Output format: text, json, markdown (a PR comment), github (workflow annotations), junit (XML).",
)
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON_CHOICES)),
    default="breaking",
    show_default=True,
    help="Exit 1 when a finding at or above this severity remains.",
)
@click.option(
    "--ignore",
    "ignore_file",
    metavar="FILE",
    help="YAML or JSON file of accepted changes (rule + where, with a reason and an optional expiry date).",
)
@click.option(
    "--model",
    "model_pairs",
    multiple=True,
    metavar="OLD=NEW",
    help="Compare served model OLD with NEW (repeatable), for renames the version suffix does not explain.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write the report to FILE (atomically) instead of standard output; the summary goes to stderr.",
)
@source_options
def diff(
    old: str,
    new: str,
    output_format: str,
    fail_on: str,
    ignore_file: str | None,
    model_pairs: tuple[str, ...],
    output: str | None,
    **source: Any,
) -> None:
    """Compare two schemas of an endpoint and report what breaks its clients.

    OLD and NEW are any document source: a file, `-` (only one of them), an
    http(s) URL, git:REV:PATH (for example git:origin/main:schemas/ads.json),
    endpoint:NAME or mlflow:PATH.

    Served models are paired by name, then by name without the version suffix
    (my-model-2 -> my-model-3), then by --model OLD=NEW. Requests must stay
    backward compatible, responses forward compatible.

    Exits 0 when nothing at or above --fail-on remains, 1 when something does,
    2 when a document cannot be read or is not a serving schema.
    """
    if old == "-" and new == "-":
        raise click.UsageError("only one of OLD and NEW can be '-' (standard input)")
    pairs = _parse_pairs(model_pairs)
    entries = load_ignore_file(ignore_file) if ignore_file else ()
    options = load_options(**source)
    old_schema = load_schema(old, options, on_errors="warn")
    new_schema = load_schema(new, options, on_errors="warn")
    report = diff_schemas(old_schema, new_schema, model_pairs=pairs)
    if entries:
        report = apply_ignores(report, entries)
    annotated_file = None if new == "-" or new.startswith(_PLAIN_SOURCE_PREFIXES) else new
    text = render_diff(report, output_format, fail_on=fail_on, file=annotated_file)
    if output:
        atomic_write_text(output, text)
        click.echo(f"schemakit diff: {report.summary_line()}; report written to {output}", err=True)
    else:
        click.echo(text, nl=False)
    sys.exit(1 if report.fails(fail_on) else 0)
