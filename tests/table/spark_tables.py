"""The same planted table written by every writer at hand (pyarrow, pandas, polars, DuckDB, delta-rs, Spark),
and hostile tables, for the Spark-versus-Arrow differential tests (tests/table/test_spark_tables.py).

Planted defects (rows counted in the table's order): the done-when three at rows 10, 20 and 30
(an int32 overflow, a NaN, a null string), and two more int32 overflows late in the table
(rows N//2+3 and N-2) so that a table split into files or partitions has findings in several.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from table_data import all_types_table, with_defects

ROWS = 600
LATE = (ROWS // 2 + 3, ROWS - 2)
#: The all-types model's columns a CSV, a JSON Lines file or a Delta table holds without nesting.
FLAT = ["flag", "small_int", "big_int", "ratio", "score", "label", "category", "created_at", "nickname", "rating"]


def planted(rows: int = ROWS) -> pa.Table:
    table = with_defects(all_types_table(rows))
    small = table.column("small_int").to_numpy().copy()
    for row in (rows // 2 + 3, rows - 2):
        small[row] = -(2**35)
    return table.set_column(table.schema.get_field_index("small_int"), "small_int", pa.array(small))


def _slices(table: pa.Table, parts: int) -> list[pa.Table]:
    bounds = [len(table) * i // parts for i in range(parts + 1)]
    return [table.slice(bounds[i], bounds[i + 1] - bounds[i]) for i in range(parts)]


def write_tables(folder: Path, spark: Any) -> dict[str, Path]:
    """Every readable table: name -> path. Each holds the planted rows in the same order."""
    import duckdb
    import polars as pl
    import pyarrow.dataset as ds
    import pyarrow.feather as feather
    from deltalake import write_deltalake

    table = planted()
    flat = table.select(FLAT)
    out: dict[str, Path] = {}

    def at(name: str) -> Path:
        out[name] = folder / name
        return out[name]

    pq.write_table(table, at("pyarrow.parquet"), row_group_size=128)
    pq.write_table(table, at("pyarrow-v1.parquet"), version="1.0", use_dictionary=False)
    at("folder").mkdir()
    for i, piece in enumerate(_slices(table, 5)):
        pq.write_table(piece, out["folder"] / f"part-{i:02d}.parquet")
    # Hive partitions: a string category as the folder level (a column of the table).
    ds.write_dataset(flat, at("hive"), format="parquet", partitioning=["category"], partitioning_flavor="hive")
    feather.write_feather(table, at("v2.feather"))
    feather.write_feather(flat, at("lz4.arrow"), compression="lz4")
    frame = flat.to_pandas()
    frame.to_csv(at("pandas.csv"), index=False)
    frame.to_json(at("pandas.jsonl"), orient="records", lines=True, date_format="iso")
    frame.to_parquet(at("pandas.parquet"), engine="pyarrow", index=False)
    with gzip.open(at("pandas.csv.gz"), "wt") as handle:
        frame.to_csv(handle, index=False)
    polars = pl.from_arrow(flat)
    assert isinstance(polars, pl.DataFrame)
    polars.write_parquet(at("polars.parquet"))
    polars.write_ipc(at("polars.arrow"))
    connection = duckdb.connect()
    connection.register("flat", flat)
    connection.execute(f"COPY flat TO '{at('duckdb.parquet')}' (FORMAT parquet)")
    connection.execute(f"COPY flat TO '{at('duckdb-hive')}' (FORMAT parquet, PARTITION_BY (category))")
    connection.close()
    for piece in _slices(flat, 3):
        write_deltalake(str(at("delta")), piece, mode="append")
    for piece in _slices(flat, 2):
        write_deltalake(str(at("delta-partitioned")), piece, mode="append", partition_by=["category"])
    write_spark_tables(folder, spark, flat, out)
    return out


def write_spark_tables(folder: Path, spark: Any, flat: pa.Table, out: dict[str, Path]) -> None:
    """Spark-written tables: INT96 and NTZ timestamps, a partitioned folder, CSV (each 2 files)."""
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(flat).coalesce(1)
    stamped = frame.withColumn("created_at", F.to_timestamp("created_at"))
    spark.conf.set("spark.sql.parquet.outputTimestampType", "INT96")
    try:
        stamped.repartition(2).write.parquet(str(folder / "spark-int96"))
    finally:
        spark.conf.unset("spark.sql.parquet.outputTimestampType")
    out["spark-int96"] = folder / "spark-int96"
    ntz = frame.withColumn("created_at", F.to_timestamp_ntz("created_at"))
    ntz.write.parquet(str(folder / "spark-ntz"))
    out["spark-ntz"] = folder / "spark-ntz"
    stamped.write.parquet(str(folder / "spark-ltz"))
    out["spark-ltz"] = folder / "spark-ltz"
    old = spark.createDataFrame(
        [("1500-06-01 00:00:00",), ("2024-01-01 00:00:00",), ("9000-01-01 00:00:00",)], "created_at string"
    ).select(F.to_timestamp("created_at").alias("created_at"))
    spark.conf.set("spark.sql.parquet.outputTimestampType", "INT96")
    spark.conf.set("spark.sql.parquet.int96RebaseModeInWrite", "CORRECTED")
    try:
        old.coalesce(1).write.parquet(str(folder / "spark-int96-old"))
    finally:
        spark.conf.unset("spark.sql.parquet.outputTimestampType")
        spark.conf.unset("spark.sql.parquet.int96RebaseModeInWrite")
    out["spark-int96-old"] = folder / "spark-int96-old"
    out["spark-int96-old.parquet"] = sorted((folder / "spark-int96-old").glob("part-*.parquet"))[0]
    frame.write.partitionBy("category").parquet(str(folder / "spark-partitioned"))
    out["spark-partitioned"] = folder / "spark-partitioned"
    frame.write.option("header", True).csv(str(folder / "spark-csv"))
    csv = sorted((folder / "spark-csv").glob("part-*.csv"))
    out["spark.csv"] = csv[0]


def write_hostile(folder: Path) -> dict[str, Path]:
    """Tables a reader may refuse, or that hold types Spark has no name for: name -> path."""
    table = planted(200)
    out: dict[str, Path] = {}

    def at(name: str) -> Path:
        out[name] = folder / name
        return out[name]

    nanos = pa.table(
        {
            "created_at": pa.array(np.arange(200, dtype=np.int64) * 10**12 + 10**17, pa.timestamp("ns")),
            "small_int": pa.array(np.arange(200), pa.int64()),
        }
    )
    pq.write_table(nanos, at("nanos.parquet"), version="2.6", coerce_timestamps=None)
    odd = pa.table(
        {
            "big_int": pa.array(np.arange(200, dtype=np.uint64) * (2**58), pa.uint64()),
            "small_int": pa.array(np.arange(200, dtype=np.uint32), pa.uint32()),
            "label": pa.array([f"v{i}" for i in range(200)], pa.string_view()),
            "blob": pa.array([b"x"] * 200, pa.binary_view()),
        }
    )
    with pa.ipc.new_file(at("views.arrow"), odd.schema) as writer:
        writer.write_table(odd)
    pq.write_table(table, folder / "whole.parquet")
    whole = (folder / "whole.parquet").read_bytes()
    at("truncated.parquet").write_bytes(whole[: len(whole) // 2])
    at("empty.parquet").write_bytes(b"")
    at("text.parquet").write_text("not a parquet file\n")
    at("corrupt-folder").mkdir()
    pq.write_table(table.slice(0, 100), out["corrupt-folder"] / "a.parquet")
    (out["corrupt-folder"] / "b.parquet").write_bytes(whole[:100] + b"\0" * 64 + whole[-64:])
    pq.write_table(table.slice(100), out["corrupt-folder"] / "c.parquet")
    at("mixed-folder").mkdir()
    pq.write_table(table.slice(0, 100), out["mixed-folder"] / "a.parquet")
    pq.write_table(table.slice(100).drop_columns(["score"]), out["mixed-folder"] / "b.parquet")
    at("bad-utf8.csv").write_bytes(b"label,small_int\nok,1\n\xff\xfe,2\n")
    at("header-only.csv").write_text("label,small_int\n")
    at("zero-bytes.csv").write_bytes(b"")
    at("bad.jsonl").write_text('{"small_int": 1}\n{"small_int": \n')
    return out
