"""The conformance tables: the same planted columns written by every real writer available.

Each writer gets the same rows (`planted_rows`) and writes them as it writes by default;
`MODEL` is the document of an MLflow model whose signature matches the columns. Row 1 holds
an int32 overflow, row 3 a null in a required text column, row 4 a null in an optional long
column (MLflow refuses it), row 5 a datetime past 2262; row 6 holds text that CSV readers take
for a null by default ("NA"). The differential test checks each table with `check-table` and
its rows, as a `dataframe_split` request, with `check`.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

INPUTS = [
    {"type": "boolean", "name": "flag", "required": True},
    {"type": "integer", "name": "i32", "required": True},
    {"type": "long", "name": "i64", "required": True},
    {"type": "long", "name": "opt_i64", "required": False},
    {"type": "float", "name": "f32", "required": True},
    {"type": "double", "name": "f64", "required": True},
    {"type": "string", "name": "text", "required": True},
    {"type": "datetime", "name": "when", "required": True},
]
SIGNATURE = {"inputs": json.dumps(INPUTS), "outputs": json.dumps([{"type": "double", "required": True}])}

#: (column, rule, row) that every writer's table must produce.
PLANTED = {
    ("i32", "int-range", 1),
    ("text", "type", 3),
    ("opt_i64", "integer-null", 4),
    ("when", "datetime-iso8601", 5),
}

N = 8


def model_document() -> dict[str, Any]:
    from schemakit.mlflow.document import document_from_signature

    return document_from_signature(SIGNATURE, endpoint="conformance", served_model="conformance-1")


def planted_table() -> pa.Table:
    """The rows as pyarrow holds them (timestamps in microseconds: year 2300 fits)."""
    when = [dt.datetime(2024, 1, 1) + dt.timedelta(days=i, seconds=7 * i) for i in range(N)]
    when[5] = dt.datetime(2300, 1, 1)
    text = [f"t{i}" for i in range(N)]
    text[3] = None  # type: ignore[call-overload]
    text[6] = "NA"
    i32 = list(range(N))
    i32[1] = 2**40
    opt = [10 * i for i in range(N)]
    opt[4] = None  # type: ignore[call-overload]
    return pa.table(
        {
            "flag": pa.array([i % 2 == 0 for i in range(N)]),
            "i32": pa.array(i32, pa.int64()),
            "i64": pa.array([2**62 + i for i in range(N)], pa.int64()),
            "opt_i64": pa.array(opt, pa.int64()),
            "f32": pa.array([0.5 * i for i in range(N)], pa.float32()),
            "f64": pa.array([1.25 * i for i in range(N)], pa.float64()),
            "text": pa.array(text, pa.string()),
            "when": pa.array(when, pa.timestamp("us")),
        }
    )


def _pandas(table: pa.Table, *, nullable: bool = False) -> Any:
    frame = table.to_pandas(timestamp_as_object=False, coerce_temporal_nanoseconds=False)
    if nullable:
        frame = table.to_pandas(types_mapper={pa.int64(): __import__("pandas").Int64Dtype()}.get)
    return frame


Writer = Callable[[pa.Table, Path], Path]


def _pq(version: str, **options: Any) -> Writer:
    def write(table: pa.Table, folder: Path) -> Path:
        import pyarrow.parquet as pq

        path = folder / f"pyarrow-{version}.parquet"
        pq.write_table(table, path, version=version, **options)
        return path

    return write


def _pq_dictionary(table: pa.Table, folder: Path) -> Path:
    import pyarrow.parquet as pq

    path = folder / "pyarrow-dictionary.parquet"
    column = table.schema.get_field_index("text")
    pq.write_table(table.set_column(column, "text", table.column("text").dictionary_encode()), path)
    return path


def _feather(version: int) -> Writer:
    def write(table: pa.Table, folder: Path) -> Path:
        import warnings

        import pyarrow.feather as feather

        path = folder / f"feather-v{version}.feather"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Feather v1 is deprecated, and users still have it
            if version == 1:
                feather.write_feather(table, path, version=1)
            else:
                feather.write_feather(table, path, compression="zstd")
        return path

    return write


def _pandas_parquet(engine: str) -> Writer:
    def write(table: pa.Table, folder: Path) -> Path:
        import warnings

        path = folder / f"pandas-{engine}.parquet"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecates the fastparquet engine; tables written with it remain
            _pandas(table).to_parquet(path, engine=engine, index=False)
        return path

    return write


def _pandas_nullable(table: pa.Table, folder: Path) -> Path:
    path = folder / "pandas-nullable.parquet"
    frame = _pandas(table)
    frame["opt_i64"] = frame["opt_i64"].astype("Int64")
    frame["text"] = frame["text"].astype("string")
    frame.to_parquet(path, index=False)
    return path


def _pandas_csv(table: pa.Table, folder: Path) -> Path:
    path = folder / "pandas.csv"
    _pandas(table).to_csv(path, index=False)
    return path


def _pandas_csv_gz(table: pa.Table, folder: Path) -> Path:
    path = folder / "pandas.csv.gz"
    _pandas(table).to_csv(path, index=False)
    return path


def _pandas_jsonl(table: pa.Table, folder: Path) -> Path:
    path = folder / "pandas.jsonl"
    _pandas(table).to_json(path, orient="records", lines=True, date_format="iso")
    return path


def _polars(kind: str) -> Writer:
    def write(table: pa.Table, folder: Path) -> Path:
        import polars as pl

        frame = pl.from_arrow(table)
        path = folder / f"polars.{kind}"
        getattr(
            frame, {"parquet": "write_parquet", "arrow": "write_ipc", "csv": "write_csv", "jsonl": "write_ndjson"}[kind]
        )(path)
        return path

    return write


def _duckdb(kind: str) -> Writer:
    def write(table: pa.Table, folder: Path) -> Path:
        import duckdb

        con = duckdb.connect()
        con.register("planted", table)
        if kind == "partitioned":
            path = folder / "duckdb-partitioned"
            con.execute(f"COPY planted TO '{path}' (FORMAT parquet, PARTITION_BY (flag))")
        else:
            path = folder / f"duckdb.{kind}"
            con.execute(f"COPY planted TO '{path}' (FORMAT {kind})")
        con.close()
        return path

    return write


def _delta(mode: str) -> Writer:
    def write(table: pa.Table, folder: Path) -> Path:
        from deltalake import DeltaTable, write_deltalake

        path = folder / f"delta-{mode}"
        if mode == "partitioned":
            write_deltalake(str(path), table, partition_by=["flag"])
        elif mode == "appends":
            write_deltalake(str(path), table.slice(0, 4))
            write_deltalake(str(path), table.slice(4), mode="append")
        elif mode == "overwrite":
            write_deltalake(str(path), table.slice(0, 2))
            write_deltalake(str(path), table, mode="overwrite")
        else:  # delete: extra rows written, then deleted
            extra = table.slice(0, 2).set_column(1, "i32", pa.array([-7, -7], pa.int64()))
            write_deltalake(str(path), pa.concat_tables([table, extra]))
            DeltaTable(str(path)).delete("i32 = -7")
        return path

    return write


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


#: name -> (module it needs, writer)
WRITERS: dict[str, tuple[str, Writer]] = {
    "pyarrow-1.0": ("pyarrow", _pq("1.0")),
    "pyarrow-2.4": ("pyarrow", _pq("2.4")),
    "pyarrow-2.6": ("pyarrow", _pq("2.6")),
    "pyarrow-dictionary": ("pyarrow", _pq_dictionary),
    "feather-v1": ("pyarrow", _feather(1)),
    "feather-v2": ("pyarrow", _feather(2)),
    "pandas-pyarrow": ("pandas", _pandas_parquet("pyarrow")),
    "pandas-fastparquet": ("fastparquet", _pandas_parquet("fastparquet")),
    "pandas-nullable": ("pandas", _pandas_nullable),
    "pandas-csv": ("pandas", _pandas_csv),
    "pandas-csv-gz": ("pandas", _pandas_csv_gz),
    "pandas-jsonl": ("pandas", _pandas_jsonl),
    "polars-parquet": ("polars", _polars("parquet")),
    "polars-ipc": ("polars", _polars("arrow")),
    "polars-csv": ("polars", _polars("csv")),
    "polars-jsonl": ("polars", _polars("jsonl")),
    "duckdb-parquet": ("duckdb", _duckdb("parquet")),
    "duckdb-csv": ("duckdb", _duckdb("csv")),
    "duckdb-partitioned": ("duckdb", _duckdb("partitioned")),
    "delta-partitioned": ("deltalake", _delta("partitioned")),
    "delta-appends": ("deltalake", _delta("appends")),
    "delta-overwrite": ("deltalake", _delta("overwrite")),
    "delta-delete": ("deltalake", _delta("delete")),
}


def available_writers() -> list[str]:
    return [name for name, (module, _) in WRITERS.items() if _available(module)]


# -- the same rows as a request ---------------------------------------------------------------


def json_value(value: Any, t: Any = None) -> Any:
    """A cell as a request writer puts it in JSON (datetimes ISO-8601, bytes base64, decimals as numbers,
    maps as objects); `t` is its Arrow type, where the value alone does not say (an empty map)."""
    if t is not None and pa.types.is_dictionary(t):
        t = t.value_type
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, decimal.Decimal):
        # As written: 2 is an integer, 2.0 (a scale of 1) a float.
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if t is not None and pa.types.is_map(t):
        return {str(k): json_value(v, t.item_type) for k, v in value}
    if isinstance(value, dict):
        fields = {f.name: f.type for f in t} if t is not None and pa.types.is_struct(t) else {}
        return {k: json_value(v, fields.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        item = t.value_type if t is not None and hasattr(t, "value_type") else None
        return [json_value(v, item) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return value
    return value


def request_of(table: pa.Table) -> dict[str, Any]:
    types = table.schema.types
    rows = [[json_value(v, t) for v, t in zip(row.values(), types, strict=True)] for row in table.to_pylist()]
    return {"dataframe_split": {"columns": table.column_names, "data": rows}}
