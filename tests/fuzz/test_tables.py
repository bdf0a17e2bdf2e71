"""Hostile Arrow tables through the Arrow engine: every type, extremes, nulls, bad UTF-8, deep nesting,
hostile column names. The only failure allowed is the project's one-line error (`SchemakitError`).

Fixed seed (derandomize) in `make test`; SCHEMAKIT_FUZZ_EXAMPLES raises the count under `make fuzz`.
"""

from __future__ import annotations

import decimal
import json
import os
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from schemakit._exceptions import SchemakitError  # noqa: E402
from schemakit.table import check_table  # noqa: E402
from schemakit.table.engine import pick_model  # noqa: E402

EXAMPLES = int(os.environ.get("SCHEMAKIT_FUZZ_EXAMPLES", "40"))
ROOT = Path(__file__).resolve().parents[2]
MODEL = pick_model(str(ROOT / "samples" / "all-types.json"), None)
NAMES = [c.name for f in MODEL.formats for c in f.columns] or ["small_int"]
HOSTILE_NAMES = ["", "::error title=x::pwned", "a\nb", "\x1b]8;;x\x07", "\u202e", "a.b", "[]", "{}"]

_INT64 = st.integers(-(2**63), 2**63 - 1)


def _array(draw: Any, n: int) -> Any:
    """One column of a hostile type: every Arrow type family, encoded every way, with extremes and nulls."""
    kind = draw(
        st.sampled_from(
            [
                "int8", "uint64", "int64", "float16", "float64", "decimal32", "decimal128", "decimal256",
                "string", "large_string", "string_view", "binary", "bad_utf8", "bool", "date32", "date64",
                "timestamp", "timestamp_tz", "time64", "time32", "duration", "interval", "uuid", "json", "dictionary",
                "run_end", "list", "list_view", "large_list_view", "fixed_list", "struct", "map", "deep",
                "null", "union",
            ]
        )
    )  # fmt: skip

    def values(strategy: Any) -> list[Any]:
        return draw(st.lists(st.one_of(st.none(), strategy), min_size=n, max_size=n))

    if kind == "int8":
        return pa.array(values(st.integers(-128, 127)), pa.int8())
    if kind == "uint64":
        return pa.array(values(st.integers(0, 2**64 - 1)), pa.uint64())
    if kind == "int64":
        return pa.array(values(_INT64), pa.int64())
    if kind == "float16":
        import numpy as np

        return pa.array(np.array([v or 0.0 for v in values(st.floats(width=16))], dtype=np.float16))
    if kind == "float64":
        return pa.array(values(st.floats()), pa.float64())
    if kind.startswith("decimal"):
        precision = {"decimal32": 9, "decimal128": 38, "decimal256": 76}[kind]
        scale = draw(st.integers(0, min(precision, 6)))
        factory = getattr(pa, kind)
        digits = st.integers(-(10 ** (precision - 1)), 10 ** (precision - 1))
        return pa.array(
            [None if v is None else decimal.Decimal(v).scaleb(-scale) for v in values(digits)],
            factory(precision, scale),
        )
    if kind in ("string", "large_string", "string_view"):
        return pa.array(values(st.text(max_size=8)), getattr(pa, kind)())
    if kind == "binary":
        return pa.array(values(st.binary(max_size=8)), pa.binary())
    if kind == "bad_utf8":
        return pa.array(values(st.binary(max_size=8)), pa.binary()).view(pa.string())
    if kind == "bool":
        return pa.array(values(st.booleans()), pa.bool_())
    if kind == "date32":
        return pa.array(values(st.integers(-(2**31), 2**31 - 1)), pa.int32()).cast(pa.date32())
    if kind == "date64":
        return pa.array(values(_INT64), pa.int64()).cast(pa.date64())
    if kind in ("timestamp", "timestamp_tz"):
        unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
        tz = "UTC" if kind == "timestamp_tz" else None
        return pa.array(values(_INT64), pa.int64()).cast(pa.timestamp(unit, tz))
    if kind == "time64":
        return pa.array(values(st.integers(0, 86_400 * 10**6 - 1)), pa.int64()).cast(pa.time64("us"))
    if kind == "time32":
        return pa.array(values(st.integers(0, 86_399)), pa.int32()).cast(pa.time32("s"))
    if kind == "duration":
        return pa.array(values(_INT64), pa.int64()).cast(pa.duration("ms"))
    if kind == "interval":
        return pa.array(
            [None if v is None else pa.MonthDayNano([v, v, v]) for v in values(st.integers(-100, 100))],
            pa.month_day_nano_interval(),
        )
    if kind == "uuid":
        return pa.array([None if v is None else v.bytes for v in values(st.uuids())], pa.uuid())
    if kind == "json":
        return pa.array(values(st.sampled_from(["{}", "[1]", "null", "bad"])), pa.json_())
    if kind == "dictionary":
        return pa.array(values(st.sampled_from(["news", "x", ""])), pa.string()).dictionary_encode()
    if kind == "run_end":
        return pc.run_end_encode(pa.array(values(_INT64), pa.int64()))
    if kind in ("list", "list_view", "large_list_view", "fixed_list"):
        items = values(st.lists(st.one_of(st.none(), st.floats()), min_size=2, max_size=2))
        if kind == "fixed_list":
            return pa.array(items, pa.list_(pa.float64(), 2))
        return pa.array(
            items,
            {"list": pa.list_, "list_view": pa.list_view, "large_list_view": pa.large_list_view}[kind](pa.float64()),
        )
    if kind == "struct":
        return pa.array(values(st.fixed_dictionaries({"lat": st.floats(), "name": st.text(max_size=3)})))
    if kind == "map":
        rows = values(st.dictionaries(st.text(max_size=3), _INT64, max_size=3))
        return pa.array([None if r is None else list(r.items()) for r in rows], pa.map_(pa.string(), pa.int64()))
    if kind == "deep":
        depth = draw(st.integers(1, 60))
        arr = pa.array(values(st.integers(0, 5)), pa.int64())
        for _ in range(depth):
            arr = pa.ListArray.from_arrays(pa.array(list(range(len(arr) + 1)), pa.int32()), arr)
        return arr
    if kind == "union":
        return pa.UnionArray.from_sparse(
            pa.array([0] * n, pa.int8()), [pa.array(list(range(n)), pa.int64()), pa.array(["a"] * n)]
        )
    return pa.nulls(n)


