"""The chunked typed decode of large payloads gives the same verdicts as the exact path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

import schemakit
from schemakit import PayloadValidator, compile_validator

NESTED_DOC = {
    "openapi": "3.1.0",
    "info": {"title": "nested", "version": "1"},
    "servers": [{"url": "https://example.com/serving-endpoints/nested"}],
    "paths": {
        "/served-models/nested-1/invocations": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "dataframe_split": {
                                        "type": "object",
                                        "properties": {
                                            "columns": {"type": "array", "items": {"type": "string", "enum": ["v", "s"]}},
                                            "data": {
                                                "type": "array",
                                                "items": {
                                                    "type": "array",
                                                    "prefixItems": [
                                                        {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                                                        {"type": "string"},
                                                    ],
                                                },
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}  # fmt: skip


def both(validator: PayloadValidator, payload: Any) -> tuple[bool, bool]:
    data = orjson.dumps(payload)
    assert len(data) > 1 << 20  # large enough to be decoded in chunks
    return validator.validate_json(data).ok, validator.validate(payload).ok


@pytest.mark.parametrize("bad_row", [None, 0, 100_000, 199_999])
def test_large_split_payloads_agree(docs_validator: PayloadValidator, bad_row: int | None) -> None:
    # Strings that look like row boundaries, so some chunk cuts land inside a string.
    rows: list[list[Any]] = [[i, 0.5, "x],[1, 2.0, " if i % 7 == 0 else "y"] for i in range(200_000)]
    if bad_row is not None:
        rows[bad_row][1] = "abc"
    fast, exact = both(
        docs_validator, {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": rows}}
    )
    assert fast is exact is (bad_row is None)


@pytest.mark.parametrize("bad_row", [None, 45_000])
def test_large_records_payloads_agree(docs_validator: PayloadValidator, bad_row: int | None) -> None:
    rows: list[dict[str, Any]] = [
        {"int_col": i, "float_col": 1, "string_col": "}, {" * (i % 3), "becx_col": {"a": [{"b": 1}]}}
        for i in range(40_000 if bad_row is None else 50_000)
    ]
    if bad_row is not None:
        rows[bad_row]["int_col"] = 1.5
    fast, exact = both(docs_validator, {"dataframe_records": rows})
    assert fast is exact is (bad_row is None)


def test_nested_arrays_in_rows_agree() -> None:
    validator = compile_validator(schemakit.resolve(NESTED_DOC).models[0])
    assert validator.has_fast_path
    rows: list[list[Any]] = [[[[i, 1], [2]], "s"] for i in range(100_000)]
    assert both(validator, {"dataframe_split": {"columns": ["v", "s"], "data": rows}}) == (True, True)
    rows[77_777][0][1][0] = "no"
    assert both(validator, {"dataframe_split": {"columns": ["v", "s"], "data": rows}}) == (False, False)


# -- documents written by `schemakit from-mlflow` take the fast path -----------------------

MLFLOW_MODELS = Path(__file__).resolve().parents[1] / "mlflow" / "models"


def mlmodel(tmp_path: Path, inputs: list[dict[str, Any]], params: list[dict[str, Any]] | None = None) -> str:
    """A model directory holding only an MLmodel file with this signature (MLflow itself is not needed)."""
    signature = {"inputs": json.dumps(inputs), "outputs": json.dumps([{"type": "double", "required": True}])}
    if params is not None:
        signature["params"] = json.dumps(params)
    (tmp_path / "MLmodel").write_text(yaml.safe_dump({"flavors": {"python_function": {}}, "signature": signature}))
    return f"mlflow:{tmp_path}"


def fast_accepts(validator: PayloadValidator, data: bytes) -> str | None:
    """The format the typed decode accepted the payload in, or None when it went to the exact path."""
    fast = validator._engine._fast
    assert fast is not None
    return fast.accepts(data)


def test_house_prices_document_takes_the_fast_path() -> None:
    validator = compile_validator(schemakit.load(f"mlflow:{MLFLOW_MODELS / 'house-prices'}").models[0])
    assert validator.has_fast_path
    rows = [
        {"bedrooms": i % 6, "area_m2": 40.5 + i % 100, "city": "Lyon", "listed_at": "2024-05-06T07:08:09"}
        for i in range(60_000)
    ]
    records = orjson.dumps({"dataframe_records": rows, "params": {"confidence": 0.5, "quantiles": [0.5]}})
    assert fast_accepts(validator, records) == "dataframe_records"
    split = orjson.dumps(
        {"dataframe_split": {"columns": ["bedrooms", "area_m2", "city"], "data": [[1, 2.5, "x"]], "index": [3]}}
    )
    assert fast_accepts(validator, split) is None  # a partial columns list: the exact path types it by name
    assert validator.validate_json(split).ok
    full = ["bedrooms", "area_m2", "city", "listed_at", "features"]
    split = orjson.dumps({"dataframe_split": {"columns": full, "data": [[1, 2.5, "x", None, ["a"]]], "index": [3]}})
    assert fast_accepts(validator, split) == "dataframe_split"
    # What the split object's required / additionalProperties / index and records' minItems refuse.
    for payload in (
        {"dataframe_split": {"data": [[1, 2.5, "x", None, None]]}},
        {"dataframe_split": {"columns": full, "data": [[1, 2.5, "x", None, None]], "index": 3}},
        {"dataframe_records": []},
    ):
        data = orjson.dumps(payload)
        assert fast_accepts(validator, data) is None
        assert not validator.validate_json(data).ok
        assert not validator.validate(payload).ok


def test_float32_bounds_and_tensor_shapes_take_the_fast_path(tmp_path: Path) -> None:
    inputs = [
        {"type": "float", "name": "ratio", "required": True},
        {"type": "integer", "name": "count", "required": True},
    ]
    validator = compile_validator(schemakit.load(mlmodel(tmp_path, inputs)).models[0])
    edge = 3.4028234663852886e38
    for value, ok, fast in [(1.5, True, True), (-1e38, True, True), (edge, True, False), (3.5e38, False, False)]:
        payload = {"dataframe_records": [{"ratio": value, "count": 1}]}
        data = orjson.dumps(payload)
        assert (fast_accepts(validator, data) is not None) is fast, value
        assert validator.validate_json(data).ok is validator.validate(payload).ok is ok, value
    # An integer just above float32's maximum becomes exactly the maximum as a float: the typed
    # decode compares bounds strictly, so it leaves this one to the exact path, which refuses it.
    above = json.dumps({"dataframe_records": [{"ratio": int(edge) + 1, "count": 1}]}).encode()
    assert fast_accepts(validator, above) is None
    assert not validator.validate_json(above).ok

    tensor_dir = tmp_path / "tensor"
    tensor_dir.mkdir()
    tensor = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]
    validator = compile_validator(schemakit.load(mlmodel(tensor_dir, tensor)).models[0])
    assert validator.has_fast_path
    rows = [[0.5, 1.0, 2.0]] * 100_000
    for key in ("instances", "inputs"):
        assert fast_accepts(validator, orjson.dumps({key: rows})) == key
        bad = {key: [*rows, [1.0, 2.0]]}
        assert fast_accepts(validator, orjson.dumps(bad)) is None
        assert not validator.validate_json(orjson.dumps(bad)).ok


@pytest.mark.parametrize("odd", ['say "hi"', "back\\slash", "new\nline", "tab\there", "bell\x07"])
def test_keys_msgspec_cannot_rename_fall_back_to_the_exact_path(odd: str) -> None:
    document = json.loads(json.dumps(NESTED_DOC))
    schema = document["paths"]["/served-models/nested-1/invocations"]["post"]["requestBody"]["content"]
    schema["application/json"]["schema"]["properties"] = {
        "dataframe_records": {
            "type": "array",
            "items": {"type": "object", "properties": {odd: {"type": "string"}, "n": {"type": "integer"}}},
        },
        "params": {"type": "object", "properties": {odd: {"type": "number"}}},
    }
    validator = compile_validator(schemakit.resolve(document).models[0])
    good = {"dataframe_records": [{odd: "v", "n": 1}], "params": {odd: 0.5}}
    bad = {"dataframe_records": [{odd: 1, "n": 1}]}
    assert validator.validate_json(orjson.dumps(good)).ok
    report = validator.validate_json(orjson.dumps(bad))
    assert [(p.code, p.column) for p in report.problems] == [("type", odd)]
    assert report.to_json() == validator.validate(bad).to_json()


def test_a_bad_row_in_a_large_flat_payload_is_not_decoded_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: on a bad cell the fast path decoded the whole row list again before giving up."""
    from schemakit.runtime import fast

    validator = schemakit.compile_validator(schemakit.load("samples/docs-example-dataframe.json").models[0])
    whole: list[int] = []
    real = fast._FastFormat._rows_pass

    def counting(self: Any, view: memoryview) -> int | None:
        whole.append(len(view))
        return real(self, view)

    monkeypatch.setattr(fast._FastFormat, "_rows_pass", counting)
    rows: list[list[Any]] = [[i, 0.5, "x"] for i in range(120_000)]
    rows[100_000][1] = "abc"
    report = validator.validate_json(
        orjson.dumps({"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": rows}})
    )
    assert [(p.code, p.row, p.column) for p in report.problems] == [("type", 100_000, "float_col")]
    assert whole == []


