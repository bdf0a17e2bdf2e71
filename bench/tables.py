"""Benchmark: check-table against a bare read of the same table, per writer, Spark beside it, and replay.

    python bench/tables.py [--rows N ...] [--repeat N] [--writers W ...] [--ten-million] [--large-mb MB]
                           [--spark] [--replay-rows N] [--five-million] [--anchor-only]

For each row count (1M by default; --ten-million adds 10M): writes the all-types table
(samples/all-types.json) with each writer installed (pyarrow Parquet with every column;
pandas, polars, DuckDB and delta-rs Parquet, and pandas CSV, with the flat columns), then
measures in the same run, best of --repeat:

- a bare read of the table (the anchor: `pyarrow.parquet.read_table`, `pyarrow.csv.read_csv`,
  `DeltaTable(...).to_pyarrow_table()`) and `schemakit.table.check_table` of it, and their ratio;
- the anchor of issue 27: one DuckDB query computing the same checks (nulls, int32 range, NaN
  and infinities, the enum, the datetime form, nulls and NaN inside lists, maps and structs,
  each with its count and first row, and the rows' lengths for the batch size) on the
  pyarrow Parquet file, and check-table ÷ DuckDB, wall and CPU (--five-million adds 5M rows;
  --anchor-only skips the rest);
- the peak resident memory of each, each in a fresh process (Arrow's memory is not
  Python's, so tracemalloc would not see it), beside an interpreter that only imports;
- --large-mb MB: one Parquet file of about MB megabytes in large row groups, and
  check-table's peak memory against the file's size (the promise: bounded by the batch);
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


FLAT = [
    "flag",
    "small_int",
    "big_int",
    "ratio",
    "score",
    "label",
    "category",
    "created_at",
    "extra",
    "nickname",
    "rating",
]


def _write(writer: str, rows: int, folder: Path) -> tuple[Path, str]:
    """The all-types table of `rows` rows as `writer` writes it; the path and how to read it bare."""
    import pyarrow.parquet as pq
    from table_data import all_types_table

    chunk = min(rows, 1_000_000)

    def parts(columns: list[str] | None = None) -> Any:
        # A million rows at a time, so a 10M-row table never needs 10M rows in memory.
        for start in range(0, rows, chunk):
            part = all_types_table(min(chunk, rows - start), seed=start or 7)
            yield part.select(columns) if columns else part

    if writer == "pyarrow":
        path = folder / f"pyarrow-{rows}.parquet"
        with pq.ParquetWriter(path, next(parts()).schema) as out:
            for part in parts():
                out.write_table(part)
        return path, "parquet"
    if writer == "delta":
        from deltalake import write_deltalake

        path = folder / f"delta-{rows}"
        for part in parts(FLAT):
            write_deltalake(str(path), part, mode="append")
        return path, "delta"
    path = folder / f"{writer}-{rows}.{'csv' if writer == 'pandas-csv' else 'parquet'}"
    for index, part in enumerate(parts(FLAT)):
        one = path if rows <= chunk else path.with_name(f"{path.stem}-{index:03d}{path.suffix}")
        if writer == "pandas":
            part.to_pandas().to_parquet(one, index=False)
        elif writer == "pandas-csv":
            part.to_pandas().to_csv(one, index=False)
        elif writer == "polars":
            import polars as pl

            pl.from_arrow(part).write_parquet(one)
        elif writer == "duckdb":
            import duckdb

            con = duckdb.connect()
            con.register("part", part)
            con.execute(f"COPY part TO '{one}' (FORMAT parquet)")
            con.close()
    if rows > chunk:  # the parts of a large table go in a folder, as a pipeline writes them
        target = folder / f"{writer}-{rows}"
        target.mkdir(exist_ok=True)
        for one in folder.glob(f"{path.stem}-*{path.suffix}"):
            one.rename(target / one.name)
        path = target
    return path, "csv" if writer == "pandas-csv" else "parquet"


_BARE = {
    "parquet": "import pyarrow.parquet as pq; pq.read_table({path!r})",
    "csv": "import pyarrow.dataset as ds; ds.dataset({path!r}, format='csv').to_table()",
    "delta": "from deltalake import DeltaTable; DeltaTable({path!r}).to_pyarrow_table()",
}


def _bare(kind: str, path: Path) -> Callable[[], Any]:
    namespace: dict[str, Any] = {}
    code = _BARE[kind].format(path=str(path))
    return lambda: exec(code, namespace)


def tables(rows: int, folder: Path, repeat: int, spark: Any, writers: list[str]) -> list[dict[str, Any]]:
    from schemakit.table import check_table

    results = []
    for writer in writers:
        path, kind = _write(writer, rows, folder)
        read = best(repeat, _bare(kind, path))
        checked = best(repeat, lambda path=path: check_table(path, SPEC))
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
        out: dict[str, Any] = {
            "writer": writer,
            "rows": rows,
            "table_mb": round(size / 1e6, 1),
            "bare_read_s": round(read, 3),
            "check_table_s": round(checked, 3),
            "ratio": round(checked / read, 2),
            "bare_read_peak_mb": round(peak_rss_mb(_BARE[kind].format(path=str(path)))),
            "check_table_peak_mb": round(
                peak_rss_mb(f"from schemakit.table import check_table; check_table({str(path)!r}, {SPEC!r})")
            ),
            "baseline_peak_mb": round(peak_rss_mb("import pyarrow.parquet, schemakit.table")),
        }
        if spark is not None and kind == "parquet":
            from schemakit.spark import check_dataframe

            out["spark_local_s"] = round(
                best(1, lambda path=path: check_dataframe(spark.read.parquet(str(path)), SPEC)), 3
            )
        results.append(out)
    return results


#: The checks check-table makes on the all-types model, as DuckDB predicates (a row fails where one holds):
#: nulls in required columns, int32 range, NaN and infinities (float32 range too), the enum, the datetime
#: form, nulls and NaN inside lists, maps and structs.
_DUCKDB_CHECKS = {
    "flag": "flag IS NULL",
    "small_int": "small_int IS NULL OR small_int NOT BETWEEN -2147483648 AND 2147483647",
    "big_int": "big_int IS NULL",
    "ratio": "ratio IS NULL OR NOT isfinite(ratio)",
    "score": "score IS NULL OR NOT isfinite(score)",
    "label": "label IS NULL",
    "category": "category NOT IN ('news', 'sports', 'weather')",
    "created_at": "created_at IS NULL OR try_strptime(created_at, '%Y-%m-%dT%H:%M:%S') IS NULL",
    "tags": "len(list_filter(tags, lambda x: x IS NULL)) > 0",
    "matrix": "len(list_filter(flatten(matrix), lambda x: x IS NULL OR NOT isfinite(x))) > 0",
    "location": "location.lat IS NULL OR location.lon IS NULL OR NOT isfinite(location.lat) "
    "OR NOT isfinite(location.lon)",
    "counts": "len(list_filter(map_values(counts), lambda x: x IS NULL)) > 0",
    "rating": "rating IS NULL",
}
# NOT isfinite, not isnan: with a first-row capture beside the count, DuckDB 2.0.1 pruned the row group of a NaN
# by its Parquet statistics (which leave NaN out) for isnan() and BETWEEN, and found nothing.

#: The batch-size estimate's inputs: each row's text, binary and list lengths.
_DUCKDB_LENGTHS = (
    "strlen(label) + coalesce(strlen(category), 0) + octet_length(blob) + strlen(created_at) + len(tags)"
    " + len(flatten(matrix)) + coalesce(strlen(location.name), 0) + cardinality(counts) + coalesce(strlen(extra), 0)"
    " + coalesce(strlen(nickname), 0)"
)


def duckdb_query(path: Path) -> str:
    """One query: for every check, the failing rows' count and first row number; the rows' largest and total length."""
    parts = []
    for name, failing in _DUCKDB_CHECKS.items():
        parts.append(f"count(*) FILTER (WHERE {failing}) AS {name}_count")
        parts.append(f"min(file_row_number) FILTER (WHERE {failing}) AS {name}_first")
    parts += [f"max({_DUCKDB_LENGTHS}) AS longest", f"sum({_DUCKDB_LENGTHS}) AS total", "count(*) AS rows"]
    return f"SELECT {', '.join(parts)} FROM read_parquet('{path}', file_row_number = true)"


def _agree(con: Any, folder: Path) -> None:
    """The query finds what check-table finds (count and first row) on the done-when defects."""
    import pyarrow.parquet as pq
    from table_data import all_types_table, with_defects

    from schemakit.table import check_table

    path = folder / "defects.parquet"
    pq.write_table(with_defects(all_types_table(1000)), path)
    cursor = con.execute(duckdb_query(path))
    found = dict(zip([d[0] for d in cursor.description], cursor.fetchall()[0], strict=True))
    duck = {(n, found[f"{n}_count"], found[f"{n}_first"]) for n in _DUCKDB_CHECKS if found[f"{n}_count"]}
    ours = {(f.column, f.count, f.rows[0]) for f in check_table(path, SPEC).findings}
    assert duck == ours, (duck, ours)


def _cpu_and_wall(repeat: int, run: Callable[[], Any]) -> tuple[float, float]:
    """Best wall time and best process CPU time (threads included) of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def duckdb_anchor(rows: int, folder: Path, repeat: int) -> dict[str, Any]:
    """check-table against one DuckDB query computing the same checks on the same Parquet file (issue 27)."""
    import duckdb

    from schemakit.table import check_table

    path, _ = _write("pyarrow", rows, folder)
    con = duckdb.connect()
    query = duckdb_query(path)
    result = con.execute(query).fetchall()[0]
    assert result[-1] == rows, result
    _agree(con, folder)
    ducked = _cpu_and_wall(repeat, lambda: con.execute(query).fetchall())
    checked = _cpu_and_wall(repeat, lambda: check_table(path, SPEC))
    con.close()
    return {
        "anchor": "duckdb",
        "rows": rows,
        "duckdb_s": round(ducked[0], 3),
        "duckdb_cpu_s": round(ducked[1], 3),
        "check_table_s": round(checked[0], 3),
        "check_table_cpu_s": round(checked[1], 3),
        "ratio": round(checked[0] / ducked[0], 2),
        "cpu_ratio": round(checked[1] / ducked[1], 2),
    }


