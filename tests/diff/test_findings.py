"""Where findings point, what they say, how served models pair, and what is not a change."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from diff_docs import DEFAULT_COLUMNS, col, diff, doc, model, param, resolve, rules

import schemakit
from schemakit._exceptions import UnknownModelError
from schemakit.diff import Finding, FindingLocation, diff_schemas

ROOT = Path(__file__).resolve().parents[2]
A, B, C = DEFAULT_COLUMNS


def only(findings: tuple[Finding, ...], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


# -- locations and messages --------------------------------------------------------------


def test_column_type_change_names_format_column_and_both_types() -> None:
    report = diff(doc(model()), doc(model(columns=(A, col("b", "string"), C))))
    found = only(report.findings, "type-changed")
    assert [f.location.path for f in found] == [
        "request/dataframe_split/columns/b",
        "request/dataframe_records/columns/b",
    ]
    first = found[0]
    assert first.model == "ads-model-1"
    assert first.location == FindingLocation("request", format="dataframe_split", column="b")
    assert (first.old, first.new) == ("double", "string")
    assert "double" in first.message
    assert "string" in first.message
    assert "\n" not in first.message


def test_split_column_removed_is_breaking_records_column_removed_is_a_warning() -> None:
    report = diff(doc(model()), doc(model(columns=(A, C))))
    severities = {f.location.format: f.severity for f in only(report.findings, "column-removed")}
    assert severities == {"dataframe_split": "breaking", "dataframe_records": "warning"}
    # c moved from position 2 to 1, but c after a is still the same relative order: no reorder finding
    assert not only(report.findings, "split-columns-reordered")


def test_params_shared_by_every_format_are_reported_once() -> None:
    report = diff(doc(model()), doc(model(params=(param("sentiment", "double", 0.7),))))
    [finding] = report.findings
    assert finding.rule == "param-default-changed"
    assert finding.location.path == "request/params/sentiment"
    assert (finding.old, finding.new) == (0.5, 0.7)
    assert "0.5" in finding.message
    assert "0.7" in finding.message


def test_nested_paths_for_fields_items_and_response() -> None:
    old = doc(model(columns=(A, col("tags", "array<integer>")), response="array<double>"))
    new = doc(model(columns=(A, col("tags", "array<string>")), response="array<long>"))
    paths = {(f.rule, f.location.path) for f in diff(old, new).findings}
    assert ("type-changed", "request/dataframe_split/columns/tags[]") in paths
    assert ("response-type-changed", "response/predictions[]") in paths


def test_a_type_change_with_a_nullability_change_reports_both() -> None:
    old = doc(model(columns=(A, col("b", "double", nullable=True), C)))
    new = doc(model(columns=(A, col("b", "long"), C)))
    assert rules(diff(old, new)) == {("type-narrowed", "breaking"), ("nullable-removed", "breaking")}


def test_findings_are_grouped_by_model_most_severe_first() -> None:
    old = doc(model("ads-model-1"), model("fraud-1"), version="1")
    new = doc(
        model("ads-model-1", columns=(A, B, C, col("d", "string")), params=()),
        model("fraud-1", columns=(A, col("b", "string"), C)),
        version="2",
    )
    findings = diff(old, new).findings
    assert findings[0].model == ""  # the endpoint first
    models = [f.model for f in findings[1:]]
    assert models == sorted(models, key=["ads-model-1", "fraud-1"].index)
    ranks = {"breaking": 0, "warning": 1, "info": 2}
    for name in ("ads-model-1", "fraud-1"):
        severities = [ranks[f.severity] for f in findings if f.model == name]
        assert severities == sorted(severities)


# -- pairing served models ----------------------------------------------------------------


def test_a_new_version_is_one_version_finding_plus_the_changes_inside() -> None:
    old = doc(model("vanilla_simple_model-2"))
    new = doc(model("vanilla_simple_model-3", columns=(A, B, C, col("d", "string", required=True))))
    report = diff(old, new)
    assert rules(report) == {("served-model-version-changed", "info"), ("column-added-required", "breaking")}
    for finding in report.findings:
        assert (finding.model, finding.old_model) == ("vanilla_simple_model-3", "vanilla_simple_model-2")


def test_exact_names_pair_before_version_suffixes() -> None:
    # A/B traffic: ads-2 stays, ads-1 is replaced by ads-3.
    old = doc(model("ads-1"), model("ads-2"))
    new = doc(model("ads-2"), model("ads-3"))
    report = diff(old, new)
    [version] = only(report.findings, "served-model-version-changed")
    assert (version.old_model, version.model) == ("ads-1", "ads-3")
    assert not only(report.findings, "served-model-removed")


def test_ambiguous_version_pairs_are_not_guessed() -> None:
    old = doc(model("ads-1"), model("ads-2"))
    new = doc(model("ads-3"))
    assert rules(diff(old, new)) == {("served-model-removed", "breaking"), ("served-model-added", "info")}


def test_model_pairs_pair_renamed_models_and_compare_them() -> None:
    old = doc(model("ads"))
    new = doc(model("ads-ranker", columns=(A, B)))
    report = diff(old, new, model_pairs={"ads": "ads-ranker"})
    assert ("served-model-renamed", "info") in rules(report)
    assert ("column-removed", "breaking") in rules(report)
    assert not only(report.findings, "served-model-removed")


@pytest.mark.parametrize(
    ("pairs", "message"),
    [({"nope": "ads"}, "old schema has no served model 'nope'"), ({"ads": "nope"}, "new schema has no served model")],
)
def test_model_pairs_naming_unknown_models_raise(pairs: dict[str, str], message: str) -> None:
    with pytest.raises(UnknownModelError, match=message):
        diff(doc(model("ads")), doc(model("ads")), model_pairs=pairs)


def test_removed_model_message_names_its_path() -> None:
    report = diff(doc(model("ads-model-1"), model("fraud")), doc(model("ads-model-1")))
    [removed] = report.findings
    assert removed.model == "fraud"
    assert "/served-models/fraud/invocations" in removed.message


# -- what is not a change ------------------------------------------------------------------


def _request(document: dict[str, Any]) -> dict[str, Any]:
    operation = next(iter(document["paths"].values()))["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def _into_components(document: dict[str, Any]) -> dict[str, Any]:
    """Move every column, param and response schema into components and point at it with $ref."""
    moved = copy.deepcopy(document)
    schemas: dict[str, Any] = {}

    def ref(name: str, schema: Any) -> dict[str, str]:
        schemas[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    for index, branch in enumerate(_request(moved)["oneOf"]):
        props = branch["properties"]
        if "dataframe_split" in props:
            row = props["dataframe_split"]["properties"]["data"]["items"]
            row["prefixItems"] = [ref(f"split{index}_{i}", s) for i, s in enumerate(row["prefixItems"])]
        if "dataframe_records" in props:
            item = props["dataframe_records"]["items"]
            item["properties"] = {k: ref(f"rec_{k}", v) for k, v in item["properties"].items()}
            props["dataframe_records"]["items"] = ref("Record", item)
        if "params" in props:
            props["params"] = ref(f"Params{index}", props["params"])
        _request(moved)["oneOf"][index] = ref(f"Branch{index}", branch)
    operation = next(iter(moved["paths"].values()))["post"]
    media = operation["responses"]["200"]["content"]["application/json"]
    media["schema"] = ref("Response", media["schema"])
    moved["components"] = {"schemas": schemas}
    return moved


def _real() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "samples" / "docs-example-dataframe.json").read_text())
    return data


def test_reordering_oneof_branches_is_not_a_change() -> None:
    original = _real()
    reordered = copy.deepcopy(original)
    _request(reordered)["oneOf"].reverse()
    assert diff(original, reordered).findings == ()


def test_moving_schemas_into_components_is_not_a_change() -> None:
    original = doc(model(columns=(A, col("b", "double", nullable=True), col("tags", "array<string>"))))
    moved = _into_components(original)
    assert "$ref" in json.dumps(moved)
    assert diff(original, moved).findings == ()
    assert diff(_real(), _into_components(_real())).findings == ()


def test_reordering_records_properties_enum_values_and_keys_is_not_a_change() -> None:
    old = doc(model(columns=(A, B, col("c", "string", enum=["x", "y"])), formats=("records",)))
    new = doc(model(columns=(col("c", "string", enum=["y", "x"]), B, A), formats=("records",)))
    assert diff(old, new).findings == ()


def test_spellings_of_the_same_schema_are_not_a_change() -> None:
    # `nullable: true` (3.0 spelling) and a null type; "0.5" and 0.5 as a default.
    old = doc(model())
    new = copy.deepcopy(old)
    for branch in _request(new)["oneOf"]:
        branch["properties"]["params"]["properties"]["sentiment"]["default"] = 0.5
    assert diff(old, new).findings == ()
    nullable_list = doc(model(columns=(A, col("b", "double", nullable=True), C)))
    nullable_keyword = doc(model(columns=(A, col("b", {"type": "number", "format": "double", "nullable": True}), C)))
    assert diff(nullable_list, nullable_keyword).findings == ()


def test_the_real_documents_compared_with_themselves(samples: Path) -> None:
    for path in sorted(samples.glob("*.json")):
        document = json.loads(path.read_text())
        if "openapi" not in document:
            continue
        schema = schemakit.load(str(path))
        assert diff_schemas(schema, schema).findings == (), path.name


def test_chat_sample_response_change_is_breaking(samples: Path) -> None:
    document = json.loads((samples / "foundation-model-chat.json").read_text())
    changed = copy.deepcopy(document)
    operation = next(iter(changed["paths"].values()))["post"]
    usage = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["usage"]
    del usage["properties"]["total_tokens"]
    report = diff_schemas(resolve(document), resolve(changed))
    [finding] = report.findings
    assert (finding.rule, finding.severity) == ("response-field-removed", "breaking")
    assert finding.location.path == "response/usage.total_tokens"


def test_tensor_dtype_and_shape_changes_are_both_reported() -> None:
    old = doc(model(formats=("instances",), tensor="float", shape=(-1, 3)))
    new = doc(model(formats=("instances",), tensor="double", shape=(-1, 4)))
    report = diff(old, new)
    assert rules(report) == {("type-widened", "info"), ("shape-changed", "breaking")}
    assert {f.location.path for f in report.findings} == {"request/instances/tensor"}
    shape = next(f for f in report.findings if f.rule == "shape-changed")
    assert (shape.old, shape.new) == ("(-1, 3)", "(-1, 4)")


def test_response_unions_with_look_alike_variants_do_not_crash() -> None:
    two_strings = {"oneOf": [{"type": "string"}, {"type": "string", "format": "uuid"}]}
    one_string = {"oneOf": [{"type": "string"}, {"type": "string"}, {"type": "string", "format": "uuid"}]}
    old = doc(model(response={"type": "array", "items": two_strings}))
    new = doc(model(response={"type": "array", "items": one_string}))
    assert rules(diff(old, new)) == {("response-type-changed", "breaking")}


def test_removing_the_last_split_column_says_rows_carry_an_extra_value() -> None:
    report = diff(doc(model(formats=("split",))), doc(model(columns=(A, B), formats=("split",))))
    [finding] = report.findings
    assert (finding.rule, finding.severity) == ("column-removed", "breaking")
    assert "old rows carry a value" in finding.message


def test_public_api_is_exported() -> None:
    for name in (
        "DIFF_RULES",
        "DiffReport",
        "Finding",
        "FindingLocation",
        "IgnoreEntry",
        "IgnoredFinding",
        "apply_ignores",
        "diff_schemas",
        "load_ignore_file",
        "render_diff",
    ):
        assert name in schemakit.__all__
        assert getattr(schemakit, name) is not None
    old = schemakit.load(str(ROOT / "tests" / "diff" / "data" / "ads-v1.json"))
    new = schemakit.load(str(ROOT / "tests" / "diff" / "data" / "ads-v2.json"))
    report = schemakit.diff_schemas(old, new)
    assert report.fails("breaking")
    report = schemakit.apply_ignores(
        report, schemakit.load_ignore_file(ROOT / "tests" / "diff" / "data" / "ads-ignore.yaml")
    )
    assert not report.fails("breaking")
    assert report.fails("warning")
