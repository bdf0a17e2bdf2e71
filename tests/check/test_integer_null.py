"""The `integer-null` serving rule: MLflow's scoring server refuses a null in an integer column, optional or not.

Pandas holds an integer column with a null as NaN floats and MLflow's schema enforcement then refuses
the request (`tests/mlflow/test_integer_null.py` shows it on the real server); a dataframe_records row
without an integer key that other rows have becomes NaN the same way. A column left out of every row
is no column at all, which an optional column may be. The exact path and every fast path (the direct
decoders, the chunked typed decode, the exact path's row screens) give the same verdicts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemakit
from schemakit import PayloadValidator

ROW_PROPS: dict[str, Any] = {
    "c64": {"type": "integer", "format": "int64"},
    "m64": {"type": ["integer", "null"], "format": "int64"},
    "m32": {"type": "integer", "format": "int32"},
    "d": {"type": ["number", "null"], "format": "double"},
    "s": {"type": ["string", "null"]},
}
NAMES = list(ROW_PROPS)


def _document() -> dict[str, Any]:
    row = {"type": "object", "properties": ROW_PROPS, "required": ["c64"]}
    props = {
        "dataframe_records": {"type": "array", "items": row},
        "dataframe_split": {
            "type": "object",
            "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "data": {"type": "array", "items": {"type": "array", "prefixItems": list(ROW_PROPS.values())}},
            },
        },
        "params": {"type": "object", "properties": {"k": {"type": ["integer", "null"]}}},
    }
    body = {"content": {"application/json": {"schema": {"type": "object", "properties": props}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "ints", "version": "1"},
        "paths": {
            "/served-models/m-1/invocations": {
                "post": {"requestBody": body, "responses": {"200": {"description": "ok"}}}
            }
        },
    }


@pytest.fixture(scope="module")
def validator() -> PayloadValidator:
    built = schemakit.compile_validator(schemakit.resolve(_document()).models[0])
    assert built.has_fast_path
    return built


ROW = {"c64": 1, "m64": 2, "m32": 3, "d": 1.5, "s": "x"}


def _row(**changes: Any) -> dict[str, Any]:
    out = dict(ROW)
    for key, value in changes.items():
        if value is ...:
            del out[key]
        else:
            out[key] = value
    return out


def _codes(report: Any) -> list[str]:
    return [p.code for p in report.problems]


def _both(validator: PayloadValidator, payload: Any) -> Any:
    fast = validator.validate_json(json.dumps(payload).encode())
    exact = validator.validate(payload)
    assert (fast.ok, fast.counts) == (exact.ok, exact.counts), (fast.to_text(), exact.to_text())
    return exact


CASES = [
    # (what, payload, codes): what MLflow 3.17.2's server did, as tests/mlflow/test_integer_null.py records
    ("records: null in an optional nullable long column", {"dataframe_records": [_row(m64=None)]}, ["integer-null"]),
    ("records: null in two rows", {"dataframe_records": [_row(m64=None), _row(m64=None)]}, ["integer-null"] * 2),
    ("records: key missing in one of two rows", {"dataframe_records": [_row(m64=...), _row()]}, ["integer-null"]),
    ("records: int32 key missing in one row", {"dataframe_records": [_row(), _row(m32=...)]}, ["integer-null"]),
    ("records: key missing in every row", {"dataframe_records": [_row(m64=...), _row(m64=...)]}, []),
    ("records: a double key missing in one row", {"dataframe_records": [_row(d=...), _row()]}, []),
    ("records: null in a nullable string column", {"dataframe_records": [_row(s=None)]}, []),
    ("records: null in a non-nullable long column", {"dataframe_records": [_row(m32=None)]}, ["type"]),
    (
        "split: null in a nullable long column",
        {"dataframe_split": {"columns": NAMES, "data": [[1, None, 3, 1.5, "x"]]}},
        ["integer-null"],
    ),
    ("params: a null integer param", {"dataframe_records": [_row()], "params": {"k": None}}, []),
]


@pytest.mark.parametrize(("what", "payload", "codes"), CASES, ids=[c[0] for c in CASES])
def test_integer_null(validator: PayloadValidator, what: str, payload: Any, codes: list[str]) -> None:
    report = _both(validator, payload)
    assert _codes(report) == codes, report.to_text()
    if "integer-null" in codes:
        assert "NaN" in report.problems[0].message


def test_the_rule_can_be_switched_off() -> None:
    relaxed = schemakit.compile_validator(schemakit.resolve(_document()).models[0], disable=["integer-null"])
    for payload in ({"dataframe_records": [_row(m64=None)]}, {"dataframe_records": [_row(m64=...), _row()]}):
        assert relaxed.validate_json(json.dumps(payload).encode()).ok
        assert relaxed.validate(payload).ok


@pytest.mark.parametrize("rows", [30_000])
@pytest.mark.parametrize("where", ["first", "last", "none", "all"])
def test_large_payloads_across_chunks(validator: PayloadValidator, rows: int, where: str) -> None:
    """Over the exact path's chunk (256 KB) and the fast path's (1 MB): the state carries across chunks."""
    body = [_row() if where != "all" else _row(m64=...) for _ in range(rows)]
    if where == "first":
        body[0] = _row(m64=...)
    elif where == "last":
        body[-1] = _row(m64=...)
    report = _both(validator, {"dataframe_records": body})
    assert report.ok is (where in ("none", "all"))
    if not report.ok:
        assert report.counts == {"integer-null": 1}
        assert report.problems[0].row == (0 if where == "first" else rows - 1)


VALUES = st.one_of(st.integers(-5, 5), st.none(), st.just(...), st.just(1.0))


@settings(derandomize=True, max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.fixed_dictionaries({"m64": VALUES, "m32": VALUES, "d": st.one_of(st.none(), st.just(...))}), max_size=4)
)
def test_fast_and_exact_paths_agree(rows: list[dict[str, Any]]) -> None:
    model = schemakit.resolve(_document()).models[0]
    validator = schemakit.compile_validator(model)
    payload = {"dataframe_records": [_row(**row) for row in rows]}
    _both(validator, payload)
    split_rows = [[1, *(None if v is ... else v for v in (row["m64"], row["m32"])), 1.5, "x"] for row in rows]
    _both(validator, {"dataframe_split": {"columns": NAMES[:3] + NAMES[3:], "data": split_rows}})
