"""`schemakit diff OLD NEW`: what changed between two schemas, and does it break clients."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from schemakit._io import atomic_write_text
from schemakit.cli.common import load_options, load_schema, source_options
from schemakit.core.model import EndpointSchema
from schemakit.core.sources import kind_of
from schemakit.diff import (
    FAIL_ON_CHOICES,
    OUTPUT_FORMATS,
    RULES,
    DiffReport,
    Finding,
    apply_ignores,
    diff_schemas,
    load_ignore_file,
    render_diff,
)
from schemakit.diff.locate import annotation_path, finding_pointer, pointer_line
from schemakit.diff.render import render_gate
from schemakit.runtime.rules import Rule as RuntimeRule
from schemakit.runtime.rules import render_rule_lines

__all__ = ["Comparison", "compare", "diff", "rule_lines"]


def _rule_table() -> str:
    return "\n".join(f"  {rule.id:<30} {rule.severity}" for rule in RULES.values())


def rule_lines() -> str:
    """Every diff rule, one a line: what `schemakit diff --list-rules` prints."""
    rules: list[Any] = list(RULES.values())
    # The diff rules are becoming runtime `Rule`s (one type for every family); until then, the same layout.
    runtime_rules = [rule for rule in rules if isinstance(rule, RuntimeRule)]
    if len(runtime_rules) == len(rules):
        return render_rule_lines(runtime_rules)
    width = max(len(rule.id) for rule in rules)
    return "\n".join(
        f"{rule.id.ljust(width)}  {rule.severity:<8}  {rule.summary}" + (f" ({rule.note})" if rule.note else "")
        for rule in rules
    )


def _is_file(source: str) -> bool:
    return source != "-" and kind_of(source).name == "file" and Path(source).is_file()


def _annotation_target(
    old: str, new: str, old_schema: EndpointSchema, new_schema: EndpointSchema, annotate: str | None
) -> tuple[str | None, Callable[[Finding], int | None] | None]:
    """The repository file annotations go on, and the line of each finding in it.

    NEW when it is a file, else OLD when it is (a committed schema checked against a live
    endpoint or a candidate model): GitHub can place annotations only on files in the repository.
    """
    if annotate is not None:
        source, schema = annotate, new_schema if annotate == new or not _is_file(old) else old_schema
    elif _is_file(new):
        source, schema = new, new_schema
    elif _is_file(old):
        source, schema = old, old_schema
    else:
        return None, None
    relative = annotation_path(source)
    if not Path(source).is_file():
        return relative, None
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return relative, None
    yaml_text = Path(source).suffix.lower() in (".yaml", ".yml")

    def line_of(finding: Finding) -> int | None:
        return pointer_line(text, finding_pointer(finding, schema), yaml_text=yaml_text)

    return relative, line_of


def _emit(text: str, output: str | None, report: DiffReport) -> None:
    if output:
        atomic_write_text(output, text)
        click.echo(f"schemakit diff: {report.summary_line()}; report written to {output}", err=True)
    else:
        click.echo(text, nl=False)


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
@click.argument("old", required=False)
@click.argument("new", required=False)
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
@click.option(
    "--gate",
    is_flag=True,
    help="Deploy gate: OLD is what is live, NEW the candidate; say whether callers break "
    "(requests that worked stop working, responses change shape). Text or markdown.",
)
@click.option(
    "--annotate",
    metavar="FILE",
    help="With --format github: the repository file annotations go on (default: NEW if a file, else OLD if a file).",
)
@click.option(
    "--witnesses",
    "witness_dir",
    metavar="DIR",
    help="Write each breaking change's witness (a payload the old schema accepts and the new one rejects, "
    "or a response old clients cannot read) as a JSON file under DIR.",
)
@click.option("--list-rules", is_flag=True, help="Print every diff rule (id, severity, meaning) and exit.")
@source_options
def diff(
    old: str | None,
    new: str | None,
    output_format: str,
    fail_on: str,
    ignore_file: str | None,
    model_pairs: tuple[str, ...],
    output: str | None,
    gate: bool,
    annotate: str | None,
    witness_dir: str | None,
    list_rules: bool,
    **source: Any,
) -> None:
    """Compare two schemas of an endpoint and report what breaks its clients.

    OLD and NEW are any document source: a file, `-` (only one of them), an
    http(s) URL, git:REV:PATH (for example git:origin/main:schemas/ads.json),
    endpoint:NAME or mlflow:PATH.

    Served models are paired by name, then by name without the version suffix
    (my-model-2 -> my-model-3), then by --model OLD=NEW. Requests must stay
    backward compatible, responses forward compatible.

    With --gate, OLD is the live endpoint (endpoint:NAME, or its committed
    schema) and NEW the candidate (mlflow:models:/NAME/VERSION, or a file from
    `schemakit from-mlflow`): the answer is whether the deploy breaks callers.

    Exits 0 when nothing at or above --fail-on remains, 1 when something does,
    2 when a document cannot be read or is not a serving schema.
    """
    if list_rules:
        click.echo(rule_lines())
        return
    if old is None or new is None:
        missing = "OLD" if old is None else "NEW"
        raise click.UsageError(f"Missing argument '{missing}' (OLD and NEW, or --list-rules)")
    if gate and output_format not in ("text", "markdown"):
        raise click.UsageError("--gate writes text or markdown, not --format " + output_format)
    comparison = compare(old, new, ignore_file=ignore_file, model_pairs=model_pairs, **source)
    report = comparison.report
    if witness_dir is not None or output_format in ("json", "markdown"):
        from schemakit.diff.witness import with_witnesses, write_witnesses

        report = with_witnesses(report, comparison.old_schema, comparison.new_schema)
        if witness_dir is not None:
            written = write_witnesses(witness_dir, report, report.witnesses)
            click.echo(f"schemakit diff: {len(written)} witness file(s) written under {witness_dir}", err=True)
    if gate:
        text = render_gate(report, fail_on=fail_on, markdown=output_format == "markdown")
    elif output_format == "github":
        text = comparison.github(fail_on, annotate=annotate)
    else:
        text = render_diff(report, output_format, fail_on=fail_on)
    _emit(text, output, report)
    sys.exit(1 if report.fails(fail_on) else 0)


@dataclass(frozen=True)
class Comparison:
    """Both sides as named and loaded, and the report: what every output of `diff` (and the Action) renders."""

    old: str
    new: str
    old_schema: EndpointSchema
    new_schema: EndpointSchema
    report: DiffReport

    def github(self, fail_on: str, *, annotate: str | None = None) -> str:
        file, line_of = _annotation_target(self.old, self.new, self.old_schema, self.new_schema, annotate)
        return render_diff(self.report, "github", fail_on=fail_on, file=file, line_of=line_of)


def compare(
    old: str,
    new: str,
    *,
    ignore_file: str | None = None,
    model_pairs: tuple[str, ...] = (),
    **source: Any,
) -> Comparison:
    """Load both sides (a warning on stderr for a document with errors), diff them, apply the ignore file."""
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
    return Comparison(old, new, old_schema, new_schema, report)
