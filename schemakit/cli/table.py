"""`schemakit check-table SPEC TABLE` and `schemakit replay SPEC TABLE`: whole tables and logged traffic."""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit._exceptions import SchemakitError
from schemakit.cli.common import echo_json, force_option, format_option, load_options, load_schema, source_options

__all__ = ["check_table", "replay"]

_ENGINE = click.option(
    "--engine",
    type=click.Choice(["arrow", "spark"]),
    default="arrow",
    show_default=True,
    help="arrow: one machine, streaming record batches; spark: a local Spark session, or --spark-remote.",
)
_REMOTE = click.option("--spark-remote", metavar="sc://HOST:PORT", help="Spark Connect server for --engine spark.")


def _tables_missing(exc: ImportError) -> SchemakitError:
    return SchemakitError(
        f"{exc.name or 'pyarrow'} is not installed: pip install 'schemakit[tables]' (and [spark] for Spark)"
    )


def _list_rules(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from schemakit.runtime.rules import render_rule_lines

    try:
        from schemakit.table.rules import TABLE_RULES
    except ImportError as exc:
        raise _tables_missing(exc) from None
    click.echo(render_rule_lines(TABLE_RULES))
    ctx.exit(0)


@click.command("check-table")
@click.argument("spec")
@click.argument("table")
@click.option("--model", "model_name", metavar="NAME", help="The served model (needed when SPEC serves several).")
@_ENGINE
@format_option("text", "json")
@click.option("--columns", metavar="A,B,...", help="Only these table columns go into requests (comma-separated).")
@click.option(
    "--max-rows-per-finding",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Rows (and values) listed per column and rule; all are counted.",
)
@_REMOTE
@click.option(
    "--list-rules",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_rules,
    help="List the rules and exit.",
)
@force_option
@source_options
def check_table(
    spec: str,
    table: str,
    model_name: str | None,
    engine: str,
    output_format: str,
    columns: str | None,
    max_rows_per_finding: int,
    spark_remote: str | None,
    force: bool,
    **source: Any,
) -> None:
    """Check a TABLE (Parquet file or folder, CSV, JSON Lines, Arrow IPC, Delta) against SPEC.

    Applies `check`'s rules column by column; reports per column and rule the count,
    the first rows and their values, and the largest rows-per-request under the
    endpoint's request limit. Exits 0 when no rule fails (warnings allowed), 1 when
    one does, 2 when SPEC or TABLE cannot be read.
    """
    schema = load_schema(spec, load_options(**source), force=force)
    selected = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    try:
        if engine == "spark":
            from schemakit.spark.engine import check_table as run_spark

            # The table is opened (and refused, if it must be) before a session starts.
            report = run_spark(
                table,
                schema,
                model_name,
                remote=spark_remote,
                columns=selected,
                max_rows_per_finding=max_rows_per_finding,
            )
        else:
            from schemakit.table.engine import check_table as run

            report = run(table, schema, model=model_name, columns=selected, max_rows_per_finding=max_rows_per_finding)
    except ImportError as exc:
        raise _tables_missing(exc) from None
    if output_format == "json":
        echo_json(report.to_json())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)


@click.command("replay")
@click.argument("spec")
@click.argument("table")
@click.option("--column", default="request", show_default=True, help="The column of logged request bodies (JSON).")
@click.option(
    "--status-column",
    default=None,
    metavar="NAME",
    help="The column of logged response statuses [default: status_code, when the table has it].",
)
@click.option("--model", "model_name", metavar="NAME", help="The served model (needed when SPEC serves several).")
@_ENGINE
@format_option("text", "json")
@click.option(
    "--max-examples", type=click.IntRange(min=0), default=5, show_default=True, help="Examples per rule and column."
)
@_REMOTE
@force_option
@source_options
def replay(
    spec: str,
    table: str,
    column: str,
    status_column: str | None,
    model_name: str | None,
    engine: str,
    output_format: str,
    max_examples: int,
    spark_remote: str | None,
    force: bool,
    **source: Any,
) -> None:
    """Check every logged request in TABLE (an inference table, JSON Lines, Parquet) against SPEC.

    Reports how many would be rejected, grouped by rule and column, with examples.
    Exits 1 when any request that succeeded when logged (status 200, when the table
    has a status column; every request otherwise) would be rejected, 0 when none
    would, 2 when SPEC or TABLE cannot be read.
    """
    schema = load_schema(spec, load_options(**source), force=force)
    options: dict[str, Any] = {
        "column": column,
        "status_column": status_column or "status_code",
        "status_explicit": status_column is not None,
        "max_examples": max_examples,
    }
    try:
        if engine == "spark":
            from schemakit.spark.engine import replay_table

            report = replay_table(table, schema, model_name, remote=spark_remote, **options)
        else:
            from schemakit.table.replay import replay as run

            report = run(table, schema, model=model_name, **options)
    except ImportError as exc:
        raise _tables_missing(exc) from None
    if output_format == "json":
        echo_json(report.to_json())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)