@st.composite
def hostile_tables(draw: Any) -> Any:
    n = draw(st.integers(0, 5))
    width = draw(st.integers(1, 5))
    names = [draw(st.sampled_from(NAMES + HOSTILE_NAMES)) for _ in range(width)]
    return pa.Table.from_arrays([_array(draw, n) for _ in range(width)], names=names)


def _run(table: Any) -> None:
    try:
        report = check_table(table, MODEL, max_rows_per_finding=3)
    except SchemakitError as exc:
        message = str(exc)
    else:
        message = ""
    assert "\n" not in message
    if message:
        return
    text = report.to_text()
    json.dumps(report.to_json())
    assert not any(line.startswith("::") for line in text.splitlines())


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_tables())
def test_hostile_tables_in_memory(table: Any) -> None:
    _run(table)


@settings(max_examples=max(EXAMPLES // 4, 5), derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_tables())
def test_hostile_tables_through_ipc_files(tmp_path_factory: pytest.TempPathFactory, table: Any) -> None:
    path = tmp_path_factory.mktemp("hostile") / "t.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    _run(str(path))


def test_deep_json_lines_refused_before_pyarrow(tmp_path: Path) -> None:
    for depth in (500, 10_000, 20_000):
        path = tmp_path / f"deep{depth}.jsonl"
        path.write_text('{"label": "x"}\n{"extra": ' + "[" * depth + "]" * depth + "}\n")
        with pytest.raises(SchemakitError, match="line 2: a JSON value nested more than 128 levels deep"):
            check_table(path, MODEL)
    # Brackets inside strings are not nesting.
    path = tmp_path / "strings.jsonl"
    path.write_text(json.dumps({"label": "[" * 500 + '\\"' + "{" * 500}) + "\n")
    check_table(path, MODEL)


@pytest.mark.parametrize("uri", ["s3://bucket/t.parquet", "abfss://c@a.dfs.core.windows.net/t", "dbfs:/t", "gs://b/t"])
def test_remote_uris_say_how_to_check_them(uri: str) -> None:
    with pytest.raises(SchemakitError, match="check_dataframe") as info:
        check_table(uri, MODEL)
    assert "\n" not in str(info.value)


def test_model_name_cannot_start_a_workflow_command(tmp_path: Path, run_cli: Any) -> None:
    doc = json.loads((ROOT / "samples" / "all-types.json").read_text())
    text = json.dumps(doc)
    name = MODEL.name
    spec = tmp_path / "evil.json"
    spec.write_text(text.replace(name, name + "\\n::error title=x::pwned\\u001b]8;;x\\u0007\\u202e"))
    table = tmp_path / "::error title=y::t.arrow"
    with pa.OSFile(str(table), "wb") as sink, pa.ipc.new_file(sink, pa.schema([("small_int", pa.int64())])) as w:
        w.write_table(pa.table({"small_int": [1]}))
    result = run_cli("check-table", str(spec), str(table))
    assert result.returncode in (0, 1, 2), result.stderr
    for line in (result.stdout + result.stderr).splitlines():
        assert not line.startswith("::"), line
        assert "\x1b" not in line
        assert "\u202e" not in line


@settings(max_examples=max(EXAMPLES // 4, 5), derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_tables())
def test_hostile_tables_through_parquet(tmp_path_factory: pytest.TempPathFactory, table: Any) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path_factory.mktemp("hostile") / "t.parquet"
    try:
        pq.write_table(table, path)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return  # a type Parquet cannot hold
    _run(str(path))


_JSON_PIECES = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"', b"\\", b":", b",", b"\n", b"1e999", b"-0", b"null", b"true", b'"small_int"', b'"label"',
     b'"created_at"', b'"2024-01-01T00:00:00"', b"\xff", b"\xef\xbb\xbf", b"\x00", b" ", b"9" * 30, b'{"a":'])  # fmt: skip


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_JSON_PIECES, max_size=60).map(b"".join), st.sampled_from(["t.jsonl", "t.csv", "t.jsonl.gz"]))
def test_hostile_text_tables(tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str) -> None:
    path = tmp_path_factory.mktemp("hostile") / name
    if name.endswith(".gz"):
        import gzip

        data = gzip.compress(data)
    path.write_bytes(data)
    _run(str(path))
