"""Conformance: tables written by every real writer give `check`'s verdict on the same rows.

For each writer (pyarrow, pandas with each engine, polars, DuckDB, delta-rs; those installed),
`check-table` must find the planted defects, and its findings (column, rule, row) must equal
what `check` finds in a `dataframe_split` request of the rows the table holds. A hypothesis
property does the same on generated Arrow tables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")

sys.path.insert(0, str(Path(__file__).parent))
import conformance  # noqa: E402

import schemakit  # noqa: E402
from schemakit.runtime.payload_rules import PAYLOAD_RULES  # noqa: E402
from schemakit.table import check_table  # noqa: E402
from schemakit.table.engine import partition_types, pick_model, text_columns  # noqa: E402
from schemakit.table.sources import open_table  # noqa: E402

#: Until `check` has the rule (the hardening branch adds it), its findings are compared without it.
CHECK_KNOWS_INTEGER_NULL = any(rule.code == "integer-null" for rule in PAYLOAD_RULES)


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("conformance") / "model.json"
    path.write_text(json.dumps(conformance.model_document()))
    return str(path)


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("writers")
    table = conformance.planted_table()
    return {name: conformance.WRITERS[name][1](table, folder) for name in conformance.available_writers()}


def table_findings(report: Any) -> set[tuple[str, str, int]]:
    """(column, rule, row) of every finding; a nested path (`counts{}`, `location.lat`) counts for its column,
    as `check` names the column of a nested problem."""
    names = sorted(report.columns, key=len, reverse=True)

    def column(path: str) -> str:
        for name in names:
            if path == name or (path.startswith(name) and path[len(name)] in "[{."):
                return name
        return path

    out = set()
    for f in report.findings:
        # The form rule: `check` names the first row written in another form (and counts the rest),
        # check-table lists the first N; the first row is the one both name.
        rows = f.rows[:1] if "in the form of its first value" in f.message else f.rows
        out.update((column(f.column), f.code, row) for row in rows)
    return out


def check_findings(model: Any, table: Any) -> set[tuple[str, str, int]]:
    report = schemakit.check_payload(model, conformance.request_of(table))
    return {(p.column, p.code, p.row) for p in report.problems if p.row is not None and p.column is not None}


def rows_of(path: Path | str, model: Any) -> Any:
    source = open_table(path, text_columns=text_columns(model), column_types=partition_types(model))
    return pa.Table.from_batches(list(source.batches()), schema=source.schema)


def agree(path: Any, model_file: str) -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]]]:
    model = pick_model(model_file, None)
    report = check_table(path, model, max_rows_per_finding=1_000)
    found = table_findings(report)
    table = rows_of(path, model) if isinstance(path, (str, os.PathLike)) else path
    expected = check_findings(model, table)
    if not CHECK_KNOWS_INTEGER_NULL:
        found = {f for f in found if f[1] != "integer-null"}
    return found, expected


@pytest.mark.parametrize("writer", conformance.available_writers())
def test_writer_table_gives_checks_verdict(writer: str, written: dict[str, Path], model_path: str) -> None:
    path = written[writer]
    report = check_table(path, model_path, max_rows_per_finding=1_000)
    found = table_findings(report)
    assert report.rows == conformance.N
    planted = conformance.PLANTED
    if writer in ("duckdb-partitioned", "delta-partitioned"):
        # Partitions are read partition by partition: rows are renumbered, the findings' columns and rules stay.
        assert {(c, r) for c, r, _ in planted} <= {(c, r) for c, r, _ in found}
    else:
        assert planted <= found, sorted(found)
        # "NA" is text in a text column: no writer's table makes it a null.
        assert ("text", "type", 6) not in found
    table_side, check_side = agree(path, model_path)
    assert table_side == check_side


def test_fastparquet_skips_cleanly_when_absent() -> None:
    if "pandas-fastparquet" not in conformance.available_writers():
        pytest.skip("fastparquet is not installed")


def test_in_memory_frames_agree(model_path: str) -> None:
    table = conformance.planted_table()
    frames: list[Any] = [table, pa.RecordBatchReader.from_batches(table.schema, table.to_batches())]
    frames.append(table.to_pandas(coerce_temporal_nanoseconds=False))
    pl = pytest.importorskip("polars")
    frames.append(pl.from_arrow(table))
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register("planted", table)
    frames.append(con.sql("select * from planted"))
    for frame in frames:
        report = check_table(frame, model_path, max_rows_per_finding=1_000)
        assert table_findings(report) >= conformance.PLANTED, type(frame)


def test_duckdb_uuid_and_json_columns_are_text(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    doc = conformance.model_document()
    signature = {
        "inputs": json.dumps([{"type": "string", "name": "id"}, {"type": "string", "name": "doc"}]),
        "outputs": conformance.SIGNATURE["outputs"],
    }
    from schemakit.mlflow.document import document_from_signature

    doc = document_from_signature(signature, endpoint="ids", served_model="ids-1")
    spec = tmp_path / "ids.json"
    spec.write_text(json.dumps(doc))
    con = duckdb.connect()
    path = tmp_path / "ids.parquet"
    con.execute(f"COPY (SELECT uuid() AS id, '{{\"a\": 1}}'::JSON AS doc FROM range(5)) TO '{path}' (FORMAT parquet)")
    relation = con.sql("SELECT uuid() AS id, '{\"a\": 1}'::JSON AS doc FROM range(5)")
    for table in (path, relation):
        report = check_table(table, str(spec))
        assert report.ok, report.to_text()


# -- generated tables ---------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("SCHEMAKIT_FUZZ_EXAMPLES", "25"))

_INT64 = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63)]))
_FLOAT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2.0**63, -(2.0**63), 2.0**31, 1.0, 0.5, 9.223372036854775e18]),
)
_WHEN = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))


@st.composite
def generated_tables(draw: Any) -> Any:
    n = draw(st.integers(1, 6))

    def column(values: Any, nullable: bool = True) -> Any:
        return draw(st.lists(st.one_of(st.none(), values) if nullable else values, min_size=n, max_size=n))

    unit = draw(st.sampled_from(["s", "ms", "us"]))
    i32_type = draw(st.sampled_from([pa.int64(), pa.float64(), pa.uint64()]))
    i32_values = column(
        st.integers(0, 2**64 - 1) if i32_type == pa.uint64() else (_INT64 if i32_type == pa.int64() else _FLOAT)
    )
    return pa.table(
        {
            "flag": pa.array(column(st.booleans(), nullable=False)),
            "i32": pa.array(i32_values, i32_type),
            "i64": pa.array(column(_FLOAT), pa.float64()),
            "opt_i64": pa.array(column(_INT64), pa.int64()),
            "f32": pa.array(column(st.floats(width=32)), pa.float32()),
            "f64": pa.array(column(_FLOAT), pa.float64()),
            "text": pa.array(column(st.text(max_size=5)), pa.string()),
            "when": pa.array(column(_WHEN), pa.timestamp(unit)),
        }
    )


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_tables())
def test_generated_tables_agree_with_check(model_path: str, table: Any) -> None:
    found, expected = agree(table, model_path)
    assert found == expected


ALL_TYPES = str(Path(__file__).resolve().parents[2] / "samples" / "all-types.json")
_DATETIME_TEXT = st.one_of(
    st.sampled_from(
        ["2024-01-01T00:00:00", "2024-02-30T00:00:00", "1677-09-21T00:12:43", "2262-04-12T00:00:00", "2024-01-01 10:00",
         "2024-01-01T00:00:00Z", "2024-01-01", "garbage", "2024-01-01T00:00:00.123456789"]
    ),
    _WHEN.map(lambda d: d.isoformat()),
)  # fmt: skip


@st.composite
def nested_tables(draw: Any) -> Any:
    """The all-types model's columns, nested ones included, with hostile values where a request can carry them."""
    n = draw(st.integers(1, 5))

    def column(values: Any, nullable: bool = True) -> Any:
        return draw(st.lists(st.one_of(st.none(), values) if nullable else values, min_size=n, max_size=n))

    number = st.one_of(_FLOAT, _INT64.map(float))
    count_type = draw(st.sampled_from([pa.int64(), pa.float64()]))
    counts = column(
        st.dictionaries(st.sampled_from(["a", "b", "c"]), _INT64 if count_type == pa.int64() else _FLOAT, max_size=3)
    )
    decimals = column(
        st.decimals(allow_nan=False, allow_infinity=False, places=draw(st.sampled_from([0, 2]))).filter(
            lambda d: abs(d) < 10**30
        )
    )
    return pa.table(
        {
            "flag": pa.array(column(st.booleans(), nullable=False)),
            "small_int": pa.array(column(st.integers(-(2**40), 2**40)), pa.int64()),
            "big_int": pa.array(decimals, pa.decimal128(38, 2)),
            "ratio": pa.array(column(number), pa.float64()),
            "score": pa.array(column(number), pa.float64()),
            "label": pa.array(column(st.text(max_size=4))),
            "category": pa.array(column(st.sampled_from(["news", "sports", "weather", "other"]))).dictionary_encode(),
            "blob": pa.array(column(st.sampled_from(["aGk=", "not base64", "", "aGk"]))),
            "created_at": pa.array(column(_DATETIME_TEXT), pa.string()),
            "tags": pa.array(column(st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=3)), pa.list_(pa.string())),
            "matrix": pa.array(column(st.lists(st.lists(st.one_of(st.none(), _FLOAT), max_size=2), max_size=2)), pa.list_(pa.list_(pa.float64()))),
            "location": pa.array(column(st.fixed_dictionaries({"lat": st.one_of(st.none(), _FLOAT), "name": st.one_of(st.none(), st.text(max_size=3))})), pa.struct([("lat", pa.float64()), ("name", pa.string())])),
            "counts": pa.array([None if c is None else list(c.items()) for c in counts], pa.map_(pa.string(), count_type)),
            "rating": pa.array(column(_INT64), pa.int64()),
        }
    )  # fmt: skip


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_tables())
def test_generated_nested_tables_agree_with_check(table: Any) -> None:
    found, expected = agree(table, ALL_TYPES)
    assert found == expected
