"""Differential tests: with the serving rules off, schemakit's verdict equals jsonschema's.

Hypothesis generates serving-endpoint documents of the kinds real ones contain
(columns of every logical type, nullable, required sets, enums, arrays, objects,
maps, params with defaults, a oneOf of formats), resolves them with the core, and
checks generated payloads, valid and mutated. Fixed seed (derandomize), so CI sees
the same cases every run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from schemakit import SchemakitError, load, resolve
from schemakit.check.validator import compile_validator
from schemakit.runtime.engine import SERVING_RULES, Engine, unsupported_keywords

ALL_RULES = tuple(SERVING_RULES)
SETTINGS = settings(
    derandomize=True,
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = ["int_col", "float_col", "string_col", "b", "when", "blob", "tags", "obj", "m", "x y"]

SCALARS: list[dict[str, Any]] = [
    {"type": "integer", "format": "int64"},
    {"type": "integer", "format": "int32"},
    {"type": "integer"},
    {"type": "number", "format": "double"},
    {"type": "number", "format": "float"},
    {"type": "string"},
    {"type": "boolean"},
    {"type": "string", "format": "binary"},
    {"type": "string", "format": "date-time"},
    {"type": "object", "format": "unknown"},
    {"type": "string", "enum": ["a", "b", "c"]},
    {"type": "integer", "enum": [1, 2, 3]},
    # bounds as `schemakit from-mlflow` writes them (float32, uint8) and a few more
    {"type": "number", "format": "float", "minimum": -3.4028234663852886e38, "maximum": 3.4028234663852886e38},
    {"type": "integer", "format": "int32", "minimum": 0, "maximum": 255},
    {"type": "number", "minimum": -1.5, "exclusiveMaximum": 2.5},
    {"type": "integer", "exclusiveMinimum": -1.5, "maximum": 2.5},
    {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
]


def column_schemas(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    scalar = st.sampled_from(SCALARS).map(dict)
    if depth == 0:
        base = scalar
    else:
        inner = column_schemas(depth - 1)
        base = st.one_of(
            scalar,
            scalar,
            inner.map(lambda t: {"type": "array", "items": t}),
            inner.map(lambda t: {"type": "array", "items": t, "minItems": 2, "maxItems": 2, "x-shape": [2]}),
            st.dictionaries(st.sampled_from(["p", "q", "r"]), inner, min_size=1, max_size=3).flatmap(
                lambda props: st.lists(st.sampled_from(sorted(props)), unique=True).map(
                    lambda req: {"type": "object", "properties": props, **({"required": req} if req else {})}
                )
            ),
            inner.map(lambda t: {"type": "object", "additionalProperties": t}),
        )

    def nullable(schema: dict[str, Any], how: int) -> dict[str, Any]:
        if how == 1:
            return {**schema, "nullable": True}
        if how == 2 and isinstance(schema.get("type"), str) and schema.get("format") != "unknown":
            out = {**schema, "type": [schema["type"], "null"]}
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
            return out
        return schema

    return st.tuples(base, st.sampled_from([0, 0, 1, 2])).map(lambda pair: nullable(*pair))


PARAM_SCHEMAS = [
    ({"type": "number", "format": "double"}, st.sampled_from([0.5, "0.5", 1])),
    ({"type": "integer", "format": "int64"}, st.sampled_from([1, "7"])),
    ({"type": "string"}, st.sampled_from(["x"])),
    ({"type": "boolean"}, st.sampled_from([True])),
    ({"type": "array", "items": {"type": "string"}}, st.sampled_from([["a"]])),
]


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    types = {name: draw(column_schemas()) for name in names}
    required = draw(st.lists(st.sampled_from(names), unique=True))
    params: dict[str, Any] = {}
    for index in draw(st.lists(st.integers(0, len(PARAM_SCHEMAS) - 1), unique=True, max_size=3)):
        schema, defaults = PARAM_SCHEMAS[index]
        params[f"p{index}"] = {**schema, "default": draw(defaults)} if draw(st.booleans()) else dict(schema)
    params_schema = {"type": "object", "properties": params} if params else None
    # The split object as `schemakit from-mlflow` writes it: columns and data required, an
    # index, nothing else; and records with at least one row.
    strict_split = draw(st.booleans())
    split_extra: dict[str, Any] = (
        {"required": ["columns", "data"], "additionalProperties": False} if strict_split else {}
    )
    split_index = {"index": {"type": "array"}} if strict_split or draw(st.booleans()) else {}
    records_extra = {"minItems": 1} if draw(st.booleans()) else {}
    split = {
        "type": "object",
        "properties": {
            "dataframe_split": {
                "type": "object",
                "properties": {
                    "columns": {
                        "type": "array",
                        "description": f"required fields: {', '.join(required)}",
                        "items": {"type": "string", "enum": names},
                    },
                    "data": {"type": "array", "items": {"type": "array", "prefixItems": [types[n] for n in names]}},
                    **split_index,
                },
                **split_extra,
            },
            **({"params": params_schema} if params_schema else {}),
        },
    }
    records = {
        "type": "object",
        "properties": {
            "dataframe_records": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {n: types[n] for n in names},
                    **({"required": required} if required and draw(st.booleans()) else {}),
                },
                **records_extra,
            },
            **({"params": params_schema} if params_schema else {}),
        },
    }
    branches = draw(st.sampled_from([[split, records], [split], [records], [records, split]]))
    return {
        "openapi": draw(st.sampled_from(["3.1.0", "3.0.3"])),
        "info": {"title": "generated", "version": "1"},
        "servers": [{"url": "https://example.com/serving-endpoints/generated"}],
        "paths": {
            "/served-models/m-1/invocations": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"oneOf": branches}}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


ODD_VALUES = st.sampled_from(
    [None, True, False, 0, 1, -1, 1.0, 3.5, -0.0, 2**31, 2**63, -(2**63) - 1, 2**70, "", "7", "abc",
     "2024-01-02T03:04:05Z", "2024-01-02T03:04:05", "2024-01-02", "aGVsbG8=", "not base64!", [], [1], {},
     {"p": 1}, 1e300, 3.4028234663852886e38, -3.4028234663852886e38, 3.5e38, 255, 256, -1.5, 2.5, 2, 1]
)  # fmt: skip


def values_for(schema: Any, draw: st.DrawFn, depth: int = 0) -> Any:
    """A value that usually fits `schema` (normalized), sometimes not."""
    if depth > 4 or draw(st.integers(0, 9)) == 0:
        return draw(ODD_VALUES)
    if not isinstance(schema, dict):
        return draw(ODD_VALUES)
    for keyword in ("anyOf", "oneOf"):
        if isinstance(schema.get(keyword), list) and "type" not in schema:
            return values_for(draw(st.sampled_from(schema[keyword])), draw, depth)
    if isinstance(schema.get("enum"), list):
        return draw(st.sampled_from(schema["enum"]))
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    kind = draw(st.sampled_from(kinds))
    fmt = schema.get("format")
    if kind == "integer":
        return draw(st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([1.0, 2**40, -(2**63)])))
    if kind == "number":
        return draw(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.integers(-5, 5)))
    if kind == "string":
        if fmt == "binary":
            return draw(st.sampled_from(["aGVsbG8=", "", "!!"]))
        if fmt == "date-time":
            return draw(st.sampled_from(["2024-01-02T03:04:05Z", "2024-02-30", "2024-01-02 03:04"]))
        return draw(st.text(max_size=5))
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "null":
        return None
    if kind == "array":
        return [values_for(schema.get("items", {}), draw, depth + 1) for _ in range(draw(st.integers(0, 3)))]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        out = {}
        for name, sub in props.items():
            if draw(st.integers(0, 4)):
                out[name] = values_for(sub, draw, depth + 1)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name in draw(st.lists(st.sampled_from(["k1", "k2"]), unique=True)):
                out[name] = values_for(extra, draw, depth + 1)
        return out
    return draw(st.one_of(ODD_VALUES, st.integers(), st.text(max_size=3)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Any, Any]:
    schema = resolve(draw(documents()), source="generated")
    model = schema.models[0]
    payload: dict[str, Any] = {}
    fmt = draw(st.sampled_from(model.formats))
    branch = fmt.schema["properties"]
    if fmt.kind.value == "dataframe_split":
        columns = [c.name for c in fmt.columns]
        shape = draw(st.sampled_from(["full", "full", "none", "reordered", "short"]))
        rows_schema = branch["dataframe_split"]["properties"]["data"]["items"]["prefixItems"]
        rows = [[values_for(rows_schema[i], draw) for i in range(len(columns))] for _ in range(draw(st.integers(0, 3)))]
        split: dict[str, Any] = {"data": rows}
        if shape == "full":
            split["columns"] = columns
        elif shape == "reordered":
            split["columns"] = list(reversed(columns))
        elif shape == "short":
            split["columns"] = [*columns[:-1], "nope"]
            split["data"] = [row[:-1] for row in rows]
        index = draw(st.integers(0, 5))
        if index == 0:
            split["index"] = list(range(len(rows)))
        elif index == 1:
            split["index"] = draw(ODD_VALUES)
        payload["dataframe_split"] = split
    else:
        item = branch["dataframe_records"]["items"]
        payload["dataframe_records"] = [values_for(item, draw) for _ in range(draw(st.integers(0, 3)))]
    if "params" in branch and draw(st.booleans()):
        payload["params"] = values_for(branch["params"], draw)
    mutation = draw(st.integers(0, 9))
    if mutation == 0:
        payload["dataframe_records" if "dataframe_split" in payload else "dataframe_split"] = draw(ODD_VALUES)
    elif mutation == 1:
        payload = draw(ODD_VALUES)
    elif mutation == 2:
        payload["extra"] = draw(ODD_VALUES)
    return model, payload


@SETTINGS
@given(cases())
def test_verdict_equals_jsonschema_with_rules_off(case: tuple[Any, Any]) -> None:
    model, payload = case
    assert unsupported_keywords(model.request_schema) == []
    expected = Draft202012Validator(model.request_schema).is_valid(payload)
    report = compile_validator(model, disable=ALL_RULES).validate(payload)
    assert report.ok is expected, (model.request_schema, payload, report.to_text())
    assert (report.total_errors == 0) is expected


@settings(SETTINGS, max_examples=400)
@given(cases())
def test_fast_path_agrees_with_exact_path(case: tuple[Any, Any]) -> None:
    """Whatever the typed decode accepts, the exact path accepts too, with the same (empty) report."""
    model, payload = case
    validator = compile_validator(model)
    try:
        data = orjson.dumps(payload)
    except TypeError:  # integers beyond 64 bits: orjson cannot write them
        return
    from_bytes = validator.validate_json(data)
    exact = validator.validate(orjson.loads(data) if b"e+" not in data else payload)
    assert from_bytes.ok is exact.ok, (payload, from_bytes.to_text(), exact.to_text())
    assert from_bytes.counts == exact.counts
    assert from_bytes.total_warnings == exact.total_warnings


# -- generic JSON Schema keywords: the interpreter against jsonschema ----------------------

LEAF_SCHEMAS = st.one_of(
    st.sampled_from(
        [True, False, {}, {"type": "integer"}, {"type": "number"}, {"type": "string"}, {"type": "null"},
         {"type": ["integer", "string"]}, {"type": "boolean"}, {"minimum": 2}, {"maximum": 2.5},
         {"exclusiveMinimum": 0}, {"exclusiveMaximum": 1}, {"multipleOf": 2}, {"multipleOf": 0.5},
         {"minLength": 2}, {"maxLength": 1}, {"pattern": "^a"}, {"enum": [1, "a", None, [1], {"a": 1}]},
         {"const": 1}, {"const": [1, True]}, {"minItems": 1}, {"maxItems": 1}, {"uniqueItems": True},
         {"minProperties": 1}, {"maxProperties": 1}, {"required": ["a"]}, {"dependentRequired": {"a": ["b"]}},
         {"format": "date-time"}]
    )
)  # fmt: skip


def generic_schemas() -> st.SearchStrategy[Any]:
    return st.recursive(
        LEAF_SCHEMAS,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda s: {"anyOf": s}),
            st.lists(inner, min_size=1, max_size=3).map(lambda s: {"oneOf": s}),
            st.lists(inner, min_size=1, max_size=3).map(lambda s: {"allOf": s}),
            inner.map(lambda s: {"not": s}),
            inner.map(lambda s: {"items": s}),
            st.lists(inner, min_size=1, max_size=3).map(lambda s: {"prefixItems": s}),
            st.tuples(st.lists(inner, min_size=1, max_size=2), inner).map(
                lambda p: {"prefixItems": p[0], "items": p[1]}
            ),
            inner.map(lambda s: {"contains": s}),
            inner.map(lambda s: {"contains": s, "minContains": 2, "maxContains": 3}),
            st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2).map(lambda p: {"properties": p}),
            inner.map(lambda s: {"patternProperties": {"^a": s}}),
            st.tuples(st.dictionaries(st.sampled_from(["a"]), inner, max_size=1), inner).map(
                lambda p: {"properties": p[0], "additionalProperties": p[1]}
            ),
            inner.map(lambda s: {"propertyNames": s}),
            inner.map(lambda s: {"dependentSchemas": {"a": s}}),
            st.tuples(inner, inner, inner).map(lambda p: {"if": p[0], "then": p[1], "else": p[2]}),
            st.tuples(inner, inner).map(
                lambda p: {**p[0], **p[1]} if isinstance(p[0], dict) and isinstance(p[1], dict) else p[0]
            ),
        ),
        max_leaves=6,
    )


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from([1.0, 0.5, 2.5, -0.0, 2**64, 1e300]),
        st.text(alphabet="ab", max_size=3),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["a", "b", "c", "ab"]), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(SETTINGS, max_examples=1200)
@given(generic_schemas(), JSON_VALUES)
def test_generic_keywords_equal_jsonschema(schema: Any, instance: Any) -> None:
    plan = {"model": "generic", "request_schema": schema, "formats": []}
    expected = Draft202012Validator(schema).is_valid(instance)
    report = Engine(plan, disable=ALL_RULES).validate(instance)
    assert report.ok is expected, (schema, instance, report.to_text())


def test_one_point_zero_is_an_integer_and_strings_are_not_numbers() -> None:
    plan = {"model": "m", "request_schema": {"type": "integer"}, "formats": []}
    engine = Engine(plan, disable=ALL_RULES)
    assert engine.validate(1.0).ok
    assert not engine.validate("7").ok
    assert not engine.validate(True).ok
    assert not engine.validate(math.nan).ok


SAMPLE_DOCS = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "samples").iterdir()
    if p.suffix in (".json", ".yaml") and p.name != "endpoint-details.json"
)


def sample_models() -> list[Any]:
    models = []
    for path in SAMPLE_DOCS:
        try:
            schema = load(str(path))
        except SchemakitError:
            continue
        models.extend(schema.models)
    return models


SAMPLE_MODELS = sample_models()


@st.composite
def sample_cases(draw: st.DrawFn) -> tuple[Any, Any]:
    model = draw(st.sampled_from(SAMPLE_MODELS))
    fmt = draw(st.sampled_from(model.formats))
    payload = values_for(fmt.schema, draw)
    if isinstance(payload, dict) and draw(st.integers(0, 4)) == 0:
        payload["dataframe_records"] = draw(ODD_VALUES)
    return model, payload


@settings(SETTINGS, max_examples=600)
@given(sample_cases())
def test_sample_documents_agree_with_jsonschema(case: tuple[Any, Any]) -> None:
    """Every shipped sample model (tensors, columnar inputs, chat, refs, 3.0 nullable) against jsonschema."""
    model, payload = case
    expected = Draft202012Validator(model.request_schema).is_valid(payload)
    report = compile_validator(model, disable=ALL_RULES).validate(payload)
    assert report.ok is expected, (model.name, payload, report.to_text())
    with_rules = compile_validator(model)
    data = orjson.dumps(payload) if _fits_orjson(payload) else None
    if data is not None:
        assert with_rules.validate_json(data).ok is with_rules.validate(orjson.loads(data)).ok


def _fits_orjson(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True
