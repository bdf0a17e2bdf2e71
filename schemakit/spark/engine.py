"""The Spark engine: the Arrow engine's rules run inside Spark's executors, one partial report per partition.

`check_dataframe` runs two jobs. The first counts the rows of each partition (a JVM
aggregation, no Python): that gives each partition the number of its first row. The
second runs `TableChecker` (the Arrow engine's own code, so the findings are the same by
construction) over each partition's record batches with `mapInArrow` and sends one small
JSON partial back per partition: counts, the first rows per column and rule with their
values, the datetime forms, the row sizes. The driver merges them. Memory in the
executors is bounded by Arrow's batch size (`spark.sql.execution.arrow.maxRecordsPerBatch`).

Row numbers: a row's position in the DataFrame as Spark reads it, partitions in order
and rows in order within each, counted from 0: what `RDD.zipWithIndex` numbers, and
for a file source the row's position in the files. Not `monotonically_increasing_id`
(whose ids jump between partitions). Pass `id_column=` to report a column of your own.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from schemakit._exceptions import SchemakitError
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.spark import ROW_NUMBERS
from schemakit.table.engine import TableChecker, pick_model, pick_served, plan_table
from schemakit.table.replay import ReplayReport, ReplayTally, body_bytes, succeeded
from schemakit.table.report import TableReport
from schemakit.table.sources import table_format

__all__ = ["ROW_NUMBERS", "check_dataframe", "read_table", "replay_dataframe", "session"]

Schema = EndpointSchema | ServedModel | str | os.PathLike[str]


def session(remote: str | None = None) -> Any:
    """A Spark session: Spark Connect at `remote` (sc://...), else a local one on every core."""
    # Python workers must be this interpreter, with pyarrow and schemakit importable.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    try:
        if remote is not None:
            return SparkSession.builder.remote(remote).getOrCreate()
        spark = (
            SparkSession.builder.master("local[*]")
            .appName("schemakit")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    except Exception as exc:  # py4j and Connect raise their own types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SchemakitError(f"cannot start a Spark session: {first[:300]}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_table(spark: Any, path: str) -> Any:
    """A DataFrame of a table: Parquet and JSON Lines read by Spark; CSV, Arrow IPC and Delta through Arrow."""
    from pathlib import Path

    kind = table_format(Path(path))
    if kind == "parquet":
        return spark.read.parquet(path)
    if kind == "json":
        return spark.read.json(path)  # Spark's JSON reader leaves ISO-8601 text as text
    # delta-spark's jars are often out of reach: delta-rs reads Delta (and Arrow IPC) into Arrow. CSV too:
    # Spark's CSV schema inference turns ISO-8601 text into (zoned) timestamps.
    import pyarrow as pa

    from schemakit.table.sources import open_table

    source = open_table(path)
    table = pa.Table.from_batches(list(source.batches()), schema=source.schema)
    return spark.createDataFrame(table)


def _bases(df: Any) -> dict[int, int]:
    """The number of the first row of each partition (job 1: row counts per partition, in the JVM)."""
    from pyspark.sql import functions as F

    try:
        if df.rdd.getNumPartitions() == 1:
            return {0: 0}
    except Exception:  # noqa: S110 - Spark Connect has no RDDs: count the partitions' rows instead
        pass
    counts = {
        row["p"]: row["count"] for row in df.select(F.spark_partition_id().alias("p")).groupBy("p").count().collect()
    }
    bases, total = {}, 0
    for partition in sorted(counts):
        bases[partition] = total
        total += counts[partition]
    return bases


def _positional(df: Any) -> Any:
    # Columns by position: a table may name two columns alike, and Spark cannot select those by name.
    return df.toDF(*[f"_c{i}" for i in range(len(df.columns))])


def _partials(df: Any, run: Callable[[Iterator[Any]], Iterator[Any]]) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        # pyspark warns that it "does not yet fully support pandas >= 3"; mapInArrow does not use pandas.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
        rows = df.mapInArrow(run, "partial string").collect()
    return [json.loads(row["partial"]) for row in rows]


def _partition_id() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.partitionId() if context is not None else 0


def check_dataframe(
    df: Any,
    schema: Schema,
    model: str | None = None,
    *,
    columns: Sequence[str] | None = None,
    max_rows_per_finding: int = 5,
    id_column: str | None = None,
    source: str = "<dataframe>",
) -> TableReport:
    """Check a Spark DataFrame against a served model: the same report as `schemakit.table.check_table`."""
    served = pick_model(schema, model)
    names = list(df.columns)
    if id_column is not None and id_column not in names:
        raise SchemakitError(f"id_column {id_column!r} is not a column of the DataFrame")
    plan = plan_table(served, names, columns)
    frame = _positional(df)
    picked = [f"_c{p}" for p in plan.sent] + ([f"_c{names.index(id_column)}"] if id_column is not None else [])
    frame = frame.select(*picked)
    inner = replace(
        plan, checks=tuple((plan.sent.index(p), c) for p, c in plan.checks), sent=tuple(range(len(plan.sent)))
    )
    bases = _bases(frame) if id_column is None else {}
    with_ids = id_column is not None

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import orjson
        import pyarrow as pa

        checker = TableChecker(inner, max_rows_per_finding)
        first = bases.get(_partition_id(), 0)
        for batch in batches:
            if with_ids:
                checker.feed(batch, row_ids=batch.column(batch.num_columns - 1).cast(pa.int64()))
            else:
                checker.feed(batch, first_row=first + checker.rows)
        yield pa.RecordBatch.from_pydict({"partial": [orjson.dumps(checker.to_json()).decode()]})

    driver = TableChecker(plan, max_rows_per_finding)
    for partial in _partials(frame, run):
        driver.merge_json(partial)
    numbers = f"the value of column {id_column!r}" if id_column is not None else ROW_NUMBERS
    return driver.report(served, source, "spark", numbers)


def replay_dataframe(
    df: Any,
    schema: Schema,
    model: str | None = None,
    *,
    column: str = "request",
    status_column: str | None = "status_code",
    status_explicit: bool = False,
    max_examples: int = 5,
    source: str = "<dataframe>",
) -> ReplayReport:
    """`replay` over a Spark DataFrame of logged requests: the payload engine in each partition (`mapInArrow`)."""
    served = pick_served(schema, model)
    names = list(df.columns)
    if column not in names:
        raise SchemakitError(f"{source}: no column {column!r} (pass --column NAME)")
    if status_column is not None and status_column not in names:
        if status_explicit:
            raise SchemakitError(f"{source}: no status column {status_column!r}")
        status_column = None
    frame = df.select(column) if status_column is None else df.select(column, status_column)
    bases = _bases(frame)
    has_status = status_column is not None

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import orjson
        import pyarrow as pa

        from schemakit.check.validator import compile_validator

        tally = ReplayTally(compile_validator(served), max_examples)
        row = bases.get(_partition_id(), 0)
        for batch in batches:
            bodies = batch.column(0).to_pylist()
            statuses = batch.column(1).to_pylist() if has_status else [200] * len(bodies)
            for body, status in zip(bodies, statuses, strict=True):
                tally.add(row, body_bytes(body), succeeded(status))
                row += 1
        tally.flush()
        yield pa.RecordBatch.from_pydict({"partial": [orjson.dumps(tally.to_json()).decode()]})

    from schemakit.check.validator import compile_validator

    driver = ReplayTally(compile_validator(served), max_examples)
    for partial in _partials(frame, run):
        driver.merge_json(partial)
    return driver.report(source, "spark", status_column)
