"""Hostile DataFrames through `check_dataframe`: every Spark type at its edges, in the model's columns.

The only failure allowed is the project's one line naming the source (`SchemakitError`): no
traceback, no internal error, whatever Spark holds or refuses to hand to Arrow.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemakit._exceptions import SchemakitError

pytestmark = pytest.mark.spark

CASES = [
    ("small_int", "CAST(NULL AS VOID)"),
    ("small_int", "CAST('99999999999999999999999999999999999999' AS DECIMAL(38,0))"),
    ("score", "CAST('-1e308' AS DOUBLE) * 10"),
    ("ratio", "CAST('NaN' AS FLOAT)"),
    ("big_int", "CAST(9223372036854775807 AS BIGINT)"),
    ("created_at", "TIMESTAMP_NTZ '0001-01-01 00:00:00'"),
    ("created_at", "TIMESTAMP_NTZ '9999-12-31 23:59:59.999999'"),
    ("created_at", "DATE '0001-01-01'"),
    ("created_at", "TIMESTAMP '1500-01-01 00:00:00'"),
    ("created_at", "INTERVAL '1' DAY"),
    ("created_at", "make_interval(1, 2)"),
    ("label", "CAST(X'FFFE' AS STRING)"),
    ("label", "repeat('\u202e::error::x\\n', 1000)"),
    ("blob", "X'00FF'"),
    ("tags", "array(array(array(1)))"),
    ("counts", "map(1, 'a')"),
    ("counts", "map('a', map('b', CAST(NULL AS BIGINT)))"),
    ("location", "named_struct('lat', 'x', 'lon', named_struct('a', 1))"),
    ("extra", 'parse_json(\'{"a": [1, {"b": null}]}\')'),
    ("extra", "array()"),
]


def _outcome(spark: Any, column: str, expression: str, all_types: str) -> str:
    from schemakit.spark import check_dataframe

    try:
        frame = spark.range(3).selectExpr(f"{expression} AS `{column}`")
    except Exception:  # Spark refused to build the column: nothing of ours to check
        return "no frame"
    try:
        report = check_dataframe(frame, all_types, source="hostile")
    except SchemakitError as exc:
        message = str(exc)
        assert message.startswith("hostile: "), message
        assert "\n" not in message
        return "refused"
    assert report.rows == 3
    return "checked"


def test_hostile_spark_columns_are_checked_or_refused_in_one_line(spark: Any, all_types: str) -> None:
    outcomes = {
        f"{column} = {expression}": _outcome(spark, column, expression, all_types) for column, expression in CASES
    }
    assert set(outcomes.values()) <= {"checked", "refused", "no frame"}, outcomes
    assert list(outcomes.values()).count("checked") >= len(CASES) // 2, outcomes


def test_hostile_column_names(spark: Any, all_types: str) -> None:
    from schemakit.spark import check_dataframe

    frame = spark.range(2).selectExpr(
        "id AS `::error title=x::pwned`", "id AS `a\nb`", "id AS small_int", "id AS small_int"
    )
    report = check_dataframe(frame, all_types)
    codes = {(f.column, f.code) for f in report.findings}
    assert ("small_int", "duplicate-column") in codes
    assert ("::error title=x::pwned", "unknown-column") in codes
    assert not any(line.startswith("::") for line in report.to_text().splitlines())
