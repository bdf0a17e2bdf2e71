"""Issue 17's shortcuts give the exact path's verdicts and reports.

- the direct decoder: one request decoded with the type of the format it names first,
  the endpoint's preferred format tried before anything else;
- the screened exact path: a large payload's rows kept raw, with the chunks the typed
  row decoder finds clean passed over by the row checks, the unknown-column rule and
  the datetime column rules.

Each case compares `validate_json(bytes)` with `validate(parsed)`, which takes neither.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemakit.runtime import engine as _engine
from schemakit.runtime import parse as _parse
from schemakit.runtime import typed as _typed
from schemakit.runtime.engine import Engine

COLUMNS = ["n", "at", "blob"]
CELLS = [
    {"type": "integer", "format": "int64"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "binary"},
]


def _plan() -> dict[str, Any]:
    split = {
        "type": "object",
        "properties": {
            "dataframe_split": {
                "type": "object",
                "properties": {
                    "columns": {"type": "array", "items": {"type": "string", "enum": COLUMNS}},
                    "data": {"type": "array", "items": {"type": "array", "prefixItems": CELLS}},
                    "index": {"type": "array"},
                },
            },
            "params": {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"}}},
        },
    }
    records = {
        "type": "object",
        "properties": {
            "dataframe_records": {
                "type": "array",
                "items": {"type": "object", "properties": dict(zip(COLUMNS, CELLS, strict=True))},
            },
            "params": split["properties"]["params"],
        },
    }
    kinds = ["long", "datetime", "binary"]
    columns = [
        {"name": n, "position": i, "required": False, "type": k}
        for i, (n, k) in enumerate(zip(COLUMNS, kinds, strict=False))
    ]
    params = [{"name": "when", "type": "datetime"}]
    return {
        "model": "m",
        "request_schema": {"oneOf": [split, records]},
        "formats": [
            {
                "kind": "dataframe_split",
                "key": "dataframe_split",
                "schema": split,
                "columns": columns,
                "params": params,
            },
            {
                "kind": "dataframe_records",
                "key": "dataframe_records",
                "schema": records,
                "columns": [{**c, "position": None} for c in columns],
                "params": params,
            },
        ],
    }


@pytest.fixture(scope="module")
def engine() -> Engine:
    engine = Engine(_plan())
    assert engine.has_fast_path
    return engine


_TIMES = st.sampled_from(
    [
        "2024-01-01T10:00:00",
        "2024-01-02T11:30:00",
        "2024-01-01 10:00",
        "2024-01-01T10:00:00Z",
        "2024-02-30T10:00:00",
        "1600-01-01T00:00:00",
        "2024-01-01",
        "not a time",
    ]
)
_CELL_N = st.one_of(st.integers(-5, 5), st.just("7"), st.just(1.0), st.just(2**70), st.none())
_CELL_BLOB = st.sampled_from(["aGk=", "aGk", "", None, 3])
_ROW = st.tuples(_CELL_N, st.one_of(_TIMES, st.none()), _CELL_BLOB).map(list)


def _same(engine: Engine, payload: Any, data: bytes | str | None = None) -> None:
    data = json.dumps(payload).encode() if data is None else data
    assert engine.validate_json(data).to_json() == engine.validate(payload).to_json()


@settings(derandomize=True, max_examples=250, deadline=None)
@given(
    rows=st.lists(_ROW, max_size=3),
    extra=st.sampled_from([None, "index", "params", "bad_params", "other_key", "both_formats"]),
    records=st.booleans(),
    pretty=st.booleans(),
    text=st.booleans(),
)
def test_the_direct_decoder_gives_the_exact_verdict(
    engine: Engine, rows: list[list[Any]], extra: str | None, records: bool, pretty: bool, text: bool
) -> None:
    payload: dict[str, Any]
    if records:
        payload = {"dataframe_records": [dict(zip(COLUMNS, row, strict=True)) for row in rows]}
    else:
        payload = {"dataframe_split": {"columns": COLUMNS, "data": rows}}
        if extra == "index":
            payload["dataframe_split"]["index"] = list(range(len(rows) + (1 if len(rows) == 2 else 0)))
    if extra == "params":
        payload["params"] = {"when": "2024-01-01T10:00:00Z"}
    elif extra == "bad_params":
        payload["params"] = {"when": "2024-13-01"}
    elif extra == "other_key":
        payload["surprise"] = 1
    elif extra == "both_formats":
        payload["dataframe_records"] = []
    encoded = json.dumps(payload, indent=2 if pretty else None)
    _same(engine, payload, encoded if text else encoded.encode())


def test_the_preferred_format_follows_the_traffic(engine: Engine) -> None:
    split = orjson.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[1, "2024-01-01T10:00:00", "aGk="]]}})
    records = orjson.dumps({"dataframe_records": [{"n": 1}]})
    for data in (split, records, records, split, b'{"dataframe_records": [{"n": "x"}]}', split):
        assert engine.validate_json(data).ok is (b'"x"' not in data)
    assert engine._fast is not None
    assert engine._fast.preferred.key == "dataframe_split"


@settings(
    derandomize=True, max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_ROW, min_size=1, max_size=40), records=st.booleans(), max_errors=st.sampled_from([1, 5, 100]))
def test_the_screened_exact_path_gives_the_same_report(
    monkeypatch: pytest.MonkeyPatch, rows: list[list[Any]], records: bool, max_errors: int
) -> None:
    # Tiny chunks: every payload is kept raw and cut into many chunks, some clean, some not.
    monkeypatch.setattr(_engine, "EXACT_CHUNK_BYTES", 64)
    monkeypatch.setattr(_parse, "EXACT_CHUNK_BYTES", 64)
    engine = Engine(_plan(), max_errors=max_errors)
    payload: dict[str, Any]
    if records:
        payload = {"dataframe_records": [dict(zip(COLUMNS, row, strict=True)) for row in rows]}
    else:
        payload = {"dataframe_split": {"columns": COLUMNS, "data": rows}}
    _same(engine, payload)


@pytest.mark.parametrize("records", [False, True])
@pytest.mark.parametrize(
    ("first", "later"),
    [
        ("2024-01-01T10:00:00", "2024-01-01T10:00:00"),  # clean throughout: every chunk passed over
        ("2024-01-01 10:00", "2024-01-01T10:00:00"),  # the first chunk in another form than the rest
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00"),  # the first value has an offset: not the column's form
        (None, "2024-01-01T10:00:00"),  # no first value in the first chunk
    ],
)
def test_datetime_forms_across_screened_chunks(
    monkeypatch: pytest.MonkeyPatch, records: bool, first: str | None, later: str
) -> None:
    monkeypatch.setattr(_engine, "EXACT_CHUNK_BYTES", 256)
    monkeypatch.setattr(_parse, "EXACT_CHUNK_BYTES", 256)
    engine = Engine(_plan())
    rows = [[i, first if i < 3 else later, "aGk="] for i in range(200)]
    rows[150][0] = "bad"  # keeps the payload off the fast path
    payload: dict[str, Any] = (
        {"dataframe_records": [dict(zip(COLUMNS, row, strict=True)) for row in rows]}
        if records
        else {"dataframe_split": {"columns": COLUMNS, "data": rows}}
    )
    report = engine.validate_json(json.dumps(payload).encode())
    assert report.to_json() == engine.validate(payload).to_json()
    assert report.problems[0].row == 150 if first == later else report.total_errors >= 2


def test_reordered_columns_are_not_screened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engine, "EXACT_CHUNK_BYTES", 128)
    monkeypatch.setattr(_parse, "EXACT_CHUNK_BYTES", 128)
    engine = Engine(_plan())
    rows = [["aGk=", "2024-01-01T10:00:00", i] for i in range(100)]
    rows[60][2] = "bad"
    payload = {"dataframe_split": {"columns": ["blob", "at", "n"], "data": rows}}
    report = engine.validate_json(json.dumps(payload).encode())
    assert report.to_json() == engine.validate(payload).to_json()
    assert [(p.row, p.column) for p in report.problems] == [(60, "n")]


def test_a_bad_row_before_the_cut_is_certain_and_the_last_one_is_not() -> None:
    decoder = msgspec.json.Decoder(list[tuple[int, list[int]]])
    for piece, certain in ((b'[[1, [2]], ["x", [3]], [4, [5]]]', True), (b'[[1, [2]], [4, ["y"]]]', False)):
        with pytest.raises(msgspec.ValidationError) as caught:
            decoder.decode(piece)
        assert _typed.bad_row_before_the_cut(piece, caught.value) is certain


def test_a_split_whose_schema_has_no_columns_is_not_accepted_without_them() -> None:
    plan = _plan()
    split = plan["formats"][0]["schema"]["properties"]["dataframe_split"]
    split["additionalProperties"] = False
    del split["properties"]["columns"], split["properties"]["index"]
    engine = Engine(plan)
    payload = {"dataframe_split": {"data": [[1, "2024-01-01T10:00:00", "aGk="]]}}
    report = engine.validate_json(orjson.dumps(payload))
    assert not report.ok
    assert report.to_json() == engine.validate(payload).to_json()


def test_split_traffic_with_an_index_is_tried_first_with_the_decoder_that_reads_one(engine: Engine) -> None:
    assert engine._fast is not None
    row = [1, "2024-01-01T10:00:00", "aGk="]
    indexed = orjson.dumps({"dataframe_split": {"columns": COLUMNS, "data": [row], "index": [0]}})
    plain = orjson.dumps({"dataframe_split": {"columns": COLUMNS, "data": [row]}})
    other = orjson.dumps({"dataframe_records": [{"n": 1}]})
    for data, bare in ((other, None), (indexed, False), (indexed, False), (other, None), (plain, True)):
        assert engine.validate_json(data).ok
        preferred = engine._fast.preferred
        assert preferred is not None
        if bare is not None:
            assert (preferred.bare is None) is bare
