"""Hypothesis: the Spark engine's report equals the Arrow engine's on random tables split at random.

Random columns (integers past int32, NaN and nulls, text and nulls, datetime text in several
forms and invalid) are written as a folder of a random number of Parquet files with random
row-group sizes, or as one file; `schemakit.spark.check_table` (runs of files or row groups in
Spark's tasks, each numbered from 0 and shifted on the driver) must give exactly
`schemakit.table.check_table`'s findings: counts, first rows, values, the datetime form rule.
Fixed seed in `make test`; SCHEMAKIT_FUZZ_EXAMPLES raises the count under `make fuzz`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemakit.table import check_table

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.spark

EXAMPLES = int(os.environ.get("SCHEMAKIT_FUZZ_EXAMPLES", "0") or 0)

DATETIMES = st.sampled_from(
    ["2024-01-02T03:04:05", "2024-01-02 03:04", "2024-01-02T03:04:05.123", "2024-02-30T00:00:00", "1500-01-01T00:00:00",
     "2024-01-02T03:04:05Z", "yesterday", "2024-01-02"]
)  # fmt: skip


@st.composite
def tables(draw: Any) -> tuple[Any, list[int], int]:
    n = draw(st.integers(1, 400))

    def column(strategy: Any) -> list[Any]:
        return draw(st.lists(st.one_of(st.none(), strategy), min_size=n, max_size=n))

    table = pa.table(
        {
            "small_int": pa.array(column(st.integers(-(2**40), 2**40)), pa.int64()),
            "score": pa.array(column(st.sampled_from([0.5, float("nan"), float("inf"), -1.0])), pa.float64()),
            "label": pa.array(column(st.sampled_from(["a", "", "b"])), pa.string()),
            "created_at": pa.array(column(DATETIMES), pa.string()),
            "rating": pa.array(column(st.integers(0, 5)), pa.int64()),
        }
    )
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=5))))
    return table, [0, *[c for c in cuts if c < n], n], draw(st.integers(7, 200))


@pytest.fixture(scope="module")
def folder() -> Any:
    where = Path(tempfile.mkdtemp(prefix="spark-fuzz-"))
    yield where
    shutil.rmtree(where, ignore_errors=True)


@pytest.mark.timeout(600)
def test_spark_equals_arrow_on_random_splits(spark: Any, all_types: str, folder: Path) -> None:
    from schemakit.spark import check_table as on_spark

    counter = iter(range(10**6))

    @settings(
        max_examples=EXAMPLES or 5,  # `make fuzz` raises it (SCHEMAKIT_FUZZ_EXAMPLES)
        derandomize=EXAMPLES == 0,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(tables(), st.booleans())
    def check(drawn: tuple[Any, list[int], int], one_file: bool) -> None:
        table, bounds, group = drawn
        target = folder / f"t{next(counter)}"
        if one_file or len(bounds) == 2:
            target = target.with_suffix(".parquet")
            pq.write_table(table, target, row_group_size=group)
        else:
            target.mkdir()
            for i in range(len(bounds) - 1):
                piece = table.slice(bounds[i], bounds[i + 1] - bounds[i])
                pq.write_table(piece, target / f"part-{i:03d}.parquet", row_group_size=group)
        arrow = check_table(target, all_types)
        report = on_spark(target, all_types, spark=spark)
        assert report.rows == arrow.rows == len(table)
        assert [(f.column, f.code, f.message, f.count, f.rows, f.values) for f in report.findings] == [
            (f.column, f.code, f.message, f.count, f.rows, f.values) for f in arrow.findings
        ]

    check()
