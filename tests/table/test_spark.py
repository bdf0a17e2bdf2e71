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


def test_spark_engine_gives_the_same_findings_on_the_million_rows(spark, million, all_types: str) -> None:
    from schemakit.spark import check_dataframe

    report = check_dataframe(spark.read.parquet(str(million.defects)), all_types, source="t")
    arrow = check_table(million.defects, all_types)
    assert _keyed(report) == _keyed(arrow)
    assert {(f.column, f.code, f.rows) for f in report.findings} == {
        ("small_int", "int-range", (10,)),
        ("score", "non-finite", (20,)),
        ("label", "type", (30,)),
    }
    assert report.rows == 1_000_000
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
