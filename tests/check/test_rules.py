"""Every serving rule: a payload that breaks it, one that passes, and the rule switched off."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

import schemakit
from schemakit import SERVING_RULES, InvalidPayloadError, PayloadValidator, compile_validator
from schemakit.check.validator import make_plan

COLUMNS = ["int_col", "float_col", "string_col"]


def split(data: list[list[Any]], columns: list[str] | None = COLUMNS, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data, **extra}
    if columns is not None:
        body["columns"] = columns
    return {"dataframe_split": body}


TYPED_DOC = {
    "openapi": "3.1.0",
    "info": {"title": "typed", "version": "1"},
    "servers": [{"url": "https://example.com/serving-endpoints/typed"}],
    "paths": {
        "/served-models/typed-1/invocations": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "dataframe_records": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "small": {"type": "integer", "format": "int32"},
                                                "blob": {"type": "string", "format": "binary"},
                                                "when": {"type": "string", "format": "date-time"},
                                                "x": {"type": "number", "format": "double"},
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
}


@pytest.fixture(scope="module")
def typed() -> PayloadValidator:
    return compile_validator(schemakit.resolve(TYPED_DOC).models[0])


def codes(report: schemakit.PayloadReport) -> set[str]:
    return {p.code for p in report.problems}


# (rule, breaking payload, passing payload), over the docs example
DOCS_CASES: list[tuple[str, Any, Any]] = [
    ("one-format", {"dataframe_split": {"data": []}, "dataframe_records": []}, split([[1, 1.5, "a"]])),
    ("one-format", {"instances": [[1, 2.0, "a"]]}, {"dataframe_records": [{"int_col": 1, "float_col": 1, "string_col": "a"}]}),
    ("split-keys", split([[1, 1.5, "a"]], extra="x"), split([[1, 1.5, "a"]], index=[0])),
    ("duplicate-column", split([[1, 2, 3]], ["int_col", "int_col", "float_col"]), split([[1, 2]], ["int_col", "float_col"])),
    ("row-width", split([[1, 1.5]]), split([[1, 1.5, "a"]])),
    ("required-column", split([[1.5, "a"]], ["float_col", "string_col"]), split([[1]], ["int_col"])),
    ("float-for-integer", split([[1.0, 1.5, "a"]]), split([[1, 1, "a"]])),
    ("int-range", split([[2**63, 1.5, "a"]]), split([[2**63 - 1, 1.5, "a"]])),
    ("non-finite", split([[1, math.nan, "a"]]), split([[1, 1e308, "a"]])),
    ("unknown-param", {**split([[1, 1.5, "a"]]), "params": {"temperature": 1}}, {**split([[1, 1.5, "a"]]), "params": {"sentiment": 0.2}}),
    ("split-columns", split([[1, 1.5, "a"]], columns=None), split([[1, 1.5, "a"]])),
    ("empty-input", {"dataframe_records": []}, {"dataframe_records": [{"int_col": 1, "float_col": 1.5, "string_col": "a"}]}),
    ("unknown-column", {"dataframe_records": [{"int_col": 1, "float_col": 1.5, "string_col": "a", "extra": 1}]}, {"dataframe_records": [{"int_col": 1, "float_col": 1.5, "string_col": "a", "becx_col": {"any": 1}}]}),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "bad", "good"), DOCS_CASES, ids=[c[0] for c in DOCS_CASES])
def test_docs_rule_breaks_and_passes(docs_validator: PayloadValidator, rule: str, bad: Any, good: Any) -> None:
    broken = docs_validator.validate(bad)
    assert rule in codes(broken), broken.to_text()
    fine = docs_validator.validate(good)
    assert fine.ok, fine.to_text()
    assert not fine.problems, fine.to_text()
    relaxed = compile_validator(docs_validator.model, disable=[rule]).validate(bad)
    assert rule not in codes(relaxed)


@pytest.mark.parametrize(
    ("rule", "bad", "good"),
    [
        ("int-range", {"small": 2**31}, {"small": 2**31 - 1}),
        ("binary-base64", {"blob": "not base64!"}, {"blob": "aGVsbG8="}),
        ("datetime-iso8601", {"when": "yesterday"}, {"when": "2024-02-29T10:00:00"}),
        ("datetime-iso8601", {"when": "2023-02-29"}, {"when": "2023-02-28"}),
    ],
)
def test_typed_rule_breaks_and_passes(typed: PayloadValidator, rule: str, bad: Any, good: Any) -> None:
    broken = typed.validate({"dataframe_records": [good, bad]})
    assert [p.code for p in broken.problems] == [rule]
    assert broken.problems[0].row == 1
    assert typed.validate({"dataframe_records": [good]}).ok
    assert typed.validate_json(orjson.dumps({"dataframe_records": [good, good]})).ok
    assert not typed.validate_json(orjson.dumps({"dataframe_records": [good, bad]})).ok


def test_every_rule_is_tested_and_documented() -> None:
    from schemakit.runtime.payload_rules import PAYLOAD_RULES, SCHEMA_RULES
    from schemakit.runtime.rules import render_rule_table

    in_test_object_requests = {"required-field", "known-document-gap", "payload-too-large"}
    # integer-null needs an optional integer column, which the docs example lacks: test_integer_null.py.
    tested = {c[0] for c in DOCS_CASES} | {"binary-base64", "datetime-iso8601", "columns-by-name", "integer-null"}
    assert tested | in_test_object_requests == set(SERVING_RULES)
    docs = (Path(__file__).parents[2] / "docs" / "check.md").read_text()
    # The tables in the guide are rendered from the rule tables, never written by hand.
    assert render_rule_table(PAYLOAD_RULES) in docs
    assert render_rule_table(SCHEMA_RULES) in docs
    for code in SERVING_RULES:
        assert f"`{code}`" in docs


def test_reordered_columns_are_typed_by_name(docs_validator: PayloadValidator) -> None:
    payload = split([["abc", 1, 2.5]], ["string_col", "int_col", "float_col"])
    assert docs_validator.validate(payload).ok
    bad = docs_validator.validate(split([["abc", 1.5, 2.5]], ["string_col", "int_col", "float_col"]))
    assert [(p.code, p.row, p.column) for p in bad.problems] == [("type", 0, "int_col")]
    # Positionally (the rule off, as plain JSON Schema reads it) the same valid payload is wrong.
    positional = compile_validator(docs_validator.model, disable=["columns-by-name"]).validate(payload)
    assert not positional.ok


def test_message_names_row_column_path_expected_and_found(docs_validator: PayloadValidator) -> None:
    rows: list[list[Any]] = [[i, 0.5, "x"] for i in range(150001)]
    rows[150000][1] = "abc"
    report = docs_validator.validate_json(orjson.dumps(split(rows)))
    assert not report.ok
    (problem,) = report.problems
    assert problem.message == (
        'row 150000, column float_col ($.dataframe_split.data[150000][1]): expected double, got string "abc"'
    )
    assert (problem.row, problem.column, problem.expected, problem.found) == (
        150000,
        "float_col",
        "double",
        'string "abc"',
    )


def test_long_values_are_shortened(docs_validator: PayloadValidator) -> None:
    report = docs_validator.validate(split([[1, "x" * 1000, "a"]]))
    assert len(report.problems[0].message) < 200
    assert '..."' in report.problems[0].found


def test_a_million_bad_cells_keep_n_and_count_all(docs_validator: PayloadValidator) -> None:
    validator = compile_validator(docs_validator.model, max_errors=10)
    data = (
        b'{"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": ['
        + b",".join([b'["a", "b", 3]'] * 350_000)
        + b"]}}"
    )
    report = validator.validate_json(data)
    assert len(report.problems) == 10
    assert report.total_errors == 1_050_000
    assert report.counts == {"type": 1_050_000}
    assert report.truncated
    text = report.to_text()
    assert "1,050,000 errors" in text
    assert "and 1,049,995 more" in text


def test_docs_example_plain_jsonschema_versus_schemakit(
    docs_schema: schemakit.EndpointSchema, docs_validator: PayloadValidator
) -> None:
    """The raw document's oneOf rejects a valid split payload and accepts 3.5 in int_col; schemakit does neither."""
    raw = docs_schema.source_document["paths"]["/served-models/vanilla_simple_model-2/invocations"]["post"]
    raw_schema = raw["requestBody"]["content"]["application/json"]["schema"]
    valid = split([[3, 10.4, "abc"], [2, 20.4, "xyz"]])
    bad_int = split([[3.5, 10.4, "abc"]])
    assert not Draft202012Validator(raw_schema).is_valid(valid)
    assert Draft202012Validator(raw_schema).is_valid(bad_int)
    assert docs_validator.validate(valid).ok
    assert not docs_validator.validate(bad_int).ok
    pure = compile_validator(docs_validator.model, disable=SERVING_RULES)
    assert pure.validate(valid).ok
    assert not pure.validate(bad_int).ok


