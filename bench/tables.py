"""Benchmark: check-table against a bare pyarrow read of the same Parquet file, Spark beside it, and replay.

    python bench/tables.py [--rows N ...] [--repeat N] [--spark] [--replay-rows N]

For each row count: writes the all-types table (samples/all-types.json, every column) as
Parquet, then measures in the same run, best of --repeat:

- `pyarrow.parquet.read_table` of the file (the anchor) and `schemakit.table.check_table`
  of it, and their ratio;
- the peak resident memory of each, each in a fresh process (Arrow's memory is not
  Python's, so tracemalloc would not see it);
- with --spark, `schemakit.spark.check_dataframe` on a local session (session start
  reported apart);
- `replay` of --replay-rows one-row logged requests (JSON Lines) against the payload
  engine's `validate_json` over the same bodies, requests per second and their ratio.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "table"))
SPEC = str(ROOT / "samples" / "all-types.json")

ROW = {
    "flag": True,
    "small_int": 1,
    "big_int": 2,
    "ratio": 0.5,
    "score": 1.5,
    "label": "a",
    "created_at": "2024-01-01T00:00:00",
    "rating": None,
}


def best(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


_HIGH_WATER = (
    "\nfor line in open('/proc/self/status'):\n"
    "    if line.startswith('VmHWM:'):\n"
    "        print(int(line.split()[1]) // 1024)\n"
)


def peak_rss_mb(code: str) -> int:
    """Peak resident memory of a fresh interpreter running `code`, in MB (VmHWM: rusage would count this process)."""
    result = subprocess.run(
        [sys.executable, "-c", code + _HIGH_WATER], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return int(result.stdout.split()[-1])


def tables(rows: int, folder: Path, repeat: int, spark: Any) -> dict[str, Any]:
    import pyarrow.parquet as pq
    from table_data import all_types_table

    from schemakit.table import check_table

    path = folder / f"all-types-{rows}.parquet"
    if not path.exists():
        # Written a million rows at a time, so building a 10M-row file does not need 10M rows in memory.
        chunk = min(rows, 1_000_000)
        first = all_types_table(chunk)
        with pq.ParquetWriter(path, first.schema) as writer:
            for start in range(0, rows, chunk):
                part = first if start == 0 else all_types_table(min(chunk, rows - start), seed=start)
                writer.write_table(part)
    read = best(repeat, lambda: pq.read_table(path))
    checked = best(repeat, lambda: check_table(path, SPEC))
    out: dict[str, Any] = {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "read_table_s": round(read, 3),
        "check_table_s": round(checked, 3),
        "ratio": round(checked / read, 2),
        "read_table_peak_mb": round(peak_rss_mb(f"import pyarrow.parquet as pq; pq.read_table({str(path)!r})")),
        "check_table_peak_mb": round(
            peak_rss_mb(f"from schemakit.table import check_table; check_table({str(path)!r}, {SPEC!r})")
        ),
        "baseline_peak_mb": round(peak_rss_mb("import pyarrow.parquet, schemakit.table")),
    }
    if spark is not None:
        from schemakit.spark import check_dataframe

        out["spark_local_s"] = round(best(1, lambda: check_dataframe(spark.read.parquet(str(path)), SPEC)), 3)
    return out


def replay_bench(rows: int, folder: Path, repeat: int) -> dict[str, Any]:
    import orjson

    from schemakit import compile_validator, load
    from schemakit.table import replay

    bodies = [orjson.dumps({"dataframe_records": [{**ROW, "big_int": i}]}) for i in range(rows)]
    path = folder / f"requests-{rows}.jsonl"
    with path.open("wb") as out:
        for body in bodies:
            out.write(orjson.dumps({"request": body.decode(), "status_code": 200}) + b"\n")
    validator = compile_validator(load(SPEC).models[0])
    engine = best(repeat, lambda: [validator.validate_json(b) for b in bodies])
    replayed = best(repeat, lambda: replay(path, SPEC))
    return {
        "requests": rows,
        "payload_engine_per_s": round(rows / engine),
        "replay_per_s": round(rows / replayed),
        "ratio": round(replayed / engine, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--spark", action="store_true", help="also time the Spark engine (local session)")
    parser.add_argument("--replay-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    spark = None
    if args.spark:
        from schemakit.spark import session

        start = time.perf_counter()
        spark = session()
        print(json.dumps({"spark_session_start_s": round(time.perf_counter() - start, 1)}))
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            print(json.dumps(tables(rows, Path(tmp), args.repeat, spark)), flush=True)
        if args.replay_rows:
            print(json.dumps(replay_bench(args.replay_rows, Path(tmp), args.repeat)), flush=True)
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
