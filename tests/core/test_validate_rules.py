"""`schemakit validate`: every serving rule with its code, severity, pointer and message; exit codes; --strict; JSON."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import schemakit
from schemakit import Diagnostic, validate_document
from schemakit.core.refs import resolve_pointer

SCHEMA = "/paths/~1served-models~1model-1~1invocations/post/requestBody/content/application~1json/schema"
MODEL = "/paths/~1served-models~1model-1~1invocations"


def validate_json(run_cli: Any, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("validate", str(path), "--format", "json", *extra)
    assert "Traceback" not in result.stderr
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


def find(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [d for d in report["diagnostics"] if d["code"] == code]


# -- the invalid samples, through the real CLI ----------------------------------------------------

SAMPLE_RULES = [
    # (sample, exit code, code, severity, pointer, message fragment)
    (
        "no-invocations.json",
        1,
        "no-invocations",
        "error",
        "/paths",
        "no usable /served-models/<name>/invocations paths: this is not a serving endpoint's query schema",
    ),
    (
        "request-not-json.json",
        1,
        "request-not-json",
        "error",
        f"{MODEL}/post/requestBody/content",
        "the request body is not application/json (it offers text/csv)",
    ),
    (
        "unknown-input-format.json",
        1,
        "unknown-input-format",
        "error",
        f"{SCHEMA}/oneOf/2",
        "this branch matches no known input format (dataframe_split, dataframe_records, instances, inputs)",
    ),
    (
        "default-invalid.json",
        1,
        "default-invalid",
        "error",
        f"{SCHEMA}/oneOf/0/properties/params/properties/temperature/default",
        "default 'warm' is not a number and cannot be read as one",
    ),
    (
        "ref-cycle.json",
        1,
        "ref-cycle",
        "error",
        f"{SCHEMA}/oneOf/0/properties/dataframe_records/items/properties/node/properties/children/items",
        "$ref cycle #/components/schemas/Node -> #/components/schemas/Children -> #/components/schemas/Node",
    ),
    (
        "ref-unresolved.json",
        1,
        "ref-unresolved",
        "error",
        f"{SCHEMA}/oneOf/0/properties/dataframe_records/items/properties/amount",
        "$ref '#/components/schemas/Amount' points at nothing in the document",
    ),
    (
        "split-columns-mismatch.json",
        1,
        "split-columns-mismatch",
        "error",
        f"{SCHEMA}/oneOf/0/properties/dataframe_split/properties/data/items/prefixItems",
        "columns lists 3 names but rows are typed for 2 positions",
    ),
    ("openapi-structure.json", 1, "openapi-structure", "error", "/info", '"version" is a required property'),
    (
        "servers-missing.json",
        0,
        "servers-not-one",
        "warning",
        "/servers",
        "no servers entry: clients cannot know the endpoint's base URL",
    ),
    (
        "servers-two.json",
        0,
        "servers-not-one",
        "warning",
        "/servers",
        "2 servers entries; a serving endpoint has exactly one (using the first)",
    ),
    (
        "unknown-format.json",
        0,
        "unknown-format",
        "warning",
        f"{SCHEMA}/oneOf/0/properties/dataframe_split/properties/data/items/prefixItems/1/format",
        "unknown format 'decimal128'",
    ),
    (
        "formats-disagree-types.json",
        0,
        "formats-disagree-types",
        "warning",
        MODEL,
        "column id is long in dataframe_split but string in dataframe_records",
    ),
]


@pytest.mark.parametrize(
    ("sample", "exit_code", "code", "severity", "pointer", "message"), SAMPLE_RULES, ids=[r[0] for r in SAMPLE_RULES]
)
def test_invalid_sample(
    run_cli: Any, samples: Path, sample: str, exit_code: int, code: str, severity: str, pointer: str, message: str
) -> None:
    returncode, report = validate_json(run_cli, samples / "invalid" / sample)
    assert returncode == exit_code, report
    found = find(report, code)
    assert found, report["diagnostics"]
    assert any(d["severity"] == severity and d["pointer"] == pointer and message in d["message"] for d in found), found
    assert report["ok"] is (exit_code == 0)


def test_text_output_of_an_invalid_document(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "request-not-json.json"
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}: error [no-invocations] /paths: no usable /served-models/<name>/invocations paths: "
        "this is not a serving endpoint's query schema",
        f"{path}: error [request-not-json] /paths/~1served-models~1model-1~1invocations/post/requestBody/content: "
        "the request body is not application/json (it offers text/csv)",
        f"{path}: invalid: 0 served model(s), 2 error(s), 0 warning(s)",
    ]


def test_ref_cycle_is_reported_not_recursed(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "ref-cycle.json"
    result = run_cli("inspect", str(path), "--format", "json", timeout=60)
    assert result.returncode == 0, result.stderr
    [model] = json.loads(result.stdout)["models"]
    node = next(c for c in model["columns"] if c["name"] == "node")
    # The cycle is cut where it closes: `children` holds arrays of any value.
    assert node["type"] == "object<value: long, children: array<any>>"


@pytest.mark.parametrize("sample", ["remote-ref-http.json", "remote-ref-file.json"])
def test_remote_refs_are_refused(run_cli: Any, samples: Path, sample: str) -> None:
    path = samples / "invalid" / sample
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"schemakit: error: {path}: $ref '")
    assert (
        f"at {SCHEMA}/oneOf/0/properties/dataframe_records/items/properties/amount points outside the document" in line
    )
    assert "remote references are refused by default (a document may not make schemakit fetch anything)" in line


def test_relative_file_ref_followed_only_when_allowed(tmp_path: Path, docs: SimpleNamespace, run_cli: Any) -> None:
    document = json.loads((docs.samples / "invalid" / "remote-ref-file.json").read_text())
    (tmp_path / "doc.json").write_text(json.dumps(document))
    (tmp_path / "common.json").write_text(json.dumps({"components": {"schemas": {"Amount": docs.DOUBLE}}}))
    refused = run_cli("inspect", str(tmp_path / "doc.json"))
    assert refused.returncode == 2
    assert "remote references are refused by default" in refused.stderr
    allowed = run_cli("inspect", str(tmp_path / "doc.json"), "--allow-remote-refs", "--format", "json")
    assert allowed.returncode == 0, allowed.stderr
    columns = json.loads(allowed.stdout)["models"][0]["columns"]
    assert [(c["name"], c["type"]) for c in columns] == [("id", "long"), ("amount", "double")]
    validated = run_cli("validate", str(tmp_path / "doc.json"), "--allow-remote-refs")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert validated.stdout.endswith(": ok: 1 served model(s), 0 error(s), 0 warning(s)\n")


# -- every rule, on small documents (library) --------------------------------------------------------


def _with(docs: SimpleNamespace, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = docs.docs_example()
    change(document)
    return document


def _post(document: dict[str, Any]) -> dict[str, Any]:
    post: dict[str, Any] = next(iter(document["paths"].values()))["post"]
    return post


def _request(document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = _post(document)["requestBody"]["content"]["application/json"]["schema"]
    return schema


DOCS_MODEL = "/paths/~1served-models~1vanilla_simple_model-2~1invocations"
DOCS_SCHEMA = f"{DOCS_MODEL}/post/requestBody/content/application~1json/schema"


def _rules(docs: SimpleNamespace) -> list[tuple[str, dict[str, Any], str, str, str, str]]:
    """(id, document, code, severity, pointer, message fragment)."""

    def set_info(d: dict[str, Any]) -> None:
        d["info"] = {"version": "1"}

    def no_info(d: dict[str, Any]) -> None:
        del d["info"]

    def no_post(d: dict[str, Any]) -> None:
        d["paths"][next(iter(d["paths"]))] = {"get": {"responses": {}}}

    def no_body(d: dict[str, Any]) -> None:
        del _post(d)["requestBody"]

    def empty_content(d: dict[str, Any]) -> None:
        _post(d)["requestBody"]["content"] = {}

    def no_schema(d: dict[str, Any]) -> None:
        _post(d)["requestBody"]["content"]["application/json"] = {}

    def only_unknown_branches(d: dict[str, Any]) -> None:
        _request(d)["oneOf"] = [{"type": "object", "properties": {"rows": {"type": "array"}}}]

    def duplicate(d: dict[str, Any]) -> None:
        _request(d)["oneOf"].append(copy.deepcopy(_request(d)["oneOf"][1]))

    def required_unknown(d: dict[str, Any]) -> None:
        _request(d)["oneOf"][1]["properties"]["dataframe_records"]["items"]["required"].append("ghost_col")

    def split_required_unknown(d: dict[str, Any]) -> None:
        columns = _request(d)["oneOf"][0]["properties"]["dataframe_split"]["properties"]["columns"]
        columns["description"] = "required fields: int_col, ghost_col"

    def no_response(d: dict[str, Any]) -> None:
        _post(d)["responses"] = {"200": {"description": "ok"}}

    def bad_schema(d: dict[str, Any]) -> None:
        _request(d)["oneOf"][1]["properties"]["dataframe_records"]["items"]["properties"]["int_col"] = "long"

    def bad_type(d: dict[str, Any]) -> None:
        _request(d)["oneOf"][1]["properties"]["dataframe_records"]["items"]["properties"]["int_col"] = {"type": "int"}

    def nullable_31(d: dict[str, Any]) -> None:
        _request(d)["oneOf"][1]["properties"]["dataframe_records"]["items"]["properties"]["string_col"]["nullable"] = (
            True
        )

    def unknown_path(d: dict[str, Any]) -> None:
        d["paths"]["/health"] = {"get": {"responses": {"200": {"description": "ok"}}}}

    def split_not_json_default(d: dict[str, Any]) -> None:
        params = _request(d)["oneOf"][0]["properties"]["params"]["properties"]
        params["flags"] = {"type": "array", "items": {"type": "string"}, "default": "not a list"}

    return [
        ("info-missing", _with(docs, no_info), "info-missing", "error", "/info", "the document has no info object"),
        ("info-title-missing", _with(docs, set_info), "info-title-missing", "warning", "/info", "info.title"),
        ("no-post", _with(docs, no_post), "no-post", "error", DOCS_MODEL, "has no POST operation"),
        (
            "no-request-body",
            _with(docs, no_body),
            "no-request-body",
            "error",
            f"{DOCS_MODEL}/post/requestBody",
            "no request body",
        ),
        (
            "empty-content",
            _with(docs, empty_content),
            "no-request-body",
            "error",
            f"{DOCS_MODEL}/post/requestBody/content",
            "the request body has no content",
        ),
        ("no-request-schema", _with(docs, no_schema), "no-request-schema", "error", DOCS_SCHEMA, "has no schema"),
        (
            "no-input-format",
            _with(docs, only_unknown_branches),
            "no-input-format",
            "error",
            DOCS_SCHEMA,
            "accepts no input format schemakit recognizes",
        ),
        (
            "duplicate-input-format",
            _with(docs, duplicate),
            "duplicate-input-format",
            "warning",
            f"{DOCS_SCHEMA}/oneOf/2",
            "dataframe_records is described by more than one branch; the first is used",
        ),
        (
            "required-unknown",
            _with(docs, required_unknown),
            "required-unknown",
            "warning",
            f"{DOCS_SCHEMA}/oneOf/1/properties/dataframe_records/items/required",
            "required lists ghost_col, which properties does not define",
        ),
        (
            "split-required-unknown",
            _with(docs, split_required_unknown),
            "split-required-unknown",
            "warning",
            f"{DOCS_SCHEMA}/oneOf/0/properties/dataframe_split/properties/columns/description",
            "'required fields' names ghost_col, which the split columns do not list",
        ),
        (
            "no-response-schema",
            _with(docs, no_response),
            "no-response-schema",
            "warning",
            f"{DOCS_MODEL}/post/responses/200",
            "no JSON schema for the 200 response",
        ),
        (
            "schema-invalid",
            _with(docs, bad_schema),
            "schema-invalid",
            "error",
            f"{DOCS_SCHEMA}/oneOf/1/properties/dataframe_records/items/properties/int_col",
            "a schema must be an object, got 'long'",
        ),
        (
            "invalid-type",
            _with(docs, bad_type),
            "invalid-type",
            "error",
            f"{DOCS_SCHEMA}/oneOf/1/properties/dataframe_records/items/properties/int_col/type",
            "unknown JSON Schema type 'int'",
        ),
        (
            "nullable-in-3.1",
            _with(docs, nullable_31),
            "nullable-in-3.1",
            "warning",
            f"{DOCS_SCHEMA}/oneOf/1/properties/dataframe_records/items/properties/string_col/nullable",
            "'nullable' is an OpenAPI 3.0 keyword, not part of 3.1; honoured as \"null allowed\"",
        ),
        (
            "unknown-path",
            _with(docs, unknown_path),
            "unknown-path",
            "warning",
            "/paths/~1health",
            "path '/health' is not /served-models/<name>/invocations; ignored",
        ),
        (
            "default-invalid-array",
            _with(docs, split_not_json_default),
            "default-invalid",
            "error",
            f"{DOCS_SCHEMA}/oneOf/0/properties/params/properties/flags/default",
            "default 'not a list' is not a array and cannot be read as one",
        ),
    ]


def test_every_rule(docs: SimpleNamespace) -> None:
    for rule_id, document, code, severity, pointer, message in _rules(docs):
        report = validate_document(document)
        matching = [d for d in report.diagnostics if d.code == code]
        assert matching, (rule_id, [str(d) for d in report.diagnostics])
        assert any(d.severity == severity and d.pointer == pointer and message in d.message for d in matching), (
            rule_id,
            [str(d) for d in matching],
        )
        assert report.ok is not any(d.severity == "error" for d in report.diagnostics)


def test_example_not_wrapped_and_unknown_type_on_the_docs_example(docs: SimpleNamespace) -> None:
    report = validate_document(docs.docs_example())
    by_code = {d.code: d for d in report.diagnostics}
    assert by_code["example-not-wrapped"] == Diagnostic(
        "example-not-wrapped",
        "warning",
        f"{DOCS_SCHEMA}/oneOf/0/examples/0",
        'the example is a bare split object; a payload wraps it as {"dataframe_split": ...}',
    )
    assert by_code["unknown-type"].pointer == (
        f"{DOCS_SCHEMA}/oneOf/1/properties/dataframe_records/items/properties/becx_col/format"
    )


def test_a_wrapped_example_is_fine(docs: SimpleNamespace) -> None:
    document = docs.docs_example()
    branch = _request(document)["oneOf"][0]
    branch["examples"] = [{"dataframe_split": branch["examples"][0]}]
    assert "example-not-wrapped" not in {d.code for d in validate_document(document).diagnostics}


def test_branches_that_require_their_key_are_not_ambiguous(docs: SimpleNamespace) -> None:
    document = docs.docs_example()
    for branch, key in zip(_request(document)["oneOf"], ("dataframe_split", "dataframe_records"), strict=True):
        branch["required"] = [key]
    assert "oneof-ambiguous" not in {d.code for d in validate_document(document).diagnostics}


def test_nullable_in_30_is_not_a_warning(samples: Path) -> None:
    report = validate_document(str(samples / "openapi-3.0-nullable.json"))
    assert report.diagnostics == ()
    assert report.ok


def test_a_clean_document_has_no_findings(docs: SimpleNamespace) -> None:
    request = docs.records({"id": docs.LONG}, ["id"])
    request["oneOf"][0]["required"] = ["dataframe_records"]
    document = docs.endpoint(request)
    report = validate_document(document)
    assert report.diagnostics == ()
    assert report.to_json()["ok"] is True


def test_diagnostics_point_into_the_document(samples: Path) -> None:
    """Each pointer names a place in the raw document (or, for something missing, its parent)."""
    for name in ("docs-example-dataframe.json", "foundation-model-chat.json", "all-types.json"):
        document = json.loads((samples / name).read_text())
        for diagnostic in validate_document(document).diagnostics:
            pointer = diagnostic.pointer
            try:
                resolve_pointer(document, pointer)
            except KeyError:
                resolve_pointer(document, pointer.rsplit("/", 1)[0])


def test_diagnostics_are_sorted_errors_first(samples: Path) -> None:
    report = validate_document(str(samples / "invalid" / "unknown-input-format.json"))
    severities = [d.severity for d in report.diagnostics]
    assert severities == sorted(severities, key=lambda s: s != "error")


# -- exit codes, --strict, --format json -------------------------------------------------------------


def test_strict_turns_warnings_into_exit_1(run_cli: Any, samples: Path) -> None:
    path = samples / "docs-example-dataframe.json"
    result = run_cli("validate", str(path), "--strict")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        f"{path}: invalid: 1 served model(s), 0 error(s), 7 warning(s) (strict: warnings count as errors)"
    )
    code, report = validate_json(run_cli, path, "--strict")
    assert code == 1
    assert report["ok"] is False
    assert report["strict"] is True
    assert report["errors"] == 0
    assert report["warnings"] == 7


def test_strict_on_a_document_without_warnings_exits_0(run_cli: Any, samples: Path) -> None:
    result = run_cli("validate", str(samples / "openapi-3.0-nullable.json"), "--strict")
    assert result.returncode == 0, result.stdout


def test_json_report_shape(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "unknown-input-format.json"
    code, report = validate_json(run_cli, path)
    assert code == 1
    # Every command's JSON output starts with its shape's version (cli.common.echo_json).
    assert next(iter(report)) == "schema_version"
    assert set(report) == {
        "schema_version", "source", "title", "version", "ok", "strict", "errors", "warnings", "diagnostics"
    }  # fmt: skip
    assert report["source"] == str(path)
    assert (report["title"], report["version"]) == ("broken-endpoint", "1")
    assert (report["ok"], report["strict"], report["errors"], report["warnings"]) == (False, False, 1, 1)
    for diagnostic in report["diagnostics"]:
        assert set(diagnostic) == {"code", "severity", "pointer", "message"}
        assert "\n" not in diagnostic["message"]


def test_unreadable_document_exits_2_not_1(run_cli: Any, samples: Path) -> None:
    result = run_cli("validate", str(samples / "invalid" / "broken.json"), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""


def test_structure_messages_do_not_dump_the_document(docs: SimpleNamespace) -> None:
    document = docs.docs_example()
    document["openapi"] = "3.0.3"
    report = validate_document(document)
    structure = [d for d in report.diagnostics if d.code == "openapi-structure"]
    assert structure, "3.0 has no prefixItems/type lists: the structure check must object"
    for diagnostic in structure:
        assert "int_col" not in diagnostic.message
        assert len(diagnostic.message) <= 240


def test_validate_document_takes_a_parsed_document(docs: SimpleNamespace) -> None:
    report = schemakit.validate_document(docs.docs_example(), strict=True)
    assert report.schema.source == "<document>"
    assert not report.ok
    assert report.errors == report.diagnostics