def test_null_in_required_string_and_ints_for_doubles(docs_validator: PayloadValidator) -> None:
    assert docs_validator.validate(split([[1, 2, "a"]])).ok  # an int is a fine double
    report = docs_validator.validate(split([[1, 2.5, None]]))
    assert report.problems[0].message.endswith("expected string, got null")
    assert not docs_validator.validate(split([[1, "2.5", "a"]])).ok  # a string is not a number


def test_big_integers_are_read_exactly(docs_validator: PayloadValidator) -> None:
    report = docs_validator.validate_json(
        b'{"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[123456789012345678901234567890, 1, "a"]]}}'
    )
    assert [p.code for p in report.problems] == ["int-range"]
    assert "123456789012345678901234567890" in report.problems[0].message


def test_not_json_says_where(docs_validator: PayloadValidator) -> None:
    report = docs_validator.validate_json(b'{"dataframe_split":\n {"data": [1,]}}')
    assert [p.code for p in report.problems] == ["invalid-json"]
    assert report.problems[0].message.startswith("line 2, column")


def test_check_raises_with_the_report(docs_validator: PayloadValidator) -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        docs_validator.check(split([[1.5, 1, "a"]]))
    assert caught.value.report.total_errors == 1
    assert "row 0, column int_col" in str(caught.value)