def _enum_validator(enum: list[Any]) -> PayloadValidator:
    document = json.loads(json.dumps(NESTED_DOC))
    schema = document["paths"]["/served-models/nested-1/invocations"]["post"]["requestBody"]["content"]
    schema["application/json"]["schema"]["properties"] = {
        "dataframe_records": {
            "type": "array",
            "items": {"type": "object", "properties": {"big": {"type": "integer", "enum": enum}}},
        }
    }
    return compile_validator(schemakit.resolve(document).models[0])


@pytest.mark.parametrize("enum", [[2**63], [5, 2**63], [-(2**63) - 1, 2**64 - 1]])
def test_integer_enum_values_beyond_int64_fall_back_to_the_exact_path(enum: list[int]) -> None:
    """msgspec raised NotImplementedError building a Literal of an int beyond int64."""
    validator = _enum_validator(enum)
    for value in (*enum, 5, 7, 2**63 + 1):
        payload = {"dataframe_records": [{"big": value}]}
        data = json.dumps(payload).encode()
        exact = validator.validate(payload)
        assert validator.validate_json(data).to_json() == exact.to_json(), value
        assert schemakit.check_payload(validator, data).ok is exact.ok
    assert not validator.validate_json(b'{"dataframe_records": [{"big": 7}]}').ok
    if 5 in enum:
        assert fast_accepts(validator, b'{"dataframe_records": [{"big": 5}]}') == "dataframe_records"
        assert fast_accepts(validator, json.dumps({"dataframe_records": [{"big": 2**63}]}).encode()) is None