def large_parquet(megabytes: int, folder: Path) -> dict[str, Any]:
    """One Parquet file of about `megabytes` MB in row groups of 1M rows: check-table's peak memory against its size."""
    import pyarrow.parquet as pq
    from table_data import all_types_table

    path = folder / f"large-{megabytes}mb.parquet"
    part = all_types_table(1_000_000).select(FLAT)
    probe = folder / "probe.parquet"
    pq.write_table(part, probe)
    parts = max(1, round(megabytes * 1_000_000 / probe.stat().st_size))
    with pq.ParquetWriter(path, part.schema) as out:
        for index in range(parts):
            out.write_table(part if index == 0 else all_types_table(1_000_000, seed=index).select(FLAT))
    return {
        "large_parquet_mb": round(path.stat().st_size / 1e6),
        "rows": pq.ParquetFile(path).metadata.num_rows,
        "check_table_peak_mb": round(
            peak_rss_mb(f"from schemakit.table import check_table; check_table({str(path)!r}, {SPEC!r})")
        ),
        "baseline_peak_mb": round(peak_rss_mb("import pyarrow.parquet, schemakit.table")),
    }


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


WRITERS = ["pyarrow", "pandas", "polars", "duckdb", "delta", "pandas-csv"]


def main() -> None:
    import importlib.util

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--ten-million", action="store_true", help="also 10M rows (minutes, and GBs of disk)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writers", nargs="+", default=WRITERS, choices=WRITERS)
    parser.add_argument("--large-mb", type=int, default=0, help="a Parquet file of about this many MB (e.g. 2600)")
    parser.add_argument("--spark", action="store_true", help="also time the Spark engine (local session)")
    parser.add_argument("--replay-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--five-million", action="store_true", help="also the DuckDB anchor at 5M rows (a 5M-row Parquet file)"
    )
    parser.add_argument(
        "--anchor-only", action="store_true", help="only check-table against the DuckDB query (no writers, no replay)"
    )
    args = parser.parse_args()
    modules = {"pandas": "pandas", "pandas-csv": "pandas", "polars": "polars", "duckdb": "duckdb", "delta": "deltalake"}
    writers = [w for w in args.writers if importlib.util.find_spec(modules.get(w, "pyarrow")) is not None]
    spark = None
    if args.spark:
        from schemakit.spark import session

        start = time.perf_counter()
        spark = session()
        print(json.dumps({"spark_session_start_s": round(time.perf_counter() - start, 1)}))
    rows = [*args.rows, *([10_000_000] if args.ten_million else [])]
    with tempfile.TemporaryDirectory() as tmp:
        if importlib.util.find_spec("duckdb") is not None:
            for count in [*args.rows, *([5_000_000] if args.five_million else [])]:
                print(json.dumps(duckdb_anchor(count, Path(tmp), args.repeat)), flush=True)
        if args.anchor_only:
            return
        for count in rows:
            for result in tables(count, Path(tmp), args.repeat, spark, writers):
                print(json.dumps(result), flush=True)
        if args.large_mb:
            print(json.dumps(large_parquet(args.large_mb, Path(tmp))), flush=True)
        if args.replay_rows:
            print(json.dumps(replay_bench(args.replay_rows, Path(tmp), args.repeat)), flush=True)
    if spark is not None:
        spark.stop()


if __name__ == "__main__":
    main()
