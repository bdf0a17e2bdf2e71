"""Hostile logged requests through `replay`: JSON Lines written byte by byte, and Parquet tables of odd types.

Properties: `replay` (library and command) ends in a report or a one-line error, never a traceback; every row is
accounted for (checked, unlogged, unrouted or unreadable); no output line made from table or document text starts a
workflow command or holds a raw control; the JSON report round-trips.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemakit._exceptions import SchemakitError

from ..security.hostile import SAMPLES, assert_clean, assert_one_line, raw_controls, run_inprocess
from .strategies import HUGE_LITERALS, fuzz_settings, fuzz_timeout, hostile_text, json_values, raw_bodies

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = fuzz_timeout(180)

SPEC = str(SAMPLES / "all-types.json")
MULTI = str(SAMPLES / "multi-model.json")
COLUMNS = ["flag", "small_int", "big_int", "ratio", "score", "label", "created_at", "rating"]

#: Raw JSON text for a field's value: literals Python's json would not write, and ordinary hostile values.
raw_values = st.one_of(
    st.sampled_from([*HUGE_LITERALS, "Infinity", "-Infinity", "NaN", "null", "true", "[]", "{}", '"200"', "200"]),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.integers(-(2**70), 2**70).map(str),
)
bodies = st.one_of(
    raw_bodies(COLUMNS).map(lambda b: json.dumps(b.decode("utf-8", "surrogateescape"), ensure_ascii=False)),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.just("null"),
)
FIELDS = [
    "status_code",
    "requester",
    "served_entity_id",
    "request_date",
    "request_time",
    "sampling_fraction",
    "logging_error_codes",
    "client_request_id",
    "request_metadata",
    "timestamp_ms",
    "date",
]


@st.composite
def json_lines(draw: Any) -> bytes:
    lines: list[bytes] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["row", "row", "row", "garbage", "blank"]))
        if kind == "garbage":
            lines.append(draw(st.binary(max_size=40) | st.sampled_from([b"[" * 5000, b'{"request":' * 2000, b"{"])))
            continue
        if kind == "blank":
            lines.append(b"   ")
            continue
        parts = [f'"request": {draw(bodies)}']
        for name in draw(st.lists(st.sampled_from(FIELDS), max_size=5, unique=True)):
            value = draw(raw_values | hostile_text.map(lambda t: json.dumps(t, ensure_ascii=False)))
            parts.append(f"{json.dumps(name)}: {value}")
        lines.append(("{" + ", ".join(parts) + "}").encode("utf-8", "surrogatepass"))
    head = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return head + b"\n".join(lines) + b"\n"


def check_report(report: Any, rows: int | None = None) -> None:
    text = report.to_text()
    assert not raw_controls(text), raw_controls(text)
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
    data = report.to_json()
    assert json.loads(json.dumps(data)) == data
    accounted = report.total + report.skipped + report.unreadable + sum(report.unrouted.values())
    if rows is not None:
        assert accounted == rows, (accounted, rows)


@fuzz_settings(60)
@given(data=json_lines(), spec=st.sampled_from([SPEC, MULTI]))
def test_hostile_json_lines(data: bytes, spec: str) -> None:
    from schemakit.table import replay

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "logged.jsonl"
        path.write_bytes(data)
        try:
            report = replay(path, spec, model="ads-1" if spec == MULTI else None)
        except SchemakitError as exc:
            assert_one_line(exc)
            return
        rows = sum(1 for line in data.removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip())
        check_report(report, rows)


ARROW_REQUESTS = [
    pa.array(['{"dataframe_records": [{"small_int": 1}]}', None, "\x1b]0;x\x07"]),
    pa.array([b"\xff\xfe", b"{}", None], pa.binary()),
    pa.array([1, None, 2**62], pa.int64()),
    pa.array([[1, 2], None, []], pa.list_(pa.int64())),
    pa.array([{"dataframe_records": [{"small_int": 1}]}] * 3),
    pa.array([{"a": [("k", 1.5)]}] * 3, pa.struct([("a", pa.map_(pa.string(), pa.float64()))])),
    pa.array([1.5, float("inf"), float("nan")]),
    pa.array([0, 2**62, -(2**62)], pa.date64()),
    pa.array([0, 2**62, None], pa.timestamp("ns")),
    pa.array([0, 10**30, None], pa.decimal128(38, 2)),
    pa.array(["a", "b", "a"]).dictionary_encode(),
]
ARROW_OTHERS = {
    "status_code": [
        pa.array([200.0, float("inf"), float("nan")]),
        pa.array(["200", "x", None]),
        pa.array([200, 2**62, None], pa.int64()),
    ],
    "requester": [pa.array(["\n::error::x", None, "\u202e"]), pa.array([1, 2, 3])],
    "served_entity_id": [pa.array(["ads-1", "\n::warning::y", None]), pa.array([b"\x00", b"a", None], pa.binary())],
    "request_date": [pa.array([0, 2**30, None], pa.date32()), pa.array(["2024-13-45", "x", None])],
    "sampling_fraction": [pa.array([0.0, -1.0, float("nan")]), pa.array([0.5, 1e-300, None])],
    "logging_error_codes": [
        pa.array([["MAX_REQUEST_SIZE_EXCEEDED"], None, ["\n::error::z"]]),
        pa.array(["MAX_REQUEST_SIZE_EXCEEDED", "", None]),
    ],
}


@st.composite
def arrow_tables(draw: Any) -> Any:
    columns = {"request": draw(st.sampled_from(ARROW_REQUESTS))}
    for name in draw(st.lists(st.sampled_from(sorted(ARROW_OTHERS)), max_size=4, unique=True)):
        columns[name] = draw(st.sampled_from(ARROW_OTHERS[name]))
    return pa.table(columns)


@fuzz_settings(40)
@given(table=arrow_tables(), spec=st.sampled_from([SPEC, MULTI]))
def test_hostile_parquet_tables(table: Any, spec: str) -> None:
    from schemakit.table import replay

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "logged.parquet"
        pq.write_table(table, path)
        try:
            report = replay(path, spec, served_entities={"\x00": "ads-2"})
        except SchemakitError as exc:
            assert_one_line(exc)
            return
        check_report(report, table.num_rows)


@fuzz_settings(15)
@given(data=json_lines(), output=st.sampled_from(["text", "json"]))
def test_hostile_json_lines_through_the_command(data: bytes, output: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "logged.jsonl"
        path.write_bytes(data)
        run = run_inprocess("replay", SPEC, str(path), "--format", output)
        assert_clean(run)
        for line in run.text.splitlines():
            assert not line.lstrip().startswith("::"), line


@fuzz_settings(30)
@given(data=json_lines(), candidate=st.sampled_from([SPEC, MULTI]))
def test_hostile_json_lines_through_the_gate(data: bytes, candidate: str) -> None:
    from schemakit.table.gate import gate

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "logged.jsonl"
        path.write_bytes(data)
        try:
            report = gate(MULTI, candidate, path, served_entities={"ads-1": "ads-1"}, model_pairs={})
        except SchemakitError as exc:
            assert_one_line(exc)
            return
        for text in (report.to_text(), report.to_markdown()):
            assert not raw_controls(text), raw_controls(text)
            for line in text.splitlines():
                assert not line.lstrip().startswith("::"), line
        data_json = report.to_json()
        assert json.loads(json.dumps(data_json)) == data_json
