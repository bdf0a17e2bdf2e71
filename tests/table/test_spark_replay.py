"""`replay --engine spark` (`schemakit.spark.engine.replay_table`) gives the Arrow engine's replay report,
row numbers included, on JSON Lines, a Parquet file of several row groups, a folder and a Delta table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_replay import logged, write_jsonl

from schemakit._exceptions import SchemakitError
from schemakit.table import replay

pytestmark = pytest.mark.spark


def _keyed(report: Any) -> tuple[Any, ...]:
    groups = sorted((g.code, g.column or "", g.count, g.rows, g.messages) for g in report.groups)
    return (report.total, report.rejected, report.rejected_succeeded, report.skipped, report.status_column, groups)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from deltalake import write_deltalake

    folder = tmp_path_factory.mktemp("spark-logs")
    rows = logged(1_000, {17: {"small_int": 2**40}, 500: {"label": None}, 901: {"small_int": 2**41}, 999: {}})
    table = pa.Table.from_pylist(rows)
    out = {"jsonl": write_jsonl(folder / "r.jsonl", rows)}
    pq.write_table(table, folder / "r.parquet", row_group_size=128)
    out["parquet"] = folder / "r.parquet"
    (folder / "parts").mkdir()
    for i, start in enumerate(range(0, 1_000, 300)):
        pq.write_table(table.slice(start, 300), folder / "parts" / f"p{i}.parquet")
    out["folder"] = folder / "parts"
    for start in range(0, 1_000, 400):
        write_deltalake(str(folder / "delta"), table.slice(start, 400), mode="append")
    out["delta"] = folder / "delta"
    return out


@pytest.mark.parametrize("name", ["jsonl", "parquet", "folder", "delta"])
def test_replay_on_spark_equals_replay_on_arrow(spark: Any, logs: dict[str, Path], all_types: str, name: str) -> None:
    from schemakit.spark.engine import replay_table

    arrow = replay(logs[name], all_types)
    report = replay_table(logs[name], all_types, spark=spark)
    assert report.engine == "spark"
    assert _keyed(report) == _keyed(arrow)
    assert {r for g in report.groups for r in g.rows} == {17, 500, 901}


def test_replay_on_spark_refuses_in_one_line(spark: Any, tmp_path: Path, all_types: str) -> None:
    from schemakit.spark.engine import replay_table

    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"other": 1}) + "\n")
    with pytest.raises(SchemakitError, match=r"no column 'request'"):
        replay_table(path, all_types, spark=spark)
    broken = tmp_path / "b.parquet"
    broken.write_bytes(b"PAR1 nothing PAR1")
    with pytest.raises(SchemakitError) as info:
        replay_table(broken, all_types, spark=spark)
    assert "\n" not in str(info.value)
