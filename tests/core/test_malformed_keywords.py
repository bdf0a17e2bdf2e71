"""A keyword with a value JSON Schema cannot hold is reported by `validate` and never reaches a validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import schemakit

COLUMN = "/paths/~1served-models~1m-1~1invocations/post/requestBody/content/application~1json/schema/properties/dataframe_records/items/properties/a"


def _document(column: dict[str, Any]) -> dict[str, Any]:
    row = {"type": "object", "properties": {"a": column}, "required": ["a"]}
    body = {"type": "object", "properties": {"dataframe_records": {"type": "array", "items": row}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://h.example/serving-endpoints/t"}],
        "paths": {
            "/served-models/m-1/invocations": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


CASES = [
    ({"type": "string", "pattern": "(["}, "schema-invalid", "/pattern", "is not a regular expression"),
    ({"type": "string", "pattern": 5}, "schema-invalid", "/pattern", "must be a regular expression string"),
    ({"type": "int"}, "invalid-type", "/type", "unknown JSON Schema type 'int'"),
    ({"type": ["string", "text"]}, "invalid-type", "/type", "unknown JSON Schema type 'text'"),
    ({"type": "integer", "minimum": "3"}, "schema-invalid", "/minimum", "'minimum' must be a number"),
    ({"type": "integer", "multipleOf": 0}, "schema-invalid", "/multipleOf", "greater than 0"),
    ({"type": "string", "maxLength": -1}, "schema-invalid", "/maxLength", "non-negative integer"),
    ({"type": "array", "minItems": 1.5}, "schema-invalid", "/minItems", "non-negative integer"),
    ({"oneOf": {}}, "schema-invalid", "/oneOf", "non-empty list of schemas"),
    ({"anyOf": []}, "schema-invalid", "/anyOf", "non-empty list of schemas"),
    ({"type": "array", "prefixItems": {"type": "string"}}, "schema-invalid", "/prefixItems", "list of schemas"),
    ({"type": "array", "items": 3}, "schema-invalid", "/items", "must be a schema"),
    ({"type": "object", "properties": []}, "schema-invalid", "/properties", "must map names to schemas"),
    ({"type": "object", "patternProperties": {"([": {}}}, "schema-invalid", "/patternProperties", "not a regular expression"),
    ({"type": "object", "required": "x"}, "schema-invalid", "/required", "list of names"),
    ({"enum": "abc"}, "schema-invalid", "/enum", "list of values"),
    ({"type": "array", "uniqueItems": "yes"}, "schema-invalid", "/uniqueItems", "true or false"),
    ({"not": 1}, "schema-invalid", "/not", "must be a schema"),
]


@pytest.mark.parametrize(("column", "code", "where", "message"), CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_malformed_keyword_is_an_error_and_payloads_still_check(
    tmp_path: Path, run_cli: Any, column: dict[str, Any], code: str, where: str, message: str
) -> None:
    spec = tmp_path / "doc.json"
    spec.write_text(json.dumps(_document(column)))
    report = schemakit.validate_document(str(spec))
    assert not report.ok
    found = [d for d in report.diagnostics if d.code == code and d.pointer == COLUMN + where]
    assert found, [str(d) for d in report.diagnostics]
    assert message in found[0].message
    assert found[0].message.endswith("; ignored")

    result = run_cli("validate", str(spec))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr

    # A verdict would rest on the broken keyword, so `check` refuses the document in one line...
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"dataframe_records": [{"a": "x"}]}))
    checked = run_cli("check", str(spec), str(payload))
    assert checked.returncode == 2, checked.stderr
    assert checked.stderr.startswith(f"schemakit: error: {spec} has ")
    assert f"(run `schemakit validate {spec}`)" in checked.stderr
    # ...and so does the library (one policy, core/policy.py); forced, it never sees the keyword and runs to a verdict.
    model = schemakit.load(str(spec)).models[0]
    with pytest.raises(schemakit.InvalidDocumentError):
        schemakit.compile_validator(model)
    assert schemakit.compile_validator(model, force=True).validate({"dataframe_records": [{"a": "x"}]}) is not None


def test_split_column_names_must_be_strings(tmp_path: Path) -> None:
    document = json.loads(Path("samples/docs-example-dataframe.json").read_text())
    split = document["paths"]["/served-models/vanilla_simple_model-2/invocations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"][0]["properties"]["dataframe_split"]
    split["properties"]["columns"]["items"]["enum"] = ["int_col", 1, None]
    report = schemakit.validate_document(document)
    found = [d for d in report.diagnostics if d.code == "split-columns-not-names"]
    assert len(found) == 1
    assert found[0].severity == "error"
    assert found[0].pointer.endswith("/oneOf/0/properties/dataframe_split/properties/columns/items/enum")


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://attacker.example:8080/serving-endpoints/t", True),
        ("https://h.example/serving-endpoints/t", False),
        ("http://127.0.0.1:8765/serving-endpoints/t", False),
        ("http://localhost/serving-endpoints/t", False),
    ],
)
def test_plain_http_server_urls_are_a_warning(url: str, warned: bool) -> None:
    document = _document({"type": "string"})
    document["servers"] = [{"url": url}]
    codes = [d.code for d in schemakit.validate_document(document).diagnostics]
    assert ("server-not-https" in codes) is warned


def test_a_pattern_python_warns_about_prints_no_python_warning(tmp_path: Path, run_cli: Any) -> None:
    # `[[:alpha:]]` compiles, with a FutureWarning from `re` ("possible nested set"): the user sees a verdict only.
    spec = tmp_path / "doc.json"
    spec.write_text(json.dumps(_document({"type": "string", "pattern": "[[:alpha:]]"})))
    result = run_cli("validate", str(spec))
    assert "Warning" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr
