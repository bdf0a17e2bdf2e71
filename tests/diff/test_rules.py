"""Every rule, in both documents' orders: a widening read backwards is a narrowing.

Each case gives the old and the new document (built by `diff_docs` in the shape of real
documents) and the findings expected forwards (old -> new) and backwards (new -> old).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from diff_docs import DEFAULT_COLUMNS, col, diff, doc, model, obj, param, param_without_default, rules

from schemakit.diff import RULES

A, B, C = DEFAULT_COLUMNS
CHAT = (col("messages", "array<string>", required=True), col("temperature", "double", nullable=True))


def messages(roles: list[str]) -> Any:
    role = {"type": "string", "enum": roles}
    message = {"type": "object", "properties": {"role": role, "content": {"type": "string"}}}
    return col("messages", {"type": "array", "items": message}, required=True)


@dataclass
class Case:
    name: str
    old: dict[str, Any]
    new: dict[str, Any]
    forward: set[tuple[str, str]]
    backward: set[tuple[str, str]]
    pairs: dict[str, str] = field(default_factory=dict)


def m(**kwargs: Any) -> dict[str, Any]:
    """A one-model document."""
    return doc(model(**kwargs))


def cols(*columns: Any) -> dict[str, Any]:
    return m(columns=columns)


def split_only(*columns: Any) -> dict[str, Any]:
    return m(columns=columns, formats=("split",))


def records_only(*columns: Any) -> dict[str, Any]:
    return m(columns=columns, formats=("records",))


def body(fields: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return m(response_body=obj(fields, required))


def predictions(spec: Any) -> dict[str, Any]:
    return m(response=spec)


CASES = [
    # -- the endpoint --
    Case("info-version", doc(version="1"), doc(version="2"),
         {("info-version-changed", "info")}, {("info-version-changed", "info")}),
    Case("endpoint-renamed", doc(title="ads"), doc(title="ads-v2"),
         {("endpoint-renamed", "info")}, {("endpoint-renamed", "info")}),
    Case("server-url", doc(server="https://a/serving-endpoints/ads"), doc(server="https://b/serving-endpoints/ads"),
         {("server-url-changed", "info")}, {("server-url-changed", "info")}),
    # -- served models --
    Case("model-removed", doc(model("ads-model-1"), model("fraud")), doc(model("ads-model-1")),
         {("served-model-removed", "breaking")}, {("served-model-added", "info")}),
    Case("model-renamed-unpaired", doc(model("ads")), doc(model("ads-ranker")),
         {("served-model-removed", "breaking"), ("served-model-added", "info")},
         {("served-model-removed", "breaking"), ("served-model-added", "info")}),
    Case("model-version", doc(model("ads-model-1")), doc(model("ads-model-2")),
         {("served-model-version-changed", "info")}, {("served-model-version-changed", "info")}),
    Case("model-paired-by-flag", doc(model("ads")), doc(model("ads-ranker")),
         {("served-model-renamed", "info")}, {("served-model-renamed", "info")}, pairs={"ads": "ads-ranker"}),
    # -- input formats --
    Case("format-removed", m(formats=("split", "records")), m(formats=("split",)),
         {("format-removed", "breaking")}, {("format-added", "info")}),
    Case("format-layout", m(formats=("instances",)), m(formats=("instances-rows",)),
         {("format-layout-changed", "breaking")}, {("format-layout-changed", "breaking")}),
    # -- columns --
    Case("required-column-added", cols(A, B, C), cols(A, B, C, col("d", "string", required=True)),
         {("column-added-required", "breaking")},
         {("column-removed", "breaking"), ("column-removed", "warning")}),
    Case("optional-column-appended", cols(A, B, C), cols(A, B, C, col("d", "string")),
         {("column-added-optional", "info")},
         {("column-removed", "breaking"), ("column-removed", "warning")}),
    Case("optional-column-inserted", split_only(A, B, C), split_only(A, col("d", "string"), B, C),
         {("column-inserted", "breaking")}, {("column-removed", "breaking")}),
    Case("records-column-removed", records_only(A, B, C), records_only(A, B),
         {("column-removed", "warning")}, {("column-added-optional", "info")}),
    Case("split-reordered", split_only(A, B, C), split_only(A, C, B),
         {("split-columns-reordered", "breaking")}, {("split-columns-reordered", "breaking")}),
    Case("column-became-required", cols(A, B, C), cols(A, col("b", "double", required=True), C),
         {("column-became-required", "breaking")}, {("column-became-optional", "info")}),
    Case("instances-rows-column", m(formats=("instances-rows",), columns=(A, B)),
         m(formats=("instances-rows",), columns=(A,)),
         {("column-removed", "warning")}, {("column-added-optional", "info")}),
    # -- request types --
    Case("int32-to-int64", cols(col("a", "integer"), B, C), cols(col("a", "long"), B, C),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("float-to-double", cols(A, col("b", "float"), C), cols(A, col("b", "double"), C),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("int32-to-double", cols(col("a", "integer"), B, C), cols(col("a", "double"), B, C),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("long-to-double", cols(A, B, C), cols(col("a", "double", required=True), B, C),
         {("type-widened-lossy", "warning")}, {("type-narrowed", "breaking")}),
    Case("int32-to-float", cols(col("a", "integer"), B, C), cols(col("a", "float"), B, C),
         {("type-widened-lossy", "warning")}, {("type-narrowed", "breaking")}),
    Case("typed-to-any", cols(A, B, C), cols(A, B, col("c", "any")),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("double-to-string", cols(A, B, C), cols(A, col("b", "string"), C),
         {("type-changed", "breaking")}, {("type-changed", "breaking")}),
    Case("long-to-boolean", cols(A, B, C), cols(col("a", "boolean", required=True), B, C),
         {("type-changed", "breaking")}, {("type-changed", "breaking")}),
    Case("datetime-to-string", cols(A, B, col("c", "datetime")), cols(A, B, C),
         {("type-changed", "breaking")}, {("type-changed", "breaking")}),
    Case("nullable", cols(A, B, C), cols(A, col("b", "double", nullable=True), C),
         {("nullable-added", "info")}, {("nullable-removed", "breaking")}),
    Case("enum-value", cols(A, B, col("c", "string", enum=["x", "y"])), cols(A, B, col("c", "string", enum=["x", "y", "z"])),
         {("enum-value-added", "info")}, {("enum-value-removed", "breaking")}),
    Case("enum-restriction", cols(A, B, C), cols(A, B, col("c", "string", enum=["x"])),
         {("enum-added", "breaking")}, {("enum-removed", "info")}),
    Case("string-format", cols(A, B, C), cols(A, B, col("c", {"type": "string", "format": "uuid"})),
         {("string-format-changed", "warning")}, {("string-format-removed", "info")}),
    Case("array-items", cols(A, B, col("tags", "array<integer>")), cols(A, B, col("tags", "array<long>")),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("map-values", cols(A, B, col("meta", "map<long>")), cols(A, B, col("meta", "map<string>")),
         {("type-changed", "breaking")}, {("type-changed", "breaking")}),
    Case("object-field-required", cols(A, B, col("user", obj({"id": "long"}))),
         cols(A, B, col("user", obj({"id": "long", "tier": "string"}, ["tier"]))),
         {("field-added-required", "breaking")}, {("field-removed", "warning")}),
    Case("object-field-optional", cols(A, B, col("user", obj({"id": "long"}))),
         cols(A, B, col("user", obj({"id": "long", "tier": "string"}))),
         {("field-added-optional", "info")}, {("field-removed", "warning")}),
    Case("object-field-became-required", cols(A, B, col("user", obj({"id": "long"}))),
         cols(A, B, col("user", obj({"id": "long"}, ["id"]))),
         {("field-became-required", "breaking")}, {("field-became-optional", "info")}),
    Case("object-field-type", cols(A, B, col("user", obj({"id": "integer"}))),
         cols(A, B, col("user", obj({"id": "string"}))),
         {("type-changed", "breaking")}, {("type-changed", "breaking")}),
    Case("free-object-to-typed", cols(A, B, col("user", {"type": "object"})),
         cols(A, B, col("user", obj({"id": "long"}))),
         {("type-narrowed", "breaking")}, {("type-widened", "info")}),
    Case("tensor-dtype", m(formats=("instances",), tensor="float"), m(formats=("instances",), tensor="double"),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("tensor-dim-relaxed", m(formats=("inputs",), shape=(-1, 3)), m(formats=("inputs",), shape=(-1, -1)),
         {("shape-relaxed", "info")}, {("shape-changed", "breaking")}),
    Case("tensor-rank", m(formats=("inputs",), shape=(-1, 3)), m(formats=("inputs",), shape=(-1, 3, 2)),
         {("shape-changed", "breaking")}, {("shape-changed", "breaking")}),
    # -- object requests (chat, completions) --
    Case("chat-union-widened", m(object_fields=(*CHAT, col("stop", "string"))),
         m(object_fields=(*CHAT, col("stop", {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}))),
         {("type-widened", "info")}, {("type-narrowed", "breaking")}),
    Case("chat-field-removed", m(object_fields=(*CHAT, col("top_p", "double"))), m(object_fields=CHAT),
         {("column-removed", "warning")}, {("column-added-optional", "info")}),
    Case("chat-field-required", m(object_fields=CHAT), m(object_fields=(*CHAT, col("model", "string", required=True))),
         {("column-added-required", "breaking")}, {("column-removed", "warning")}),
    # -- request bounds (each narrowing read backwards is a widening) --
    Case("maximum-added", cols(A, B, col("c", "long")), cols(A, B, col("c", {"type": "integer", "maximum": 10})),
         {("bound-narrowed", "breaking")}, {("bound-widened", "info")}),
    Case("maximum-lowered", cols(A, B, col("c", {"type": "integer", "maximum": 100})),
         cols(A, B, col("c", {"type": "integer", "maximum": 10})),
         {("bound-narrowed", "breaking")}, {("bound-widened", "info")}),
    Case("minimum-raised", cols(A, B, col("c", {"type": "number", "minimum": 0})),
         cols(A, B, col("c", {"type": "number", "minimum": 0.5})),
         {("bound-narrowed", "breaking")}, {("bound-widened", "info")}),
    Case("max-length-shorter", cols(A, B, col("c", {"type": "string", "maxLength": 64})),
         cols(A, B, col("c", {"type": "string", "maxLength": 8})),
         {("bound-narrowed", "breaking")}, {("bound-widened", "info")}),
    Case("multiple-of-coarser", cols(A, B, col("c", {"type": "integer", "multipleOf": 2})),
         cols(A, B, col("c", {"type": "integer", "multipleOf": 4})),
         {("bound-narrowed", "breaking")}, {("bound-widened", "info")}),
    Case("pattern-added", cols(A, B, C), cols(A, B, col("c", {"type": "string", "pattern": "^[a-z]+$"})),
         {("pattern-added", "breaking")}, {("pattern-removed", "info")}),
    Case("pattern-changed", cols(A, B, col("c", {"type": "string", "pattern": "^[a-z]+$"})),
         cols(A, B, col("c", {"type": "string", "pattern": "^[a-z0-9]+$"})),
         {("pattern-changed", "breaking")}, {("pattern-changed", "breaking")}),
    Case("chat-streaming", m(object_fields=(*CHAT, col("stream", "boolean"))), m(object_fields=CHAT),
         {("streaming-removed", "breaking"), ("column-removed", "warning")},
         {("streaming-added", "info"), ("column-added-optional", "info")}),
    Case("chat-to-completions", m(object_fields=CHAT), m(object_fields=(col("prompt", "string", required=True),)),
         {("request-kind-changed", "breaking"), ("column-removed", "warning"), ("column-added-required", "breaking")},
         {("request-kind-changed", "breaking"), ("column-removed", "warning"), ("column-added-required", "breaking"),
          ("column-added-optional", "info")}),
    Case("chat-role-enum-narrowed", m(object_fields=(messages(["system", "user", "assistant"]),)),
         m(object_fields=(messages(["user", "assistant"]),)),
         {("enum-value-removed", "breaking")}, {("enum-value-added", "info")}),
    # -- params --
    Case("param-with-default", m(params=()), m(params=(param("top_k", "long", 5),)),
         {("param-added", "info")}, {("param-removed", "warning")}),
    Case("param-without-default", m(params=()), m(params=(param_without_default("top_k", "long"),)),
         {("param-added-without-default", "breaking")}, {("param-removed", "warning")}),
    Case("param-required", m(params=()), m(params=(param("top_k", "long", 5, required=True),)),
         {("param-added-required", "breaking")}, {("param-removed", "warning")}),
    Case("param-became-required", m(params=(param("k", "long", 5),)), m(params=(param("k", "long", 5, required=True),)),
         {("param-became-required", "breaking")}, {("param-became-optional", "info")}),
    Case("param-type", m(params=(param("k", "long", 5),)), m(params=(param("k", "string", "5"),)),
         {("type-changed", "breaking"), ("param-default-changed", "warning")},
         {("type-changed", "breaking"), ("param-default-changed", "warning")}),
    Case("param-long-to-double", m(params=(param("k", "long", 5),)), m(params=(param("k", "double", 5),)),
         {("type-widened-lossy", "warning")}, {("type-narrowed", "breaking")}),
    Case("param-default", m(params=(param("sentiment", "double", 0.5),)), m(params=(param("sentiment", "double", 0.7),)),
         {("param-default-changed", "warning")}, {("param-default-changed", "warning")}),
    Case("param-default-added", m(params=(param_without_default("k", "long"),)), m(params=(param("k", "long", 5),)),
         {("param-default-added", "info")}, {("param-default-removed", "warning")}),
    # -- responses --
    Case("response-described", m(response=None), m(response="array<double>"),
         {("response-schema-added", "info")}, {("response-schema-removed", "warning")}),
    Case("predictions-narrowed", predictions("array<double>"), predictions("array<long>"),
         {("response-type-changed", "breaking")}, {("response-type-changed", "breaking")}),
    Case("predictions-field", body({"predictions": "array<double>"}), body({"predictions": "array<double>", "scores": "array<double>"}),
         {("response-field-added", "info")}, {("response-field-removed", "breaking")}),
    Case("predictions-optional", body({"predictions": "array<double>"}, ("predictions",)), body({"predictions": "array<double>"}),
         {("response-field-became-optional", "warning")}, {("response-field-became-required", "info")}),
    Case("predictions-nullable", predictions("array<double>"), predictions({"type": "array", "items": {"type": ["number", "null"], "format": "double"}}),
         {("response-nullable-added", "breaking")}, {("response-nullable-removed", "info")}),
    Case("predictions-enum-value", predictions({"type": "array", "items": {"type": "string", "enum": ["cat", "dog"]}}),
         predictions({"type": "array", "items": {"type": "string", "enum": ["cat", "dog", "bird"]}}),
         {("response-enum-value-added", "warning")}, {("response-enum-value-removed", "info")}),
    Case("predictions-enum", predictions("array<string>"), predictions({"type": "array", "items": {"type": "string", "enum": ["cat"]}}),
         {("response-enum-added", "info")}, {("response-enum-removed", "warning")}),
    Case("predictions-shape", predictions({"type": "array", "items": {"type": "number"}, "x-shape": [-1, 3]}),
         predictions({"type": "array", "items": {"type": "number"}, "x-shape": [-1, 4]}),
         {("response-shape-changed", "breaking")}, {("response-shape-changed", "breaking")}),
    Case("predictions-string-format", predictions("array<string>"), predictions({"type": "array", "items": {"type": "string", "format": "uuid"}}),
         {("response-string-format-changed", "warning")}, {("response-string-format-changed", "warning")}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_forward(case: Case) -> None:
    assert rules(diff(case.old, case.new, model_pairs=case.pairs)) == case.forward


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_backward(case: Case) -> None:
    pairs = {new: old for old, new in case.pairs.items()}
    assert rules(diff(case.new, case.old, model_pairs=pairs)) == case.backward


def test_the_table_covers_every_rule() -> None:
    covered = {rule for case in CASES for rule, _ in (*case.forward, *case.backward)}
    assert covered == set(RULES), f"rules without a case: {sorted(set(RULES) - covered)}"


def test_severities_in_the_table_are_the_rules_severities() -> None:
    for case in CASES:
        for rule, severity in (*case.forward, *case.backward):
            expected = RULES[rule].severity
            # column-removed is the one rule whose severity depends on the format.
            assert severity == expected or (rule == "column-removed" and severity == "warning"), (case.name, rule)


def test_identical_documents_have_no_findings() -> None:
    for case in CASES:
        assert diff(case.old, case.old).findings == ()


TYPES = ["integer", "long", "float", "double", "string", "boolean", "binary", "datetime", "any"]
WIDENING = {"type-widened", "type-widened-lossy"}


def _type_rules(old_type: str, new_type: str) -> tuple[set[str], set[str]]:
    """Rules for a request column and for the predictions when only their type changes."""
    request = diff(cols(A, B, col("c", old_type)), cols(A, B, col("c", new_type)))
    response = diff(predictions(f"array<{old_type}>"), predictions(f"array<{new_type}>"))
    return {f.rule for f in request.findings}, {f.rule for f in response.findings}


@pytest.mark.parametrize("old_type", TYPES)
def test_type_lattice_is_consistent_in_both_directions(old_type: str) -> None:
    for new_type in TYPES:
        forward, forward_response = _type_rules(old_type, new_type)
        backward, backward_response = _type_rules(new_type, old_type)
        if old_type == new_type:
            assert forward == backward == forward_response == set()
            continue
        # Requests: one rule per change; a widening read backwards is a narrowing.
        assert len(forward) == 1, (old_type, new_type, forward)
        if forward & WIDENING:
            assert backward == {"type-narrowed"}, (old_type, new_type)
        if forward == {"type-changed"}:
            assert backward == {"type-changed"}, (old_type, new_type)
        # Responses: every change breaks old clients, whichever way it goes.
        assert forward_response == backward_response == {"response-type-changed"}, (old_type, new_type)


def test_the_widening_lattice() -> None:
    widened = {(o, n) for o in TYPES for n in TYPES if _type_rules(o, n)[0] == {"type-widened"}}
    lossy = {(o, n) for o in TYPES for n in TYPES if _type_rules(o, n)[0] == {"type-widened-lossy"}}
    assert widened == {
        ("integer", "long"),
        ("integer", "double"),
        ("float", "double"),
        *((t, "any") for t in TYPES if t != "any"),
    }
    assert lossy == {("long", "double"), ("integer", "float"), ("long", "float")}
