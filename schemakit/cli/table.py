"""`schemakit check-table SPEC TABLE` and `schemakit replay SPEC TABLE`: whole tables and logged traffic."""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit._exceptions import SchemakitError
from schemakit.cli.common import (
    SECONDS,
    echo_json,
    force_option,
    format_option,
    load_options,
    load_schema,
    source_options,
)

__all__ = ["check_table", "replay", "traffic_options", "traffic_settings"]

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


def traffic_options(func: Any) -> Any:
    """How an inference table is read: its columns, served entities and callers (replay and gate)."""
    options = [
        click.option(
            "--column-map",
            "column_map",
            multiple=True,
            metavar="ROLE=COLUMN",
            help="A column of another name: request, status, served_entity, request_metadata, model_name, "
            "model_version, requester, client_request_id, day, time, sampling_fraction, logging_error_codes, "
            "response.",
        ),
        click.option(
            "--served-entity",
            "served_entity",
            multiple=True,
            metavar="ID=NAME",
            help="The served model an AI Gateway served_entity_id (or a legacy MODEL-VERSION) names.",
        ),
        click.option(
            "--served-entities",
            "served_entities_file",
            metavar="FILE",
            help="An export of system.serving.served_entities (served_entity_id, served_entity_name).",
        ),
        click.option(
            "--caller",
            "caller_by",
            type=click.Choice(["requester", "client_request_id", "none"]),
            default=None,
            help="Group findings by this column [default: requester; client_request_id with --caller-prefix].",
        ),
        click.option(
            "--caller-prefix",
            "caller_prefix",
            multiple=True,
            metavar="PREFIX",
            help="A caller is the client_request_id prefix it starts with (repeat for each caller).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def traffic_settings(
    column_map: tuple[str, ...],
    served_entity: tuple[str, ...],
    served_entities_file: str | None,
    caller_by: str | None,
    caller_prefix: tuple[str, ...],
) -> dict[str, Any]:
    """The library's keyword arguments for `traffic_options`."""
    from schemakit.table.inference import load_served_entities, parse_column_map

    entities: dict[str, str] = {}
    if served_entities_file is not None:
        entities.update(load_served_entities(served_entities_file))
    for item in served_entity:
        key, sep, name = item.partition("=")
        if not sep or not key or not name:
            raise SchemakitError(f"--served-entity {item!r}: expected ID=NAME")
        entities[key] = name
    return {
        "column_map": parse_column_map(column_map),
        "served_entities": entities,
        "caller_by": caller_by,
        "caller_prefixes": tuple(caller_prefix) if caller_prefix else None,
    }


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
@traffic_options
@click.option(
    "--against",
    metavar="TARGET",
    help="Shadow replay: resend a bounded sample of answered requests to TARGET (a URL, endpoint:NAME, "
    "mlflow:PATH or mock, serving SPEC) and compare its answers with the logged ones.",
)
@click.option(
    "--budget", type=click.IntRange(min=1), default=60, show_default=True, help="--against: requests at most."
)
@click.option(
    "--rate", type=click.FloatRange(min=0), default=10.0, show_default=True, help="--against: requests a second."
)
@click.option(
    "--concurrency", type=click.IntRange(min=1, max=64), default=2, show_default=True, help="--against: at once."
)
@click.option(
    "--deadline", type=SECONDS, default=120.0, show_default=True, help="--against: seconds for the whole run."
)
@click.option("--request-timeout", type=SECONDS, default=30.0, show_default=True, help="--against: seconds each.")
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=1e-6,
    show_default=True,
    help="--against: numbers this close (relative, or absolute near 0) are the same.",
)
@click.option(
    "--target-header",
    "target_headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="--against: a header sent to a URL target (repeatable), only to the target's own host.",
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
    column_map: tuple[str, ...],
    served_entity: tuple[str, ...],
    served_entities_file: str | None,
    caller_by: str | None,
    caller_prefix: tuple[str, ...],
    against: str | None,
    budget: int,
    rate: float,
    concurrency: int,
    deadline: float,
    request_timeout: float,
    tolerance: float,
    target_headers: tuple[str, ...],
    force: bool,
    **source: Any,
) -> None:
    """Check every logged request in TABLE (an inference table, JSON Lines, Parquet) against SPEC.

    Reads the AI Gateway and legacy inference-table layouts (recognised by their columns)
    and checks each request against the served model that answered it (or --model NAME).
    Reports how many would be rejected, grouped by served model, rule and column, and by
    caller and day, with examples; unlogged bodies are counted as such. Exits 1 when any
    request that succeeded when logged (status 200, when the table has a status column;
    every request otherwise) would be rejected, 0 when none would, 2 when SPEC or TABLE
    cannot be read.

    With --against TARGET (shadow replay), a bounded, rate-limited sample of the requests
    answered with 200 (spread over callers) is sent to TARGET, and each answer compared with the
    logged response: the same keys and types, numbers within --tolerance, ids and timestamps
    ignored. Reports what changed, per caller; exits 1 when any answer changed.
    """
    routing = (column_map, served_entity, served_entities_file, caller_by, caller_prefix)
    if against is not None:
        if engine == "spark":
            raise click.UsageError("--against needs --engine arrow")
        from schemakit.table.shadow import shadow_replay

        options_in = load_options(**source)
        settings = traffic_settings(*routing)
        try:
            shadow = shadow_replay(
                table,
                load_schema(spec, options_in, force=force),
                against,
                model=model_name,
                served_entities=settings["served_entities"],
                column_map=settings["column_map"],
                caller_by=settings["caller_by"],
                caller_prefixes=settings["caller_prefixes"],
                budget=budget,
                rate=rate,
                concurrency=concurrency,
                deadline=deadline,
                request_timeout=request_timeout,
                tolerance=tolerance,
                headers=load_options(headers=target_headers).headers if target_headers else None,
                host=source.get("host"),
                token=source.get("token"),
                profile=source.get("profile"),
            )
        except ImportError as exc:
            raise _tables_missing(exc) from None
        if output_format == "json":
            echo_json(shadow.to_json())
        else:
            click.echo(shadow.to_text())
        sys.exit(0 if shadow.ok else 1)
    if engine == "spark" and any(routing):
        raise click.UsageError(
            "--column-map, --served-entity, --served-entities, --caller and --caller-prefix need --engine arrow"
        )
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
            from schemakit.table.replayer import replay as run

            report = run(table, schema, model=model_name, **options, **traffic_settings(*routing))
    except ImportError as exc:
        raise _tables_missing(exc) from None
    if output_format == "json":
        echo_json(report.to_json())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.ok else 1)