def test_endpoint_validator_says_which_models_accept(samples: Any) -> None:
    schema = schemakit.load(str(samples / "multi-model.json"))
    validator = schemakit.compile_endpoint_validator(schema)
    names = [m.name for m in schema.models]
    report = validator.validate({"dataframe_records": [{}]})
    assert set(report.reports) == set(names)
    assert set(report.accepted_by) <= set(names)
    assert report.ok is (len(report.accepted_by) == len(names))


def test_report_json_is_stable(docs_validator: PayloadValidator) -> None:
    out = docs_validator.validate(split([[1, "x", "a"]])).to_json()
    assert list(out) == ["ok", "model", "format", "total_errors", "total_warnings", "counts", "truncated", "problems"]
    assert out["problems"][0]["path"] == "$.dataframe_split.data[0][1]"
    orjson.dumps(make_plan(docs_validator.model))  # the plan is JSON


def test_unknown_rule_code_is_refused(docs_validator: PayloadValidator) -> None:
    with pytest.raises(schemakit.SchemakitError, match="unknown serving rule"):
        compile_validator(docs_validator.model, disable=["no-such-rule"])


def test_split_index_is_an_array_with_one_label_per_row() -> None:
    import schemakit

    validator = schemakit.compile_validator(schemakit.load("samples/docs-example-dataframe.json").models[0])
    rows = {"columns": ["int_col"], "data": [[1], [2]]}
    assert validator.validate({"dataframe_split": {**rows, "index": [10, 11]}}).ok
    assert validator.validate_json(
        b'{"dataframe_split": {"columns": ["int_col"], "data": [[1], [2]], "index": [10, 11]}}'
    ).ok
    for index, message in (("x", "index must be an array"), ([0, 1, 2], "index has 3 labels for 2 rows")):
        report = validator.validate({"dataframe_split": {**rows, "index": index}})
        assert [(p.code, p.path) for p in report.problems] == [("split-keys", "$.dataframe_split.index")]
        assert message in report.problems[0].message
    assert validator.validate({"dataframe_split": {**rows, "index": "x"}}).ok is False
    off = schemakit.compile_validator(
        schemakit.load("samples/docs-example-dataframe.json").models[0], disable=["split-keys"]
    )
    assert off.validate({"dataframe_split": {**rows, "index": "x"}}).ok


def test_errors_are_listed_before_warnings_and_never_cut_off(docs_validator: PayloadValidator) -> None:
    """Issue 18: warnings found first must not push an error out of the listing or behind "... and N more"."""
    params = {f"unknown_{i}": i for i in range(8)}
    payload = {**split([[1.0, 1.5, "a"], [2, "bad", "b"]]), "params": params}
    validator = compile_validator(docs_validator.model, max_errors=3)
    for report in (validator.validate(payload), validator.validate_json(orjson.dumps(payload))):
        assert not report.ok
        assert (report.total_errors, report.total_warnings) == (1, 9)
        assert [p.severity for p in report.problems] == ["error", "warning", "warning"]
        assert report.problems[0].code == "type"
        text = report.to_text(max_problems=2).splitlines()
        assert text[1].startswith("- error [type] row 1, column float_col")
        assert text[-1] == "- ... and 8 more"


def test_whole_number_floats_warn_in_cells_and_stay_errors_where_the_server_refuses_them() -> None:
    """MLflow casts a column (1.0 -> 1) but checks array elements, tensor elements and params strictly."""
    validator = compile_validator(schemakit.load("samples/all-types.json").models[0])
    row = orjson.loads(Path("samples/payloads/all-types/valid-records.json").read_bytes())["dataframe_records"][0]
    cell = validator.validate({"dataframe_records": [{**row, "small_int": 1.0}]})
    assert cell.ok
    assert [(p.code, p.severity) for p in cell.problems] == [("float-for-integer", "warning")]
    nested = validator.validate({"dataframe_records": [{**row, "counts": {"a": 1, "b": 1.0}}]})  # map<long>
    assert not nested.ok
    assert [(p.code, p.severity) for p in nested.problems] == [("float-for-integer", "error")]
    docs = compile_validator(schemakit.load("samples/docs-example-dataframe.json").models[0])
    assert docs.validate({**split([[1.0, 1.5, "a"]]), "params": {"sentiment": 0.5}}).ok
    strict = compile_validator(validator.model, strict=True).validate(
        {"dataframe_records": [{**row, "small_int": 1.0}]}
    )
    assert [(p.code, p.severity) for p in strict.problems] == [("float-for-integer", "error")]
