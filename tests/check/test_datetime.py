"""The datetime rule reads text as MLflow 3.17.2's scoring server does (observed: tests/mlflow).

A datetime *column* goes through pandas into datetime64[ns]: no "Z" or offset, 1677-2262
only, and every row written in the form of the column's first value. A datetime *param*
goes through numpy: offsets are fine, any year from 0001.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

import schemakit
from schemakit import PayloadValidator, compile_validator

ROW_SCHEMA = {"n": {"type": "integer", "format": "int64"}, "when": {"type": ["string", "null"], "format": "date-time"}}
DOC = {
    "openapi": "3.1.0",
    "info": {"title": "dates", "version": "1"},
    "servers": [{"url": "https://example.com/serving-endpoints/dates"}],
    "paths": {
        "/served-models/dates-1/invocations": {
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
                                            "columns": {"type": "array", "items": {"type": "string", "enum": ["n", "when"]}},
                                            "data": {
                                                "type": "array",
                                                "items": {"type": "array", "prefixItems": list(ROW_SCHEMA.values())},
                                            },
                                        },
                                    },
                                    "dataframe_records": {
                                        "type": "array",
                                        "items": {"type": "object", "properties": ROW_SCHEMA, "required": ["n"]},
                                    },
                                    "params": {
                                        "type": "object",
                                        "properties": {"as_of": {"type": "string", "format": "date-time"}},
                                    },
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


@pytest.fixture(scope="module")
def dates() -> PayloadValidator:
    validator = compile_validator(schemakit.resolve(DOC).models[0])
    assert validator.has_fast_path
    return validator


def records(*whens: Any) -> dict[str, Any]:
    return {"dataframe_records": [{"n": i, "when": w} for i, w in enumerate(whens)]}


def split(*whens: Any) -> dict[str, Any]:
    return {"dataframe_split": {"columns": ["n", "when"], "data": [[i, w] for i, w in enumerate(whens)]}}


def verdict(validator: PayloadValidator, payload: Any) -> bool:
    """The verdict, checked to be the same on the exact path and on the fast path."""
    exact = validator.validate(payload)
    fast = validator.validate_json(orjson.dumps(payload))
    assert fast.to_json() == exact.to_json()
    return exact.ok


# Every form below was sent to MLflow 3.17.2's scoring server (the agreement suite's "columns" model).
COLUMN_ACCEPTED = [
    ["2024-05-06T07:08:09"],
    ["2024-05-06 07:08:09"],
    ["2024-05-06T07:08"],
    ["2024-05-06T07:08:09.5"],
    ["2024-05-06T07:08:09.123456789"],
    ["2024-05-06"],
    ["2024-05-06T07:08:09.5", "2024-05-06T07:08:09.123"],  # one form: a fraction, of any length
    [None, "2024-05-06T07:08:09"],  # the first value pandas sees is the first that is not null
    ["2024-05-06T07:08:09", None, "2024-05-06T07:08:10"],
    [None, None],
    ["1677-09-21T00:12:44", "2262-04-11T23:47:16"],
]
COLUMN_REJECTED = [
    ["2024-05-06T07:08:09Z"],
    ["2024-05-06T07:08:09+00:00"],
    ["2024-05-06T07:08:09+0100"],
    ["2024-05-06T07:08:09+01"],
    ["2024-05-06T07:08:09-05:00"],
    ["2024-05-06T07:08:09", "2024-05-06T07:08:09.5"],
    ["2024-05-06T07:08:09.5", "2024-05-06T07:08:09"],
    ["2024-05-06", "2024-05-06T07:08:09"],
    ["2024-05-06T07:08:09", "2024-05-06"],
    ["2024-05-06T07:08:09", "2024-05-06 07:08:09"],
    ["2024-05-06T07:08", "2024-05-06T07:08:09"],
    ["2024-05-06T07:08:09", "2024-05-06T07:08:09Z"],
    ["2024-05-06T07:08:09+00:00", "2024-05-06T07:08:09+01:00"],
    ["1677-09-21T00:12:43"],
    ["2262-04-11T23:47:17"],
    ["0001-01-01"],
    ["9999-12-31"],
    ["2024-02-30"],
    # The server takes these three in a column; schemakit refuses them (its param parser does too).
    ["2024-5-6"],
    ["2024-05-06T07:08:09z"],
    ["2024-05-06T07:08:09,5"],
]


@pytest.mark.parametrize("whens", COLUMN_ACCEPTED, ids=str)
@pytest.mark.parametrize("build", [records, split])
def test_column_forms_the_server_accepts(dates: PayloadValidator, build: Any, whens: list[Any]) -> None:
    assert verdict(dates, build(*whens))


@pytest.mark.parametrize("whens", COLUMN_REJECTED, ids=str)
@pytest.mark.parametrize("build", [records, split])
def test_column_forms_the_server_rejects(dates: PayloadValidator, build: Any, whens: list[Any]) -> None:
    assert not verdict(dates, build(*whens))
    report = dates.validate(build(*whens))
    assert {p.code for p in report.problems} == {"datetime-iso8601"}
    assert all(p.column == "when" for p in report.problems)
    assert not compile_validator(dates.model, disable=["datetime-iso8601"]).validate(build(*whens)).problems


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2024-05-06T07:08:09", True),
        ("2024-05-06T07:08:09Z", True),
        ("2024-05-06T07:08:09+00:00", True),
        ("2024-05-06T07:08:09+0100", True),
        ("2024-05-06T07:08:09+01", True),
        ("2024-05-06T07:08:09-05:00", True),
        ("2024-05-06 07:08:09", True),
        ("2024-05-06T07:08", True),
        ("2024-05-06T07:08:09.5", True),
        ("2024-05-06", True),
        ("0001-01-01", True),
        ("9999-12-31T23:59:59", True),
        ("2024-05-06T07:08:09z", False),
        ("2024-05-06T07:08:09,5", False),
        ("2024-02-30", False),
        ("2024-5-6", False),
        ("2024-05-06T07:08:09.1234567891", False),
        ("0000-01-01", False),
    ],
)
def test_param_forms_as_the_server_reads_them(dates: PayloadValidator, text: str, ok: bool) -> None:
    assert verdict(dates, {**records("2024-05-06T07:08:09"), "params": {"as_of": text}}) is ok


def test_offset_is_reported_per_value(dates: PayloadValidator) -> None:
    report = dates.validate(records("2024-05-06T07:08:09Z", None, "2024-05-06T07:08:09+02:00"))
    assert [(p.code, p.row, p.column) for p in report.problems] == [
        ("datetime-iso8601", 0, "when"),
        ("datetime-iso8601", 2, "when"),
    ]
    assert report.problems[0].message == (
        "row 0, column when ($.dataframe_records[0].when): expected datetime without a UTC offset, "
        'got string "2024-05-06T07:08:09Z": MLflow cannot put a timezone-aware value in a datetime column; '
        "convert it to UTC and leave the offset out"
    )


def test_mixed_forms_are_reported_once_per_column_at_the_first_row(dates: PayloadValidator) -> None:
    payload = split(None, "2024-05-06T07:08:09", "2024-05-06T07:08:09", "2024-05-06", "2024-05-06T07:08:09.5")
    report = dates.validate(payload)
    assert [(p.code, p.row, p.column, p.path) for p in report.problems] == [
        ("datetime-iso8601", 3, "when", "$.dataframe_split.data[3][1]")
    ]
    assert report.problems[0].message == (
        "row 3, column when ($.dataframe_split.data[3][1]): expected datetime (ISO-8601 text) written like "
        'row 1 (2024-05-06T07:08:09), got string "2024-05-06": pandas reads a datetime column in the form of '
        "its first value and refuses the request when a row is written in another form (2 rows here); "
        "write every row alike"
    )


def test_reordered_split_columns_are_read_by_name(dates: PayloadValidator) -> None:
    payload = {"dataframe_split": {"columns": ["when", "n"], "data": [["2024-05-06", 1], ["2024-05-06T07:08", 2]]}}
    report = dates.validate(payload)
    assert [(p.code, p.row, p.column) for p in report.problems] == [("datetime-iso8601", 1, "when")]


@pytest.mark.parametrize("bad", [None, "2024-05-06T07:08:09.5", "2024-05-06T07:08:09Z", "1600-01-01T00:00:00"])
@pytest.mark.parametrize("build", [records, split])
def test_large_payloads_keep_the_first_form_across_chunks(dates: PayloadValidator, build: Any, bad: str | None) -> None:
    whens: list[Any] = [f"20{10 + i % 80:02d}-0{1 + i % 9}-1{i % 10}T0{i % 10}:00:00" for i in range(120_000)]
    whens[::7] = [None] * len(whens[::7])
    if bad is not None:
        whens[-2] = bad  # far beyond the first chunk
    payload = build(*whens)
    assert len(orjson.dumps(payload)) > 3 << 20
    assert verdict(dates, payload) is (bad is None)
    if bad is not None:
        (problem,) = dates.validate(payload).problems
        assert (problem.code, problem.row) == ("datetime-iso8601", len(whens) - 2)