TEXT_CELLS = [
    "2024-01-01T10:00:00", "2024-01-01 10:00", "2024-01-01", "2024-02-28T23:59:59.123456789", "2024-02-29T00:00",
    "2023-02-29T00:00", "2024-04-31", "1677-09-21T00:12:43.145224191", "1677-09-21T00:12:43.145224192",
    "2262-04-11T23:47:16.854775807", "2262-04-11T23:47:16.854775808", "1678-01-01", "2261-12-31T23:59",
    "2024-01-01T10:00:00Z", "2024-01-01t10:00", "2024-01-01T24:00", "2024-01-01T10:00:00.1234567890",
    "0000-01-01", "2024-01-01\n2024-01-01", "", "aGVsbG8=", "aGVsbG8", "aGVs\nbG8=", None,
]  # fmt: skip


@pytest.mark.parametrize("when", TEXT_CELLS)
@pytest.mark.parametrize("blob", ["aGVsbG8gd29ybGQ=", "", "aGVsbG8", "aGV\nsbG8=", "2024-01-01"])
def test_one_row_text_cells_agree_with_the_exact_path(when: str | None, blob: str) -> None:
    """A one-row payload's datetime and base64 cells are matched by one regex; the verdicts stay the exact path's."""
    document = json.loads(json.dumps(NESTED_DOC))
    schema = document["paths"]["/served-models/nested-1/invocations"]["post"]["requestBody"]["content"]
    cells = {
        "t": {"type": "string", "format": "date-time"},
        "b": {"type": "string", "format": "binary"},
        "u": {"type": ["string", "null"], "format": "date-time"},
    }
    schema["application/json"]["schema"]["properties"] = {
        "dataframe_records": {"type": "array", "items": {"type": "object", "properties": cells}}
    }
    validator = compile_validator(schemakit.resolve(document).models[0])
    assert validator.has_fast_path
    for row in ({"t": when, "b": blob, "u": when}, {"t": "2024-01-01T10:00", "b": blob, "u": when}):
        payload = {"dataframe_records": [row]}
        exact = validator.validate(payload)
        assert validator.validate_json(orjson.dumps(payload)).to_json() == exact.to_json(), row
        if fast_accepts(validator, orjson.dumps(payload)) is not None:
            assert exact.ok, row
            assert not exact.problems, row
