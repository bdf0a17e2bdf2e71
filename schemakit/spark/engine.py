"""The Spark engine: the Arrow engine's checker run inside Spark's executors, one job, one partial per task.

Two entry points, each one Spark job:

- `check_table(path, schema)` (`check-table --engine spark`): the table is opened on the
  driver exactly as the Arrow engine opens it (`schemakit.table.sources.open_table`), and
  its files are split into parts in the Arrow engine's order (contiguous runs of the
  files of a folder or Delta table, of row groups of one Parquet file; any other single file
  is one part). Each Spark task reads its
  part with the Arrow engine's own reader and checks it with the Arrow engine's own
  checker (`TableChecker`), numbering rows from 0 within the part. The driver puts the
  parts back in order and shifts each part's row numbers by the rows of the parts before
  it. Reader, types, row order and rules are the Arrow engine's, so the findings (and row
  numbers) are `check-table`'s by construction; Spark supplies the scheduling.
- `check_dataframe(df, schema)`: any DataFrame, read by Spark. Each partition is checked
  in its task (`mapInArrow`), rows numbered from 0 within the partition; the driver
  shifts each partition by the rows of the partitions before it (by partition id). The
  counting and the checking are the same job, so they see the same partitions. Row
  numbers are positions in the DataFrame, partitions in order (what `RDD.zipWithIndex`
  numbers); pass `id_column=` to report a column of your own.

Every failure is one line naming the table: what the Arrow reader refuses (in a task or on
the driver) is its own message; what Spark refuses (a corrupt file, a type it cannot hand
to Arrow, a task that dies) is Spark's first line. Memory in a task is bounded by the
Arrow engine's batch size (or `spark.sql.execution.arrow.maxRecordsPerBatch`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from schemakit._exceptions import SchemakitError
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.spark import FILE_ROW_NUMBERS, ROW_NUMBERS
from schemakit.table.engine import (
    TableChecker,
    TablePlan,
    partition_types,
    pick_model,
    pick_served,
    plan_table,
    text_columns,
)
from schemakit.table.replayer import ReplayReport, ReplayTally, body_bytes, succeeded
from schemakit.table.report import TableReport
from schemakit.table.sources import DEFAULT_BATCH_ROWS, open_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "FILE_ROW_NUMBERS",
    "ROW_NUMBERS",
    "Schema",
    "check_dataframe",
    "check_table",
    "read_remote",
    "replay_dataframe",
    "replay_table",
    "session",
]

Schema = EndpointSchema | ServedModel | str | os.PathLike[str]

#: Session settings the checks rely on. Dates and timestamps before 1582 (or INT96 ones before
#: 1900) are read as written, in the proleptic Gregorian calendar as Arrow and pandas read them,
#: instead of Spark's default of refusing them; and a zone-free Parquet timestamp stays zone-free.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.avro.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}


_LOG4J = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log4j2.properties")


def session(remote: str | None = None) -> SparkSession:
    """A Spark session: Spark Connect at `remote` (sc://...), else a local one on every core."""
    # Python workers must be this interpreter, with pyarrow and schemakit importable.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SchemakitError(f"{exc.name or 'pyspark'} is not installed: pip install 'schemakit[spark]'") from None

    try:
        if remote is not None:
            spark = SparkSession.builder.remote(remote).getOrCreate()
            for key, value in SESSION_CONF.items():
                spark.conf.set(key, value)
            return spark
        builder = (
            SparkSession.builder.master("local[*]")
            .appName("schemakit")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.showConsoleProgress", "false")
            # A task is not retried: a table that cannot be read fails at once, with its reason.
            .config("spark.task.maxFailures", "1")
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={_LOG4J}")
        )
        for key, value in SESSION_CONF.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        for key, value in SESSION_CONF.items():  # a session that was already running keeps its own otherwise
            spark.conf.set(key, value)
    except SchemakitError:
        raise
    except Exception as exc:  # py4j and Connect raise their own types
        raise SchemakitError(f"cannot start a Spark session: {first_line(exc)}") from None
    return spark


_ABORTED = re.compile(r"Job aborted due to stage failure: .*? most recent failure: .*?\(TID \d+\) \([^)]*\): (.+)$")
_JAVA_CLASS = re.compile(r"^(?:[A-Za-z_$][\w$]*\.)+([A-Za-z_$][\w$]*(?:Exception|Error)): ")


def _without_class(line: str) -> str:
    """A Java exception's message: Spark's own carry an [ERROR_CLASS] that says it; others keep their short name."""
    named = _JAVA_CLASS.match(line)
    if named is None:
        return line
    rest = line[named.end() :]
    return rest if rest.startswith("[") else f"{named.group(1)}: {rest}"


def first_line(exc: BaseException) -> str:
    """The line of a Spark (or py4j) exception that says what went wrong, without the JVM's stack."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("An error occurred while calling", "JVM stacktrace:")):
            continue
        if line.startswith(("at ", "Traceback", 'File "')):
            break
        # py4j prints ": org.apache.spark.SparkException: [ERROR_CLASS] <the reason>": the reason is what counts.
        line = _without_class(line.lstrip(": "))
        # "Job aborted due to stage failure: Task 0 ... (TID 3) (host executor driver): <the task's error>".
        aborted = _ABORTED.search(line)
        if aborted is not None:
            line = _without_class(aborted.group(1))
        return " ".join(line.split())[:300]
    return type(exc).__name__


def _spark_error(source: str, exc: BaseException) -> SchemakitError:
    return SchemakitError(f"{source}: Spark cannot check the table: {first_line(exc)}")


# -- jobs -------------------------------------------------------------------------------------------


def _collect(frame: DataFrame, run: Callable[[Iterator[Any]], Iterator[Any]], source: str) -> list[dict[str, Any]]:
    """Run `run` over each partition (`mapInArrow`) and collect the JSON partials; Spark's failures in one line."""
    try:
        with warnings.catch_warnings():
            # pyspark warns that it "does not yet fully support pandas >= 3"; mapInArrow does not use pandas.
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
            rows = frame.mapInArrow(run, "partial string").collect()
    except Exception as exc:  # py4j, captured Spark and Connect exceptions share no base class
        raise _spark_error(source, exc) from None
    # In part order: when several parts fail, the first in the table's order is the one reported.
    partials = sorted((json.loads(row["partial"]) for row in rows), key=lambda p: int(p["part"]))
    for partial in partials:
        if "error" in partial:
            raise SchemakitError(str(partial["error"]))
        if "crash" in partial:
            # Not a table the reader refuses but a fault of the checker: as the Arrow engine would, say so.
            raise RuntimeError(str(partial["crash"]))
    return partials


def _failure(exc: BaseException, part: int) -> dict[str, Any]:
    if isinstance(exc, SchemakitError):
        return {"part": part, "error": str(exc)}
    return {"part": part, "crash": f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}


def _task_id() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.partitionId() if context is not None else 0


def _shift_findings(findings: dict[str, Any], offset: int) -> dict[str, Any]:
    """A partial `Findings.to_json()` with every row number moved by `offset`."""
    if not offset:
        return findings
    tallies = [
        [key, sev, count, [[r + offset, v] for r, v in samples]] for key, sev, count, samples in findings["tallies"]
    ]
    forms = {
        column: {form: [count, [[r + offset, v] for r, v in samples]] for form, (count, samples) in by_form.items()}
        for column, by_form in findings["forms"].items()
    }
    return {**findings, "tallies": tallies, "forms": forms}


def _merge_in_order(driver: TableChecker, partials: list[dict[str, Any]]) -> None:
    """Merge partials (in part order) numbered from 0 each, each after the rows of the parts before it."""
    offset = 0
    for partial in partials:
        checker = partial["checker"]
        driver.merge_json({**checker, "findings": _shift_findings(checker["findings"], offset)})
        offset += int(checker["rows"])


def _inner(plan: TablePlan) -> TablePlan:
    """The plan for batches that hold only the sent columns, in the order of `plan.sent`."""
    return replace(
        plan, checks=tuple((plan.sent.index(p), c) for p, c in plan.checks), sent=tuple(range(len(plan.sent)))
    )


# -- a table on disk, read by the Arrow engine's reader in each task --------------------------------


def _files(source: Any) -> list[Any] | None:
    """The source's files (dataset fragments) in the Arrow engine's order, when they can be read in parts."""
    import pyarrow.dataset as ds

    dataset = getattr(source, "_dataset", None)
    ordered = getattr(source, "_fragments", None)
    if not dataclasses.is_dataclass(source) or not isinstance(dataset, ds.FileSystemDataset) or not callable(ordered):
        return None
    return list(ordered())


def _row_groups(source: Any) -> int:
    """How many row groups a single Parquet file has (0 when the source is not one)."""
    from schemakit.table import sources

    opener = getattr(sources, "parquet_file", None)
    if source.format != "parquet" or getattr(source, "_dataset", None) is not None or opener is None:
        return 0
    if getattr(source, "_stream", None) is not None or not os.path.isfile(source.path):
        return 0
    return int(opener(source.path).metadata.num_row_groups)


def _parts(source: Any, target: int) -> list[tuple[str, ...]]:
    """Contiguous runs of the source's files (their paths), in the Arrow engine's order; () is the whole table.

    The paths travel to the tasks: a task reads the files the driver listed, whatever order a
    second listing would give. A single Parquet file is split into runs of row groups ("#3", "#4").
    """
    files = _files(source)
    if files is None:
        groups = _row_groups(source)
        if groups <= 1:
            return [()]
        parts = min(groups, max(1, target))
        bounds = [groups * i // parts for i in range(parts + 1)]
        return [tuple(f"#{g}" for g in range(bounds[i], bounds[i + 1])) for i in range(parts)]
    paths = [str(fragment.path) for fragment in files]
    if len(paths) <= 1 or len(set(paths)) != len(paths):
        return [()]
    parts = min(len(paths), max(1, target))
    bounds = [len(paths) * i // parts for i in range(parts + 1)]
    return [tuple(paths[bounds[i] : bounds[i + 1]]) for i in range(parts)]


def _part_batches(source: Any, part: tuple[str, ...], batch_rows: int, columns: Sequence[str] | None) -> Iterator[Any]:
    if part and part[0].startswith("#"):
        import pyarrow as pa

        from schemakit.table.sources import parquet_file, read_error

        # The Arrow engine's own Parquet reader (its options), over this part's row groups.
        groups = [int(p[1:]) for p in part]
        wanted = list(columns) if columns is not None else None
        try:
            yield from parquet_file(source.path).iter_batches(batch_size=batch_rows, columns=wanted, row_groups=groups)
        except (pa.ArrowException, OSError, ValueError, RecursionError) as exc:
            raise read_error(source.path, exc) from None
        return
    files = _files(source) if part else None
    if files is None:
        yield from source.batches(batch_rows, columns)
        return
    import pyarrow.dataset as ds

    by_path = {str(fragment.path): fragment for fragment in files}
    if any(path not in by_path for path in part):
        raise SchemakitError(f"{source.path}: the table changed while it was being checked (a file went away)")
    dataset = source._dataset
    subset = ds.FileSystemDataset([by_path[path] for path in part], dataset.schema, dataset.format, dataset.filesystem)
    # The Arrow engine's own batches (its schema, casts and order) over this part's files.
    yield from replace(source, _dataset=subset, num_rows=None).batches(batch_rows, columns)


def _default_parallelism(spark: Any) -> int:
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect has no SparkContext
        return int(spark.conf.get("spark.default.parallelism", "4") or 4)


def check_table(
    table: str | os.PathLike[str],
    schema: Schema,
    model: str | None = None,
    *,
    spark: SparkSession | None = None,
    remote: str | None = None,
    columns: Sequence[str] | None = None,
    max_rows_per_finding: int = 5,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> TableReport:
    """`schemakit.table.check_table` with Spark's executors doing the work: the same findings, the same rows.

    The table must be readable at the same path from the driver and from the executors (local
    mode, or a path every node mounts); tables in cloud storage or a catalog: `check_dataframe`.
    Without `spark`, a session is started (`session(remote)`) once the table has been opened.
    """
    where = os.fspath(table)
    served = pick_model(schema, model)
    if _REMOTE.match(where) and not _DRIVE.match(where):
        frame = read_remote(spark if spark is not None else session(remote), where, text_columns(served))
        return check_dataframe(frame, served, columns=columns, max_rows_per_finding=max_rows_per_finding, source=where)
    texts, types = text_columns(served), partition_types(served)
    source = open_table(where, text_columns=texts, column_types=types)
    names = list(source.schema.names)
    plan = plan_table(served, names, columns)
    unique = len(set(names)) == len(names)
    project = [names[p] for p in plan.sent] if unique else None
    inner = _inner(plan) if project is not None else plan
    if spark is None:
        spark = session(remote)
    parts = _parts(source, 2 * _default_parallelism(spark))

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import orjson
        import pyarrow as pa

        for batch in batches:
            for index in batch.column(0).to_pylist():
                try:
                    mine = open_table(where, text_columns=texts, column_types=types)
                    if list(mine.schema.names) != names:
                        raise SchemakitError(f"{where}: the table changed while it was being checked")
                    checker = TableChecker(inner, max_rows_per_finding)
                    for data in _part_batches(mine, parts[index], batch_rows, project):
                        checker.feed(data)
                    out: dict[str, Any] = {"part": index, "checker": checker.to_json()}
                except Exception as exc:
                    out = _failure(exc, index)
                yield pa.RecordBatch.from_pydict({"partial": [orjson.dumps(out).decode()]})

    frame = spark.range(0, len(parts), 1, numPartitions=len(parts))
    driver = TableChecker(plan, max_rows_per_finding)
    _merge_in_order(driver, _collect(frame, run, where))
    return driver.report(served, where, "spark", FILE_ROW_NUMBERS)


# -- a DataFrame, read by Spark -----------------------------------------------------------------------


def _positional(df: DataFrame) -> DataFrame:
    # Columns by position: a table may name two columns alike, and Spark cannot select those by name.
    return df.toDF(*[f"_c{i}" for i in range(len(df.columns))])


def check_dataframe(
    df: DataFrame,
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
    try:
        names = list(df.columns)
    except Exception as exc:  # an unresolvable plan (a missing path, a bad query) fails here
        raise _spark_error(source, exc) from None
    if id_column is not None and id_column not in names:
        raise SchemakitError(f"id_column {id_column!r} is not a column of the DataFrame")
    plan = plan_table(served, names, columns)
    picked = [f"_c{p}" for p in plan.sent] + ([f"_c{names.index(id_column)}"] if id_column is not None else [])
    try:
        frame = _positional(df).select(*picked)
    except Exception as exc:
        raise _spark_error(source, exc) from None
    inner = _inner(plan)
    with_ids = id_column is not None

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import orjson
        import pyarrow as pa

        try:
            checker = TableChecker(inner, max_rows_per_finding)
            for batch in batches:
                if with_ids:
                    checker.feed(batch, row_ids=batch.column(batch.num_columns - 1).cast(pa.int64()))
                else:
                    checker.feed(batch)
            out: dict[str, Any] = {"part": _task_id(), "checker": checker.to_json()}
        except Exception as exc:
            out = _failure(exc, _task_id())
        yield pa.RecordBatch.from_pydict({"partial": [orjson.dumps(out).decode()]})

    driver = TableChecker(plan, max_rows_per_finding)
    partials = _collect(frame, run, source)
    if with_ids:
        for partial in partials:
            driver.merge_json(partial["checker"])
    else:
        _merge_in_order(driver, partials)
    numbers = f"the value of column {id_column!r}" if id_column is not None else ROW_NUMBERS
    return driver.report(served, source, "spark", numbers)


_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_REMOTE_KINDS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json"}
_REMOTE_KINDS.update({".json": "json", ".tsv": "csv"})
#: A pattern no text matches: Spark's CSV inference then leaves every datetime as text.
_NO_DATETIME = "'schemakit-no-datetime'"


def read_remote(spark: SparkSession, uri: str, texts: Sequence[str] = ()) -> DataFrame:
    """A table in storage Spark reaches (s3://, abfss://, gs://, dbfs:/, ...) read by Spark's own readers.

    Parquet, CSV (a header; the model's text and datetime columns kept as text: Spark would
    infer zoned timestamps) and JSON Lines by suffix; a folder is read as Delta (where the
    cluster has delta-spark) or else as Parquet. Rows are numbered by position in the DataFrame.
    """
    name = uri.rstrip("/").rsplit("/", 1)[-1].lower()
    for codec in (".gz", ".bz2", ".zst", ".lz4"):
        name = name.removesuffix(codec)
    kind = next((k for suffix, k in _REMOTE_KINDS.items() if name.endswith(suffix)), None)
    try:
        if kind == "parquet":
            return spark.read.parquet(uri)
        if kind == "json":
            return spark.read.json(uri)
        if kind == "csv":
            return _remote_csv(spark, uri, texts, "\t" if name.endswith(".tsv") else ",")
        try:
            return spark.read.format("delta").load(uri)
        except Exception as exc:
            if _has_delta_log(spark, uri):
                # Read as Parquet, a Delta folder would bring back the files its log removed.
                raise SchemakitError(
                    f"{uri}: a Delta table, and this Spark session cannot read Delta ({first_line(exc)}): check it "
                    "on a cluster with delta-spark, or copy it here and run check-table (delta-rs reads it)"
                ) from None
            return spark.read.parquet(uri)
    except SchemakitError:
        raise
    except Exception as exc:
        raise _spark_error(uri, exc) from None


def _has_delta_log(spark: SparkSession, uri: str) -> bool:
    try:
        return bool(spark.read.text(uri.rstrip("/") + "/_delta_log").limit(1).count())
    except Exception:  # no such folder: not a Delta table
        return False


def _remote_csv(spark: SparkSession, uri: str, texts: Sequence[str], separator: str) -> DataFrame:
    from pyspark.sql.types import StringType, StructField, StructType

    options = {
        "header": "true",
        "sep": separator,
        "inferSchema": "true",
        "preferDate": "false",
        "timestampFormat": _NO_DATETIME,
        "timestampNTZFormat": _NO_DATETIME,
        "multiLine": "true",
    }
    inferred = spark.read.options(**options).csv(uri).schema
    keep = set(texts)
    fields = [StructField(f.name, StringType(), True) if f.name in keep else f for f in inferred.fields]
    return spark.read.options(**{**options, "inferSchema": "false"}).schema(StructType(fields)).csv(uri)


def replay_dataframe(
    df: DataFrame,
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
    try:
        names = list(df.columns)
    except Exception as exc:
        raise _spark_error(source, exc) from None
    if column not in names:
        raise SchemakitError(f"{source}: no column {column!r} (pass --column NAME)")
    if status_column is not None and status_column not in names:
        if status_explicit:
            raise SchemakitError(f"{source}: no status column {status_column!r}")
        status_column = None
    frame = df.select(column) if status_column is None else df.select(column, status_column)
    has_status = status_column is not None

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import orjson
        import pyarrow as pa

        from schemakit.check.validator import compile_validator

        try:
            tally = ReplayTally(compile_validator(served), max_examples)
            row = 0
            for batch in batches:
                bodies = batch.column(0).to_pylist()
                statuses = batch.column(1).to_pylist() if has_status else [200] * len(bodies)
                for body, status in zip(bodies, statuses, strict=True):
                    tally.add(row, body_bytes(body), succeeded(status))
                    row += 1
            tally.flush()
            out: dict[str, Any] = {"part": _task_id(), "rows": row, "tally": tally.to_json()}
        except Exception as exc:
            out = _failure(exc, _task_id())
        yield pa.RecordBatch.from_pydict({"partial": [orjson.dumps(out).decode()]})

    return _merge_tallies(served, _collect(frame, run, source), max_examples).report(source, "spark", status_column)


def _merge_tallies(served: ServedModel, partials: list[dict[str, Any]], max_examples: int) -> ReplayTally:
    """Merge replay partials (in part order) numbered from 0 each, each after the rows of the parts before it."""
    from schemakit.check.validator import compile_validator

    driver = ReplayTally(compile_validator(served), max_examples)
    offset = 0
    for partial in partials:
        tally = partial["tally"]
        groups = [[code, col, n, [[r + offset, m] for r, m in examples]] for code, col, n, examples in tally["groups"]]
        driver.merge_json({**tally, "groups": groups})
        offset += int(partial["rows"])
    return driver


def replay_table(
    table: str | os.PathLike[str],
    schema: Schema,
    model: str | None = None,
    *,
    spark: SparkSession | None = None,
    remote: str | None = None,
    column: str = "request",
    status_column: str | None = "status_code",
    status_explicit: bool = False,
    max_examples: int = 5,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> ReplayReport:
    """`schemakit.table.replay` with Spark's tasks doing the work: the same report, the same row numbers.

    As `check_table`: the table is read by the Arrow engine's reader (JSON Lines line by line, as
    `replay` reads them) in runs of files or row groups, each numbered from 0 and shifted on the
    driver. A URI is read by Spark (`read_remote`) and numbered by position in the DataFrame.
    """
    from pathlib import Path

    from schemakit.table.replayer import logged_columns

    where = os.fspath(table)
    served = pick_served(schema, model)
    if _REMOTE.match(where) and not _DRIVE.match(where):
        frame = read_remote(spark if spark is not None else session(remote), where)
        return replay_dataframe(
            frame,
            served,
            column=column,
            status_column=status_column,
            status_explicit=status_explicit,
            max_examples=max_examples,
            source=where,
        )
    # The Arrow engine's checks of the table and its columns, on the driver, before a session starts.
    status, _unread = logged_columns(where, column, status_column, status_explicit, batch_rows)
    lines = Path(where).is_file() and Path(where).suffix.lower() in (".jsonl", ".ndjson", ".json")
    if spark is None:
        spark = session(remote)
    parts = [()] if lines else _parts(open_table(where), 2 * _default_parallelism(spark))
    wanted = [column] if status is None else [column, status]

    def rows_of(part: tuple[str, ...]) -> Iterator[tuple[Any, Any]]:
        if not part:
            yield from logged_columns(where, column, status_column, status_explicit, batch_rows)[1]
            return
        for batch in _part_batches(open_table(where), part, batch_rows, wanted):
            bodies = batch.column(0).to_pylist()
            statuses = batch.column(1).to_pylist() if status is not None else [200] * len(bodies)
            yield from zip(bodies, statuses, strict=True)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import orjson
        import pyarrow as pa

        from schemakit.check.validator import compile_validator

        for batch in batches:
            for index in batch.column(0).to_pylist():
                try:
                    tally = ReplayTally(compile_validator(served), max_examples)
                    count = 0
                    for row, (body, code) in enumerate(rows_of(parts[index])):
                        tally.add(row, body_bytes(body), succeeded(code))
                        count = row + 1
                    tally.flush()
                    out: dict[str, Any] = {"part": index, "rows": count, "tally": tally.to_json()}
                except Exception as exc:
                    out = _failure(exc, index)
                yield pa.RecordBatch.from_pydict({"partial": [orjson.dumps(out).decode()]})

    frame = spark.range(0, len(parts), 1, numPartitions=len(parts))
    return _merge_tallies(served, _collect(frame, run, where), max_examples).report(where, "spark", status)
