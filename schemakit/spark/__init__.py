"""Checking tables that outgrow one machine: `check_dataframe(df, schema, model=...)` on Spark.

    >>> from schemakit.spark import check_dataframe
    >>> report = check_dataframe(spark.read.table("main.features"), "schema.json")  # doctest: +SKIP
    >>> report.ok, [(f.column, f.code, f.rows) for f in report.findings]  # doctest: +SKIP

The report is the one `schemakit check-table` prints (`schemakit.table.TableReport`);
row numbers are positions in the DataFrame, or a column you name (`id_column=`).
pyspark is imported only when these functions are called (`pip install schemakit[spark]`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ROW_NUMBERS", "check_dataframe", "replay_dataframe", "session"]

ROW_NUMBERS = "position in the DataFrame (partitions in order, rows in order within each), from 0"


def check_dataframe(df: Any, schema: Any, model: str | None = None, **options: Any) -> Any:
    """Check a Spark DataFrame against a served model; see `schemakit.spark.engine.check_dataframe`."""
    from schemakit.spark.engine import check_dataframe as run

    return run(df, schema, model, **options)


def replay_dataframe(df: Any, schema: Any, model: str | None = None, **options: Any) -> Any:
    """Replay logged requests held in a Spark DataFrame; see `schemakit.spark.engine.replay_dataframe`."""
    from schemakit.spark.engine import replay_dataframe as run

    return run(df, schema, model, **options)


def session(remote: str | None = None) -> Any:
    """A local Spark session, or Spark Connect at `remote` (sc://host:port)."""
    from schemakit.spark.engine import session as start

    return start(remote)
