"""The Spark engine against the Arrow engine on tables real writers wrote (one shared Spark session).

`schemakit.spark.check_table` reads each table with the Arrow engine's reader in Spark's tasks,
so it must give `schemakit.table.check_table`'s report: the same findings, counts and row
numbers, or the same one-line refusal. `check_dataframe` over Spark's own reader must agree on
the verdicts (column, rule, count) wherever Spark reads the same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from spark_tables import LATE, write_hostile, write_tables

from schemakit._exceptions import SchemakitError
from schemakit.table import check_table

pytestmark = pytest.mark.spark

Outcome = tuple[Any, ...]


def _outcome(run: Any) -> Outcome:
    try:
        report = run()
    except SchemakitError as exc:
        return ("error", str(exc))
    except Exception:  # an internal error of the Arrow engine: Spark must fail the same way, not pass
        return ("crash",)
    keyed = sorted((f.column, f.code, f.message, f.count, f.rows, f.values) for f in report.findings)
    return ("report", report.rows, keyed, report.advice)


@pytest.fixture(scope="session")
def written(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_tables(tmp_path_factory.mktemp("writers"), spark)


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="session")
def outcomes(spark: Any, written: dict[str, Path], hostile: dict[str, Path], all_types: str) -> dict[str, Any]:
    """Both engines on every table, once (the Spark runs share the session)."""
    from schemakit.spark import check_table as on_spark

    out = {}
    for name, path in {**written, **hostile}.items():
        arrow = _outcome(lambda path=path: check_table(path, all_types))
        spark_ = _outcome(lambda path=path: on_spark(path, all_types, spark=spark))
        out[name] = (arrow, spark_)
    return out


WRITERS = [
    "pyarrow.parquet",
    "pyarrow-v1.parquet",
    "folder",
    "hive",
    "v2.feather",
    "lz4.arrow",
    "pandas.csv",
    "pandas.jsonl",
    "pandas.parquet",
    "pandas.csv.gz",
    "polars.parquet",
    "polars.arrow",
    "duckdb.parquet",
    "duckdb-hive",
    "delta",
    "delta-partitioned",
    "spark-int96",
    "spark-int96-old",
    "spark-int96-old.parquet",
    "spark-ntz",
    "spark-ltz",
    "spark-partitioned",
    "spark.csv",
]
HOSTILE = [
    "nanos.parquet",
    "views.arrow",
    "truncated.parquet",
    "empty.parquet",
    "text.parquet",
    "corrupt-folder",
    "mixed-folder",
    "bad-utf8.csv",
    "header-only.csv",
    "zero-bytes.csv",
    "bad.jsonl",
]


@pytest.mark.parametrize("name", WRITERS + HOSTILE)
def test_spark_gives_the_arrow_engines_report(outcomes: dict[str, Any], name: str) -> None:
    arrow, spark = outcomes[name]
    assert spark == arrow


@pytest.mark.parametrize("name", ["pyarrow.parquet", "folder", "v2.feather", "pandas.csv", "spark-ntz", "delta"])
def test_planted_rows_are_named_by_both(outcomes: dict[str, Any], name: str) -> None:
    _arrow, spark = outcomes[name]
    assert spark[0] == "report"
    rows = {(column, code, row) for column, code, _m, _n, found, _v in spark[2] for row in found}
    assert {("small_int", "int-range", row) for row in (10, *LATE)} <= rows
    assert ("label", "type", 30) in rows


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_tables_end_in_one_line_or_a_report(outcomes: dict[str, Any], name: str) -> None:
    _arrow, spark = outcomes[name]
    assert spark[0] in ("report", "error"), spark
    if spark[0] == "error":
        assert "\n" not in spark[1]
        assert len(spark[1]) < 500


def _verdicts(report: Any) -> list[tuple[str, str, int]]:
    return sorted((f.column, f.code, f.count) for f in report.findings)


@pytest.mark.parametrize(
    "name",
    [
        "pandas.csv",
        "pandas.jsonl",
        "pyarrow.parquet",
        "polars.parquet",
        "duckdb-hive",
        "spark-ntz",
        "spark-partitioned",
    ],
)
def test_uris_are_read_by_spark_with_the_arrow_engines_verdicts(
    spark: Any, written: dict[str, Path], all_types: str, name: str
) -> None:
    """A URI (here file://, as s3:// or abfss:// on a cluster) is read by Spark's readers, not refused."""
    from schemakit.spark import check_table as on_spark

    path = written[name]
    report = on_spark(path.as_uri(), all_types, spark=spark)
    assert report.engine == "spark"
    assert _verdicts(report) == _verdicts(check_table(path, all_types))


def test_an_unreachable_uri_is_one_line(spark: Any, all_types: str) -> None:
    from schemakit.spark import check_table as on_spark

    with pytest.raises(SchemakitError, match=r"^s3://no-such-bucket/t\.parquet: Spark cannot check the table: [^\n]+$"):
        on_spark("s3://no-such-bucket/t.parquet", all_types, spark=spark)


@pytest.mark.parametrize("name", ["spark-int96-old.parquet", "spark-int96-old"])
def test_int96_outside_pandas_range_is_flagged_not_wrapped(outcomes: dict[str, Any], name: str) -> None:
    """Spark's INT96 years 1500 and 9000: outside 1677-2262 on both engines (read as microseconds, not wrapped)."""
    arrow, spark = outcomes[name]
    assert spark == arrow
    assert spark[0] == "report"
    flagged = {row for column, code, _m, _n, rows, _v in spark[2] if column == "created_at" for row in rows}
    assert flagged == {0, 2}


def test_a_delta_uri_without_delta_spark_is_refused_not_read_as_parquet(
    spark: Any, written: dict[str, Path], all_types: str
) -> None:
    from schemakit.spark import check_table as on_spark

    uri = written["delta"].as_uri()
    with pytest.raises(
        SchemakitError, match=r"^file:.*: a Delta table, and this Spark session cannot read Delta [^\n]*$"
    ):
        on_spark(uri, all_types, spark=spark)
