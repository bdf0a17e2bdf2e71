"""The Spark engine in local mode: the same findings as the Arrow engine, on the same tables (one session)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemakit.table import check_table

pytestmark = pytest.mark.spark


def _keyed(report: Any) -> list[tuple[str, str, str, int, tuple[int, ...], tuple[str, ...]]]:
    return sorted((f.column, f.code, f.message, f.count, f.rows, f.values) for f in report.findings)


def test_spark_engine_gives_the_same_findings_on_row_groups(spark, grouped_defects: Path, all_types: str) -> None:
    """`check-table --engine spark` (runs of row groups in Spark's tasks); `check_dataframe` is compared on
    smaller tables. 200,000 rows in 8 row groups: the split, the shift of row numbers and the merge are
    what a million rows would exercise, in a tenth of the time (the Arrow engine's 1M-row test stays)."""
    import pyarrow.parquet as pq

    from schemakit.spark import check_table as on_spark

    assert pq.ParquetFile(grouped_defects).metadata.num_row_groups == 8
    report = on_spark(grouped_defects, all_types, spark=spark)
    arrow = check_table(grouped_defects, all_types)
    assert _keyed(report) == _keyed(arrow)
    assert {(f.column, f.code, f.rows) for f in report.findings} == {
        ("small_int", "int-range", (10,)),
        ("score", "non-finite", (20,)),
        ("label", "type", (30,)),
    }
    assert report.rows == 200_000
    assert report.engine == "spark"
    assert report.advice == arrow.advice


def test_cli_engine_spark(
    spark, small_defects, tmp_path: Path, all_types: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    from schemakit.cli.main import main

    path = tmp_path / "t.parquet"
    pq.write_table(small_defects, path)
    with pytest.raises(SystemExit) as exit_info:
        main(["check-table", all_types, str(path), "--engine", "spark", "--format", "json"])
    assert exit_info.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["engine"] == "spark"
    assert {(f["column"], f["code"], f["rows"][0]) for f in report["findings"]} == {
        ("small_int", "int-range", 10),
        ("score", "non-finite", 20),
        ("label", "type", 30),
    }


def test_row_numbers_across_partitions_and_an_id_column(spark, small_defects, all_types: str) -> None:
    from schemakit.spark import check_dataframe

    frame = spark.createDataFrame(small_defects.drop_columns(["counts"])).repartition(1).coalesce(1)
    several = spark.createDataFrame(small_defects.drop_columns(["counts"])).repartition(3)
    # repartition(3) shuffles: the row numbers are positions in the shuffled frame; one partition keeps the order.
    assert {r for f in check_dataframe(frame, all_types).findings for r in f.rows} == {10, 20, 30}
    assert sum(f.count for f in check_dataframe(several, all_types).findings if f.severity == "error") == 3
    from pyspark.sql import functions as F

    with_ids = frame.withColumn("row_id", F.col("big_int") * 0 + F.monotonically_increasing_id() + 1000)
    report = check_dataframe(with_ids, all_types, id_column="row_id", columns=list(frame.columns))
    assert {r for f in report.findings for r in f.rows} == {1010, 1020, 1030}


def test_replay_on_spark(spark, tmp_path: Path, all_types: str) -> None:
    from test_replay import logged, write_jsonl

    from schemakit.spark import replay_dataframe

    path = write_jsonl(tmp_path / "r.jsonl", logged())
    report = replay_dataframe(spark.read.json(str(path)).repartition(2), all_types)
    assert (report.total, report.rejected, report.rejected_succeeded) == (1000, 3, 3)
    assert {(g.code, g.column): g.count for g in report.groups} == {("int-range", "small_int"): 2, ("type", "label"): 1}


def _verdicts(report: Any) -> list[tuple[str, str, int]]:
    return sorted((f.column, f.code, f.count) for f in report.findings)


def test_a_dataframe_is_numbered_by_position_in_one_job(spark, small_defects, all_types: str, tmp_path: Path) -> None:
    """Several partitions: each numbered from 0 in its task, shifted by the partitions before it on the driver."""
    import pyarrow.parquet as pq

    from schemakit.spark import check_dataframe

    table = small_defects.drop_columns(["counts"])
    frame = spark.createDataFrame(table)
    assert frame.rdd.getNumPartitions() > 1
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    assert _keyed(check_dataframe(frame, all_types)) == _keyed(check_table(path, all_types))


def test_spark_reader_agrees_with_arrow_on_a_pyarrow_parquet_file(spark, small_defects, all_types, tmp_path) -> None:
    import pyarrow.parquet as pq

    from schemakit.spark import check_dataframe

    path = tmp_path / "t.parquet"
    pq.write_table(small_defects, path, row_group_size=500)
    report = check_dataframe(spark.read.parquet(str(path)), all_types, source=str(path))
    assert _verdicts(report) == _verdicts(check_table(path, all_types))


def test_int96_before_1900_is_read_as_written_not_wrapped(spark, tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "old.parquet"
    stamps = pa.array([dt.datetime(1500, 6, 1), dt.datetime(2024, 1, 1), dt.datetime(9000, 1, 1)], pa.timestamp("us"))
    pq.write_table(pa.table({"created_at": stamps}), path, use_deprecated_int96_timestamps=True)
    years = [row[0].year for row in spark.read.parquet(str(path)).collect()]
    assert years == [1500, 2024, 9000]


def test_ntz_timestamps_outside_pandas_range_are_flagged(spark, all_types: str) -> None:
    from pyspark.sql import functions as F

    from schemakit.spark import check_dataframe

    frame = spark.createDataFrame([("1500-06-01 00:00:00",), ("2024-01-01 00:00:00",)], "t string").select(
        F.to_timestamp_ntz("t").alias("created_at")
    )
    report = check_dataframe(frame.coalesce(1), all_types, columns=["created_at"])
    flagged = {row for f in report.findings if f.column == "created_at" for row in f.rows}
    assert 0 in flagged


def test_ltz_timestamps_are_timezone_aware_as_on_arrow(spark, all_types: str) -> None:
    from pyspark.sql import functions as F

    from schemakit.spark import check_dataframe

    frame = spark.createDataFrame([("2024-01-01 00:00:00",)], "t string").select(
        F.to_timestamp("t").alias("created_at")
    )
    report = check_dataframe(frame, all_types, columns=["created_at"])
    assert [(f.column, f.code) for f in report.findings if f.column == "created_at"] == [
        ("created_at", "datetime-iso8601")
    ]
    assert "timezone" in next(f.message for f in report.findings if f.column == "created_at")


def test_spark_reading_failures_are_one_line_naming_the_table(spark, all_types: str, tmp_path: Path) -> None:
    from schemakit._exceptions import SchemakitError
    from schemakit.spark import check_dataframe

    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    # With a schema given, Spark reads no footer until the job: the failure comes from a task.
    frame = spark.read.schema("small_int long").parquet(str(path))
    with pytest.raises(SchemakitError) as info:
        check_dataframe(frame, all_types, source=str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: Spark cannot check the table: ")
    assert "FAILED_READ_FILE" in message
    assert "\n" not in message
    assert len(message) < 500


def test_a_spark_type_arrow_cannot_carry_is_one_line(spark, all_types: str) -> None:
    from pyspark.sql import functions as F

    from schemakit._exceptions import SchemakitError
    from schemakit.spark import check_dataframe

    frame = spark.range(3).select(F.expr("make_interval(1, 2)").alias("extra"), F.col("id").alias("big_int"))
    # Spark 4 hands intervals to Arrow, older versions refuse them: a report, or one line.
    outcome: Any
    try:
        outcome = check_dataframe(frame, all_types, source="intervals").rows
    except SchemakitError as exc:
        outcome = str(exc)
    assert outcome == 3 or (isinstance(outcome, str) and outcome.startswith("intervals: ") and "\n" not in outcome)


def test_cli_engine_spark_refuses_a_corrupt_table_in_one_line(
    spark, tmp_path: Path, all_types: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from schemakit.cli.main import main

    folder = tmp_path / "t"
    folder.mkdir()
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"small_int": [1, 2]}), folder / "a.parquet")
    (folder / "b.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    with pytest.raises(SystemExit) as exit_info:
        main(["check-table", all_types, str(folder), "--engine", "spark"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "internal error" not in err
