"""Split rows without `columns`, requests without rows, bounded memory for invalid payloads, unreadable patterns."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemakit
from schemakit import PayloadValidator, compile_validator
from schemakit.runtime import engine as _engine
from schemakit.runtime import parse as _parse
from schemakit.runtime.engine import Engine

COLUMNS = ["int_col", "float_col", "string_col"]
MLFLOW_MODELS = Path(__file__).resolve().parents[1] / "mlflow" / "models"


def mlflow_validator(tmp_path: Path, inputs: list[dict[str, Any]]) -> PayloadValidator:
    """The validator of a model directory holding only an MLmodel file with this input signature."""
    signature = {"inputs": json.dumps(inputs), "outputs": json.dumps([{"type": "double", "required": True}])}
    (tmp_path / "MLmodel").write_text(yaml.safe_dump({"flavors": {"python_function": {}}, "signature": signature}))
    return compile_validator(schemakit.load(f"mlflow:{tmp_path}").models[0])


def both(validator: PayloadValidator, payload: Any) -> list[tuple[str, str]]:
    """(code, message) of each problem; the exact path and the wire path must say the same."""
    parsed = validator.validate(payload)
    wire = validator.validate_json(orjson.dumps(payload))
    assert wire.to_json() == parsed.to_json()
    return [(p.code, p.message) for p in parsed.problems]


# -- dataframe_split without columns ---------------------------------------------------------


def test_split_without_columns_is_refused_where_the_columns_have_names(docs_validator: PayloadValidator) -> None:
    # MLflow's server names the values 0, 1, 2 and answers 400 "Model is missing inputs ['int_col']".
    problems = both(docs_validator, {"dataframe_split": {"data": [[1, 2.0, "a"]]}})
    assert problems == [
        (
            "split-columns",
            "$.dataframe_split: dataframe_split has no columns; the server then numbers the row values 0, 1, ... "
            "instead of reading them as this model's columns, and refuses the request: required column(s) "
            "int_col missing",
        )
    ]
    assert both(docs_validator, {"dataframe_split": {"columns": COLUMNS, "data": [[1, 2.0, "a"]]}}) == []
    relaxed = compile_validator(docs_validator.model, disable=["split-columns"])
    assert relaxed.validate({"dataframe_split": {"data": [[1, 2.0, "a"]]}}).ok


def test_split_without_columns_and_nothing_required_says_every_value_is_dropped(
    docs_schema: schemakit.EndpointSchema,
) -> None:
    document = json.loads(json.dumps(docs_schema.source_document))
    text = json.dumps(document).replace('"description": "required fields: int_col", ', "")
    validator = compile_validator(schemakit.resolve(json.loads(text)).models[0])
    assert not any(c.required for c in validator.model.formats[0].columns)
    (problem,) = validator.validate({"dataframe_split": {"data": [[1, 1.5, "x"]]}}).problems
    assert problem.code == "split-columns"
    assert problem.message.endswith("drops every value as an unknown column")
    assert validator.validate({"dataframe_split": {"columns": COLUMNS, "data": [[1, 1.5, "x"]]}}).ok


def test_positional_models_take_rows_without_columns(tmp_path: Path) -> None:
    validator = mlflow_validator(tmp_path, [{"type": "string", "required": True}, {"type": "double", "required": True}])
    assert both(validator, {"dataframe_split": {"data": [["x", 1.5], ["y", 2]]}}) == []
    assert [code for code, _ in both(validator, {"dataframe_split": {"data": [["x", "y"]]}})] == ["type"]


def test_a_schema_that_requires_columns_reports_it_once() -> None:
    validator = compile_validator(schemakit.load(f"mlflow:{MLFLOW_MODELS / 'house-prices'}").models[0])
    codes = [code for code, _ in both(validator, {"dataframe_split": {"data": [[1, 2.5, "x", None, None]]}})]
    assert codes == ["required"]


# -- requests without rows -----------------------------------------------------------------


def test_records_without_rows_are_refused(docs_validator: PayloadValidator) -> None:
    # The server answers 400 "Model is missing inputs" (the agreement row "records: no rows").
    assert both(docs_validator, {"dataframe_records": []}) == [
        ("empty-input", "$.dataframe_records: no rows; the server refuses a request without any input")
    ]
    row = {"int_col": 1, "float_col": 1.5, "string_col": "a"}
    assert both(docs_validator, {"dataframe_records": [row]}) == []
    assert compile_validator(docs_validator.model, disable=["empty-input"]).validate({"dataframe_records": []}).ok


def test_split_with_columns_and_no_rows_is_accepted_as_the_server_does(docs_validator: PayloadValidator) -> None:
    # MLflow answers 200 with no predictions (the agreement row "split: no rows").
    assert both(docs_validator, {"dataframe_split": {"columns": COLUMNS, "data": []}}) == []


def test_tensor_instances_and_inputs_without_rows_are_refused(tmp_path: Path) -> None:
    validator = mlflow_validator(tmp_path, [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}])
    for key in ("instances", "inputs"):
        assert [code for code, _ in both(validator, {key: []})] == ["empty-input"], key
        assert both(validator, {key: [[1.0, 2.0, 3.0]]}) == [], key


def test_positional_split_without_rows_is_refused(tmp_path: Path) -> None:
    validator = mlflow_validator(tmp_path, [{"type": "string", "required": True}, {"type": "double", "required": True}])
    problems = both(validator, {"dataframe_split": {"data": []}})
    assert problems == [
        ("empty-input", "$.dataframe_split.data: no rows; the server refuses a request without any input")
    ]


def test_min_items_in_the_schema_is_not_reported_twice() -> None:
    validator = compile_validator(schemakit.load(f"mlflow:{MLFLOW_MODELS / 'house-prices'}").models[0])
    assert [code for code, _ in both(validator, {"dataframe_records": []})] == ["min-items"]


# -- invalid payloads are checked in bounded memory --------------------------------------------


def test_a_million_bad_cells_are_reported_in_bounded_memory(docs_validator: PayloadValidator) -> None:
    validator = compile_validator(docs_validator.model, max_errors=5)
    rows = b",".join(b'[%d, "x", "y"]' % (i % 997) for i in range(1_000_000))
    data = b'{"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [' + rows + b"]}}"
    del rows
    tracemalloc.start()
    try:
        report = validator.validate_json(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.total_errors, report.counts, len(report.problems)) == (1_000_000, {"type": 1_000_000}, 5)
    assert report.problems[4].message == (
        'row 4, column float_col ($.dataframe_split.data[4][1]): expected double, got string "x"'
    )
    # Parsed whole, these rows are some 150 MB of Python objects; a chunk of them is a few MB.
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MB for {len(data) / 2**20:.0f} MB of JSON"


def test_records_rows_checked_in_chunks_give_the_whole_report(docs_validator: PayloadValidator) -> None:
    # Strings and nested values that look like row boundaries, so some cuts must be moved.
    rows: list[dict[str, Any]] = [
        {"int_col": i, "float_col": 0.5, "string_col": "}, {" * (i % 3), "extra": [{"a": [1]}, {"b": 2}]}
        for i in range(30_000)
    ]
    for index in (0, 9_999, 17_123, 29_999):
        rows[index]["float_col"] = "bad"
    rows[20_000]["int_col"] = 2**70
    rows[25_000].pop("string_col")
    payload = {"dataframe_records": rows}
    data = json.dumps(payload).encode()  # orjson refuses 2**70
    assert len(data) > 2 * 2**20
    report = docs_validator.validate_json(data)
    assert report.to_json() == docs_validator.validate(payload).to_json()
    assert [(p.code, p.row) for p in report.errors] == [
        ("type", 0),
        ("type", 9_999),
        ("type", 17_123),
        ("int-range", 20_000),
        ("required", 25_000),
        ("type", 29_999),
    ]
    assert report.warnings[0].message.startswith("row 0, column extra ($.dataframe_records[0].extra)")
    assert "(30,000 rows)" in report.warnings[0].message


def test_split_rows_with_nested_arrays_checked_in_chunks_give_the_whole_report(tmp_path: Path) -> None:
    validator = mlflow_validator(
        tmp_path,
        [
            {"type": "array", "items": {"type": "array", "items": {"type": "long"}}, "name": "grid", "required": True},
            {"type": "string", "name": "label", "required": True},
            {"type": "datetime", "name": "when", "required": True},
        ],
    )
    rows: list[list[Any]] = [[[[i, 1], [2]], "], [" * (i % 2), "2024-05-06T07:08:09"] for i in range(60_000)]
    rows[41_000][0][1][0] = 2.5
    rows[55_555][2] = "2024-05-06"  # written in another form than row 0: refused by the server
    payload = {"dataframe_split": {"columns": ["grid", "label", "when"], "data": rows}}
    assert len(orjson.dumps(payload)) > 2 * 2**20
    report = validator.validate_json(orjson.dumps(payload))
    assert report.to_json() == validator.validate(payload).to_json()
    assert [(p.code, p.row, p.column) for p in report.problems] == [
        ("type", 41_000, "grid"),
        ("datetime-iso8601", 55_555, "when"),
    ]


def test_payloads_the_chunked_path_cannot_read_are_parsed_whole(docs_validator: PayloadValidator) -> None:
    rows = [[i, 0.5, "x"] for i in range(60_000)]
    text = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": rows}})
    nan = text.replace("0.5", "NaN", 1).encode()  # not JSON, but Python writes it: msgspec refuses it
    report = docs_validator.validate_json(nan)
    assert [(p.code, p.row) for p in report.problems] == [("non-finite", 0)]
    bom = ("\ufeff" + text.replace('"x"]]', '"x", 1]]')).encode()
    assert docs_validator.validate_json(bom).counts == {"row-width": 1}


# -- patterns Python cannot read ----------------------------------------------------------------


def pattern_plan(column: dict[str, Any]) -> dict[str, Any]:
    records = {"type": "array", "items": {"type": "object", "properties": {"code": column}}}
    branch = {"type": "object", "properties": {"dataframe_records": records}, "required": ["dataframe_records"]}
    fmt = {
        "kind": "dataframe_records",
        "key": "dataframe_records",
        "schema": branch,
        "named_columns": True,
        "columns": [{"name": "code", "position": 0, "required": False, "type": "string"}],
        "params": [],
    }
    return {"plan_version": 1, "model": "m", "request_schema": {"oneOf": [branch]}, "formats": [fmt]}


def test_an_unreadable_pattern_is_a_clear_problem_not_a_crash() -> None:
    engine = Engine(pattern_plan({"type": "string", "pattern": "(["}))
    report = engine.validate_json(b'{"dataframe_records": [{"code": "abc"}, {"code": 5}, {}]}')
    assert not report.ok
    assert [(p.code, p.row) for p in report.problems] == [("pattern", 0), ("type", 1)]
    assert report.problems[0].message == (
        'row 0, column code ($.dataframe_records[0].code): expected text matching ([, got string "abc": '
        'the document\'s pattern "([" is not a regular expression Python can read (unterminated character set '
        "at position 1), so no text can be checked against it; fix the pattern in the document"
    )
    assert engine.validate({"dataframe_records": [{}]}).ok  # nothing reached the pattern
    assert (
        Engine(pattern_plan({"type": "string", "pattern": "^[A-Z]+$"}))
        .validate({"dataframe_records": [{"code": "ABC"}]})
        .ok
    )


def test_an_unreadable_pattern_properties_key_is_a_clear_problem() -> None:
    engine = Engine(pattern_plan({"type": "object", "patternProperties": {"(?P<": {"type": "integer"}}}))
    report = engine.validate({"dataframe_records": [{"code": {"k": 1}}, {"code": {}}]})
    assert [(p.code, p.row, p.column) for p in report.problems] == [("pattern", 0, "code")]
    assert 'patternProperties: the document\'s pattern "(?P<" is not a regular expression' in report.problems[0].message


# -- the chunked exact path against the whole one, with tiny chunks ---------------------------

_TRICKY = st.sampled_from(["], [", "}, {", "],[", '"', "\\", ",", "[", "{", "x"])
_CELL = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.lists(_TRICKY, max_size=4).map("".join),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "}, {"]), inner, max_size=2),
    max_leaves=6,
)


@settings(
    derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_CELL, min_size=2, max_size=4), max_size=12),
    records=st.booleans(),
    max_errors=st.sampled_from([1, 3, 100]),
)
def test_rows_parsed_in_tiny_chunks_give_the_same_report(
    docs_validator: PayloadValidator,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[list[Any]],
    records: bool,
    max_errors: int,
) -> None:
    # Every payload takes the chunked path and is cut, often inside a value.
    monkeypatch.setattr(_engine, "EXACT_CHUNK_BYTES", 16)
    monkeypatch.setattr(_parse, "EXACT_CHUNK_BYTES", 16)
    validator = compile_validator(docs_validator.model, max_errors=max_errors)
    if records:
        payload: Any = {"dataframe_records": [dict(zip([*COLUMNS, "extra"], row, strict=False)) for row in rows]}
    else:
        payload = {"dataframe_split": {"columns": COLUMNS, "data": rows}}
    data = json.dumps(payload).encode()
    assert validator.validate_json(data).to_json() == validator.validate(payload).to_json()


def _datetime_plan(columns: int) -> dict[str, Any]:
    names = [f"t{i}" for i in range(columns)]
    row = {"type": "object", "properties": {n: {"type": "string", "format": "date-time"} for n in names}}
    schema = {
        "type": "object",
        "properties": {"dataframe_records": {"type": "array", "items": row}},
        "required": ["dataframe_records"],
    }
    fmt = {
        "kind": "dataframe_records",
        "key": "dataframe_records",
        "schema": schema,
        "columns": [{"name": n, "position": None, "required": False, "type": "datetime"} for n in names],
        "params": [],
    }
    return {"model": "dates", "request_schema": schema, "formats": [fmt]}


@pytest.mark.parametrize("with_error", [False, True])
def test_the_exact_path_parses_the_rows_a_fixed_number_of_times_whatever_the_datetime_columns(
    monkeypatch: pytest.MonkeyPatch, with_error: bool
) -> None:
    """Issue 17: the rows were parsed again for each datetime column (85x the payload's bytes at 500 columns)."""
    parses: list[int] = []
    real = _parse.parse_json

    def counting(data: Any) -> Any:
        parses.append(len(data))
        return real(data)

    monkeypatch.setattr(_parse, "parse_json", counting)
    parsed_bytes = []
    for columns in (2, 20):
        engine = Engine(_datetime_plan(columns))
        rows = [{f"t{i}": "2024-01-01T10:00:00" for i in range(columns)} for _ in range(30_000 // columns)]
        rows[-1]["t0"] = "2024-01-01 10:00" if with_error else rows[-1]["t0"]
        data = orjson.dumps({"dataframe_records": rows, "extra": 1})  # `extra` keeps it off the fast path
        parses.clear()
        report = engine.validate_json(data)
        assert report.ok is not with_error
        parsed_bytes.append(sum(parses) / len(data))
    assert parsed_bytes[1] <= parsed_bytes[0] * 1.2, parsed_bytes
