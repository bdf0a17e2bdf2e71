"""Test tables built once per session: the 1M-row all-types table (clean and with the done-when defects),
and one Spark session shared by every test marked `spark`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

sys.path.insert(0, str(Path(__file__).parent))
from table_data import all_types_table, with_defects  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ALL_TYPES = str(ROOT / "samples" / "all-types.json")

MILLION = 1_000_000


@dataclass(frozen=True)
class Tables:
    clean: Path
    defects: Path
    folder: Path


@pytest.fixture(scope="session")
def all_types() -> str:
    return ALL_TYPES


@pytest.fixture(scope="session")
def million(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """The clean 1M-row table, and the same with the three defects at rows 10, 20 and 30."""
    folder = tmp_path_factory.mktemp("tables")
    table = all_types_table(MILLION)
    clean, defects = folder / "clean.parquet", folder / "defects.parquet"
    pq.write_table(table, clean)
    pq.write_table(with_defects(table), defects)
    return Tables(clean, defects, folder)


@pytest.fixture(scope="session")
def grouped_defects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The defective table at 200,000 rows in 8 row groups: an engine that splits a file into row-group
    runs (Spark's tasks) must number its rows as one reader does. (The 1M-row file is one row group.)"""
    path = tmp_path_factory.mktemp("grouped") / "defects.parquet"
    pq.write_table(with_defects(all_types_table(200_000)), path, row_group_size=25_000)
    return path


@pytest.fixture(scope="session")
def small_defects() -> Any:
    """The defective table at 2,000 rows, for the format tests."""
    return with_defects(all_types_table(2_000))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for the whole run (starting one takes 30-45 s)."""
    pytest.importorskip("pyspark")
    from schemakit.spark import session

    spark = session()
    yield spark
    spark.stop()
