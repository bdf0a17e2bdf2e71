"""`schemakit gate --live SPEC --candidate SPEC --traffic TABLE`: which real callers a deploy would break."""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit._exceptions import SchemakitError
from schemakit.cli.common import echo_json, format_option, load_options, load_schema, source_options
from schemakit.cli.table import traffic_options, traffic_settings

__all__ = ["gate"]


@click.command("gate")
@click.option("--live", "live", required=True, metavar="SPEC", help="The schema the endpoint serves now.")
@click.option("--candidate", "candidate", required=True, metavar="SPEC", help="The schema about to be deployed.")
@click.option(
    "--traffic",
    "traffic",
    required=True,
    metavar="TABLE",
    help="The live endpoint's inference table (Parquet, Delta, JSON Lines, ...).",
)
@click.option(
    "--model",
    "model_pairs",
    multiple=True,
    metavar="LIVE=CANDIDATE",
    help="Pair a live served model with its candidate counterpart (default: same name, or its new version).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["callers", "unexercised", "breaking", "never"]),
    default="callers",
    show_default=True,
    help="Exit 1 when a caller breaks (callers); also on a breaking change no request exercises (unexercised); "
    "also on any breaking change (breaking); never.",
)
@format_option("text", "json", "markdown")
@click.option(
    "--max-examples", type=click.IntRange(min=0), default=3, show_default=True, help="Examples per caller and rule."
)
@traffic_options
@source_options
def gate(
    live: str,
    candidate: str,
    traffic: str,
    model_pairs: tuple[str, ...],
    fail_on: str,
    output_format: str,
    max_examples: int,
    column_map: tuple[str, ...],
    served_entity: tuple[str, ...],
    served_entities_file: str | None,
    caller_by: str | None,
    caller_prefix: tuple[str, ...],
    **source: Any,
) -> None:
    """Replay the live endpoint's logged traffic against a candidate schema: which callers would break?

    Each logged request goes to the candidate's counterpart of the served model that
    answered it; it breaks when it succeeded when logged, the live schema accepts it and
    the candidate rejects it. Names the callers that would break (requests per day, first
    examples, rule), those that would not, and the breaking changes of `diff` that no logged
    request exercises (a warning). Exits 1 when a caller would break (or as --fail-on says),
    0 when none would, 2 when an input cannot be read.
    """
    options = load_options(**source)
    live_schema = load_schema(live, options)
    candidate_schema = load_schema(candidate, options)
    pairs: dict[str, str] = {}
    for item in model_pairs:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise SchemakitError(f"--model {item!r}: expected LIVE=CANDIDATE")
        pairs[old] = new
    try:
        from schemakit.table.gate import gate as run

        report = run(
            live_schema,
            candidate_schema,
            traffic,
            model_pairs=pairs,
            max_examples=max_examples,
            fail_on=fail_on,
            **traffic_settings(column_map, served_entity, served_entities_file, caller_by, caller_prefix),
        )
    except ImportError as exc:
        raise SchemakitError(f"{exc.name or 'pyarrow'} is not installed: pip install 'schemakit[tables]'") from None
    if output_format == "json":
        echo_json(report.to_json())
    elif output_format == "markdown":
        click.echo(report.to_markdown(), nl=False)
    else:
        click.echo(report.to_text())
    sys.exit(1 if report.failed else 0)
