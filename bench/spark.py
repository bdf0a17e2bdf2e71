"""Benchmark: the Spark engine against a bare Spark scan of the same table, in one local session.

    python bench/spark.py [--rows N] [--repeat N] [--files N]

Writes the all-types table (samples/all-types.json) of --rows rows (1M by default) as one
pyarrow Parquet file (row groups of 128K rows) and as a folder of --files files written by
Spark, then measures in the same session, best of --repeat:

- `spark_scan`: Spark reading every column of the table into a no-op sink (the anchor);
- `spark_scan_to_arrow`: the same rows handed to Python as Arrow batches (`mapInArrow`
  counting rows), what any Python check over a DataFrame pays at least;
- `check_table_spark`: `schemakit.spark.check_table` (the Arrow engine's reader and checker
  in Spark's tasks, row numbers as the Arrow engine's);
- `check_dataframe`: `schemakit.spark.check_dataframe(spark.read.parquet(...))`;
- `check_table_arrow`: the Arrow engine in this process, and `arrow_read`, a bare
  `pyarrow.parquet.read_table`;

and prints each with its ratio to `spark_scan`. The session's start is reported apart.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "table"))
SPEC = str(ROOT / "samples" / "all-types.json")


def best(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def _count(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    yield pa.RecordBatch.from_pydict({"n": [sum(batch.num_rows for batch in batches)]})


def measure(spark: Any, path: Path, repeat: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from schemakit.spark import check_dataframe
    from schemakit.spark import check_table as on_spark
    from schemakit.table import check_table

    where = str(path)
    out: dict[str, Any] = {}
    out["spark_scan"] = best(repeat, lambda: spark.read.parquet(where).write.format("noop").mode("overwrite").save())
    out["spark_scan_to_arrow"] = best(repeat, lambda: spark.read.parquet(where).mapInArrow(_count, "n long").collect())
    out["check_table_spark"] = best(repeat, lambda: on_spark(path, SPEC, spark=spark))
    out["check_dataframe"] = best(repeat, lambda: check_dataframe(spark.read.parquet(where), SPEC))
    out["check_table_arrow"] = best(repeat, lambda: check_table(path, SPEC))
    out["arrow_read"] = best(repeat, lambda: pq.read_table(where))
    anchor = out["spark_scan"]
    return {
        "table": path.name,
        **{f"{k}_s": round(v, 2) for k, v in out.items()},
        **{f"{k}_ratio": round(v / anchor, 2) for k, v in out.items() if k != "spark_scan"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--files", type=int, default=4, help="files of the Spark-written folder")
    args = parser.parse_args()

    import pyarrow.parquet as pq
    from table_data import all_types_table, with_defects

    from schemakit.spark import session

    start = time.perf_counter()
    spark = session()
    print(json.dumps({"spark_session_start_s": round(time.perf_counter() - start, 1)}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        single = Path(tmp) / "pyarrow.parquet"
        pq.write_table(with_defects(all_types_table(args.rows)), single, row_group_size=128 * 1024)
        folder = Path(tmp) / "spark-written"
        spark.read.parquet(str(single)).repartition(args.files).write.parquet(str(folder))
        for path in (single, folder):
            print(json.dumps({"rows": args.rows, **measure(spark, path, args.repeat)}), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
