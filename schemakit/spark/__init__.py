"""Checking tables with Spark: `check_table(path, schema)` and `check_dataframe(df, schema)`.

    >>> from schemakit.spark import check_dataframe
    >>> report = check_dataframe(spark.read.table("main.features"), "schema.json")  # doctest: +SKIP
    >>> report.ok, [(f.column, f.code, f.rows) for f in report.findings]  # doctest: +SKIP

Both return the report `schemakit check-table` prints (`schemakit.table.TableReport`).
`check_table` reads a table as the Arrow engine does, in parts spread over Spark's tasks, and
numbers rows as the Arrow engine does; `check_dataframe` numbers rows by their position in the
DataFrame, or by a column you name (`id_column=`). pyspark is imported only when these
functions are called (`pip install schemakit[spark]`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from schemakit.core.model import EndpointSchema, ServedModel
    from schemakit.table.replayer import ReplayReport
    from schemakit.table.report import TableReport

__all__ = [
    "FILE_ROW_NUMBERS",
    "ROW_NUMBERS",
    "check_dataframe",
    "check_table",
    "replay_dataframe",
    "replay_table",
    "session",
]

ROW_NUMBERS = "position in the DataFrame (partitions in order, rows in order within each), from 0"
FILE_ROW_NUMBERS = "position in the table, from 0"


def check_dataframe(
    df: DataFrame,
    schema: EndpointSchema | ServedModel | str | os.PathLike[str],
    model: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    max_rows_per_finding: int = 5,
    id_column: str | None = None,
    source: str = "<dataframe>",
) -> TableReport:
    """Check a Spark DataFrame against a served model; see `schemakit.spark.engine.check_dataframe`."""
    from schemakit.spark.engine import check_dataframe as run

    return run(
        df,
        schema,
        model,
        columns=columns,
        max_rows_per_finding=max_rows_per_finding,
        id_column=id_column,
        source=source,
    )


def check_table(
    table: str | os.PathLike[str],
    schema: EndpointSchema | ServedModel | str | os.PathLike[str],
    model: str | None = None,
    *,
    spark: SparkSession | None = None,
    remote: str | None = None,
    columns: Sequence[str] | None = None,
    max_rows_per_finding: int = 5,
) -> TableReport:
    """Check a table on disk with Spark's tasks; see `schemakit.spark.engine.check_table`."""
    from schemakit.spark.engine import check_table as run

    return run(
        table, schema, model, spark=spark, remote=remote, columns=columns, max_rows_per_finding=max_rows_per_finding
    )


def replay_dataframe(
    df: DataFrame,
    schema: EndpointSchema | ServedModel | str | os.PathLike[str],
    model: str | None = None,
    *,
    column: str = "request",
    status_column: str | None = "status_code",
    max_examples: int = 5,
    source: str = "<dataframe>",
) -> ReplayReport:
    """Replay logged requests held in a Spark DataFrame; see `schemakit.spark.engine.replay_dataframe`."""
    from schemakit.spark.engine import replay_dataframe as run

    return run(df, schema, model, column=column, status_column=status_column, max_examples=max_examples, source=source)


def replay_table(
    table: str | os.PathLike[str],
    schema: EndpointSchema | ServedModel | str | os.PathLike[str],
    model: str | None = None,
    *,
    spark: SparkSession | None = None,
    remote: str | None = None,
    column: str = "request",
    status_column: str | None = "status_code",
    max_examples: int = 5,
) -> ReplayReport:
    """Replay the logged requests of a table on disk with Spark's tasks; see `schemakit.spark.engine.replay_table`."""
    from schemakit.spark.engine import replay_table as run

    return run(
        table,
        schema,
        model,
        spark=spark,
        remote=remote,
        column=column,
        status_column=status_column,
        max_examples=max_examples,
    )


def session(remote: str | None = None) -> SparkSession:
    """A local Spark session, or Spark Connect at `remote` (sc://host:port)."""
    from schemakit.spark.engine import session as start

    return start(remote)
