"""The chunked typed decode of large payloads gives the same verdicts as the exact path."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

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
    fast, exact = both(docs_validator, {"dataframe_split": {"data": rows}})
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
    assert both(validator, {"dataframe_split": {"data": rows}}) == (True, True)
    rows[77_777][0][1][0] = "no"
    assert both(validator, {"dataframe_split": {"data": rows}}) == (False, False)
