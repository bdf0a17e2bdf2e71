"""The resolved model: logical types, columns, required sets, params, tensors, object requests, responses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import schemakit
from schemakit import (
    Column,
    DataType,
    Diagnostic,
    EndpointSchema,
    FormatKind,
    InputFormat,
    Kind,
    Param,
    ServedModel,
    UnknownModelError,
)


@pytest.fixture(scope="module")
def all_types() -> ServedModel:
    [model] = schemakit.load(str(Path(__file__).parents[2] / "samples" / "all-types.json")).models
    return model


def column_type(model: ServedModel, fmt: str, name: str) -> DataType:
    found = model.format(fmt)
    assert found is not None
    column = found.column(name)
    assert column is not None, name
    return column.type


# -- logical types ------------------------------------------------------------------------------------

SCALARS = [
    ("flag", Kind.BOOLEAN, None),
    ("small_int", Kind.INTEGER, "int32"),
    ("big_int", Kind.LONG, "int64"),
    ("ratio", Kind.FLOAT, "float"),
    ("score", Kind.DOUBLE, "double"),
    ("label", Kind.STRING, None),
    ("blob", Kind.BINARY, "binary"),
    ("created_at", Kind.DATETIME, "date-time"),
]


@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_records"])
@pytest.mark.parametrize(("name", "kind", "format_"), SCALARS)
def test_scalar_types(all_types: ServedModel, fmt: str, name: str, kind: Kind, format_: str | None) -> None:
    t = column_type(all_types, fmt, name)
    assert t.kind is kind
    assert t.format == format_
    assert t.nullable is False
    assert t.display() == kind.value
    assert t.to_json() == {"type": kind.value}


def test_integer_and_number_predicates(all_types: ServedModel) -> None:
    assert column_type(all_types, "dataframe_records", "small_int").is_integer
    assert column_type(all_types, "dataframe_records", "big_int").is_integer
    assert column_type(all_types, "dataframe_records", "ratio").is_number
    assert not column_type(all_types, "dataframe_records", "ratio").is_integer
    assert not column_type(all_types, "dataframe_records", "label").is_number


def test_enum(all_types: ServedModel) -> None:
    t = column_type(all_types, "dataframe_split", "category")
    assert t.kind is Kind.STRING
    assert t.enum == ("news", "sports", "weather")
    assert t.to_json() == {"type": "string", "enum": ["news", "sports", "weather"]}


def test_array_of_t(all_types: ServedModel) -> None:
    tags = column_type(all_types, "dataframe_records", "tags")
    assert tags.kind is Kind.ARRAY
    assert tags.items == DataType(Kind.STRING)
    matrix = column_type(all_types, "dataframe_records", "matrix")
    assert matrix.items is not None
    assert matrix.items.kind is Kind.ARRAY
    assert matrix.items.items is not None
    assert matrix.items.items.kind is Kind.DOUBLE
    assert matrix.display() == "array<array<double>>"
    assert matrix.to_json() == {"type": "array", "items": "array<double>"}


def test_object_with_fields(all_types: ServedModel) -> None:
    location = column_type(all_types, "dataframe_records", "location")
    assert location.kind is Kind.OBJECT
    assert [(f.name, f.type.kind, f.required) for f in location.fields] == [
        ("lat", Kind.DOUBLE, True),
        ("lon", Kind.DOUBLE, True),
        ("name", Kind.STRING, False),
    ]
    assert location.field("lon") is location.fields[1]
    assert location.field("nope") is None
    assert location.display() == "object<lat: double, lon: double, name: string>"
    assert location.to_json()["fields"][2] == {"name": "name", "type": "string", "required": False, "nullable": False}


def test_map_of_t(all_types: ServedModel) -> None:
    counts = column_type(all_types, "dataframe_records", "counts")
    assert counts.kind is Kind.MAP
    assert counts.items is not None
    assert counts.items.kind is Kind.LONG
    assert counts.display() == "map<long>"
    assert counts.to_json() == {"type": "map", "items": "long"}


@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_records"])
def test_format_unknown_is_any(all_types: ServedModel, fmt: str) -> None:
    extra = column_type(all_types, fmt, "extra")
    assert extra.kind is Kind.ANY
    assert extra.format == "unknown"
    # The normalized schema admits any value: `type: object` is gone.
    assert "type" not in extra.schema
    assert Draft202012Validator(dict(extra.schema)).is_valid([1, "two"])


def test_nullable_columns(all_types: ServedModel) -> None:
    nickname = column_type(all_types, "dataframe_records", "nickname")
    assert (nickname.kind, nickname.nullable) == (Kind.STRING, True)
    assert nickname.display() == "string?"
    assert nickname.to_json() == {"type": "string", "nullable": True}
    rating = column_type(all_types, "dataframe_split", "rating")
    assert (rating.kind, rating.nullable, rating.format) == (Kind.LONG, True, "int64")


def test_required_and_optional_columns(all_types: ServedModel) -> None:
    required = {"flag", "small_int", "big_int", "ratio", "score", "label", "created_at", "rating"}
    for fmt in all_types.formats:
        assert fmt.required_columns == required
    records = all_types.format("dataframe_records")
    assert records is not None
    rating = records.column("rating")
    nickname = records.column("nickname")
    assert rating is not None
    assert rating.required
    assert rating.type.nullable
    assert nickname is not None
    assert not nickname.required
    assert nickname.type.nullable


def test_columns_in_document_order_with_split_positions(all_types: ServedModel) -> None:
    split = all_types.format(FormatKind.DATAFRAME_SPLIT)
    assert split is not None
    names = [c.name for c in split.columns]
    assert names[:6] == ["flag", "small_int", "big_int", "ratio", "score", "label"]
    assert [c.position for c in split.columns] == list(range(16))
    assert split.named_columns
    records = all_types.format(FormatKind.DATAFRAME_RECORDS)
    assert records is not None
    assert [c.name for c in records.columns] == names
    assert all(c.position is None for c in records.columns)
    assert [c.name for c in all_types.columns] == names


def test_params_types_defaults_and_shapes(all_types: ServedModel) -> None:
    params = {p.name: p for p in all_types.params}
    assert list(params) == ["temperature", "max_items", "seed", "verbose", "mode", "stop_words", "cutoff"]
    assert params["temperature"] == Param("temperature", DataType(Kind.DOUBLE, format="double"), 0.7, True)
    assert (params["max_items"].type.kind, params["max_items"].default) == (Kind.LONG, 10)
    assert (params["seed"].type.kind, params["seed"].has_default, params["seed"].default) == (Kind.INTEGER, False, None)
    assert (params["verbose"].type.kind, params["verbose"].default) == (Kind.BOOLEAN, False)
    assert params["mode"].type.enum == ("fast", "exact")
    assert params["mode"].default == "fast"
    stop_words = params["stop_words"]
    assert stop_words.type.kind is Kind.ARRAY
    assert stop_words.type.items == DataType(Kind.STRING)
    assert stop_words.default == ["the", "a"]
    assert stop_words.shape == (-1,)
    assert params["temperature"].shape is None
    assert params["cutoff"].type.kind is Kind.DATETIME
    assert stop_words.to_json() == {
        "name": "stop_words",
        "type": "array<string>",
        "default": ["the", "a"],
        "shape": [-1],
    }
    assert params["seed"].to_json() == {"name": "seed", "type": "integer"}
    # Each format carries its own params; the model's are the union.
    for fmt in all_types.formats:
        assert fmt.param("verbose") == params["verbose"]
        assert fmt.param("nope") is None


def test_response_of_objects(all_types: ServedModel) -> None:
    response = all_types.response
    assert response is not None
    assert response.predictions is not None
    assert response.result is response.predictions
    assert response.result.display() == "array<object<label: string, probability: double>>"
    assert response.body.kind is Kind.OBJECT
    assert response.body.field("predictions") is not None


# -- the docs example: defaults, required sets, response ------------------------------------------


def test_docs_example_model(docs: SimpleNamespace) -> None:
    schema = schemakit.load(str(docs.docs_example_path))
    assert (schema.title, schema.version, schema.openapi) == ("example-endpoint", "2", "3.1.0")
    assert schema.server == "https://example.databricks.com/serving-endpoints/example-endpoint"
    [model] = schema.models
    assert model.name == "vanilla_simple_model-2"
    assert model.pointer == "/paths/~1served-models~1vanilla_simple_model-2~1invocations"
    split, records = model.formats
    assert (split.kind, records.kind) == (FormatKind.DATAFRAME_SPLIT, FormatKind.DATAFRAME_RECORDS)
    assert (split.key, records.key) == ("dataframe_split", "dataframe_records")
    assert split.required_columns == {"int_col"}
    assert records.required_columns == {"int_col", "float_col", "string_col"}
    [sentiment] = model.params
    assert sentiment.default == 0.5
    assert isinstance(sentiment.default, float)
    assert sentiment.has_default
    # The normalized branch carries the coerced default too; the source document keeps the original.
    params_schema = split.schema["properties"]["params"]["properties"]["sentiment"]
    assert params_schema["default"] == 0.5
    raw = schema.source_document["paths"][model.path]["post"]["requestBody"]["content"]["application/json"]
    assert raw["schema"]["oneOf"][0]["properties"]["params"]["properties"]["sentiment"]["default"] == "0.5"
    assert model.response is not None
    assert model.response.result == DataType(Kind.ARRAY, items=DataType(Kind.DOUBLE, format="double"))
    assert schema.errors == ()
    assert {d.code for d in schema.warnings} >= {"default-type-mismatch", "formats-disagree-required"}


def test_format_selection_by_key(docs: SimpleNamespace) -> None:
    """Item 7: the normalized request schema picks the branch by the top-level key, as the server does."""
    schema = schemakit.load(str(docs.docs_example_path))
    [model] = schema.models
    raw = schema.source_document["paths"][model.path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    valid_split = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 2.5, "a"]]}}
    bad_cell = {"dataframe_split": {"columns": ["int_col"], "data": [[3.5]]}}
    # Plain JSON Schema on the raw document gets both wrong ...
    assert not Draft202012Validator(raw).is_valid(valid_split)
    assert Draft202012Validator(raw).is_valid(bad_cell)
    # ... the normalized schema gets both right.
    normalized = Draft202012Validator(dict(model.request_schema))
    assert normalized.is_valid(valid_split)
    assert not normalized.is_valid(bad_cell)
    for fmt in model.formats:
        assert fmt.key in fmt.schema["required"]
    assert model.request_schema["oneOf"] == [f.schema for f in model.formats]


def test_yaml_sample_coerces_string_defaults(samples: Path) -> None:
    [model] = schemakit.load(str(samples / "house-prices.yaml")).models
    params = {p.name: p.default for p in model.params}
    assert params == {"currency": "USD", "round_to": 1000, "include_interval": True}
    assert isinstance(params["round_to"], int)
    assert params["include_interval"] is True
    split = model.format("dataframe_split")
    assert split is not None
    assert [(c.name, c.type.display(), c.required) for c in split.columns] == [
        ("sqft", "double", True),
        ("bedrooms", "integer", True),
        ("zipcode", "string", True),
        ("has_garage", "boolean", False),
        ("built", "datetime", False),
    ]


@pytest.mark.parametrize(
    ("schema", "default", "expected"),
    [
        ({"type": "number"}, "0.5", 0.5),
        ({"type": "number"}, "2", 2),
        ({"type": "integer"}, "7", 7),
        ({"type": "integer"}, 7.0, 7.0),
        ({"type": "integer"}, "7.0", 7),
        ({"type": "boolean"}, "False", False),
        ({"type": "string"}, 3, "3"),
        ({"type": "string"}, True, "true"),
        ({"type": "array", "items": {"type": "long"}}, "[1, 2]", [1, 2]),
        ({"type": "object"}, '{"a": 1}', {"a": 1}),
        ({"type": ["number", "null"]}, "null", None),
    ],
)
def test_default_coercion(docs: SimpleNamespace, schema: dict[str, Any], default: Any, expected: Any) -> None:
    request = docs.records({"id": docs.LONG})
    request["oneOf"][0]["properties"]["params"] = {
        "type": "object",
        "properties": {"p": {**schema, "default": default}},
    }
    [model] = schemakit.resolve(docs.endpoint(request)).models
    [param] = model.params
    assert param.default == expected
    assert type(param.default) is type(expected)


@pytest.mark.parametrize(
    ("schema", "default"),
    [
        ({"type": "number"}, "warm"),
        ({"type": "number"}, "nan"),
        ({"type": "integer"}, "7.5"),
        ({"type": "boolean"}, "yes"),
        ({"type": "array"}, "{}"),
        ({"type": "integer"}, [1]),
    ],
)
def test_uncoercible_default_is_an_error_and_kept(docs: SimpleNamespace, schema: dict[str, Any], default: Any) -> None:
    request = docs.records({"id": docs.LONG})
    request["oneOf"][0]["properties"]["params"] = {
        "type": "object",
        "properties": {"p": {**schema, "default": default}},
    }
    schema_ = schemakit.resolve(docs.endpoint(request))
    [param] = schema_.models[0].params
    assert param.default == default
    assert [d.code for d in schema_.errors] == ["default-invalid"]


# -- OpenAPI 3.0 ------------------------------------------------------------------------------------


def test_openapi_30_nullable(samples: Path) -> None:
    schema = schemakit.load(str(samples / "openapi-3.0-nullable.json"))
    assert schema.openapi == "3.0.3"
    assert schema.diagnostics == ()
    [model] = schema.models
    records = model.format("dataframe_records")
    assert records is not None
    types = {c.name: c.type for c in records.columns}
    assert (types["user_id"].kind, types["user_id"].nullable) == (Kind.LONG, False)
    assert (types["age"].kind, types["age"].nullable) == (Kind.INTEGER, True)
    assert types["age"].schema["type"] == ["integer", "null"]
    assert types["segment"].enum == ("new", "returning", None)
    assert types["segment"].schema["enum"] == ["new", "returning", None]
    # 3.0's boolean exclusiveMinimum becomes 2020-12's numeric one.
    assert types["spend"].schema["exclusiveMinimum"] == 0
    assert "minimum" not in types["spend"].schema
    [top_k] = model.params
    assert (top_k.type.kind, top_k.type.nullable, top_k.default) == (Kind.LONG, True, 5)


def test_openapi_30_tuple_items_become_prefix_items(docs: SimpleNamespace) -> None:
    document = docs.docs_example()
    document["openapi"] = "3.0.3"
    split = document["paths"]["/served-models/vanilla_simple_model-2/invocations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"][0]["properties"]["dataframe_split"]["properties"]["data"]["items"]
    split["items"] = split.pop("prefixItems")
    [model] = schemakit.resolve(document).models
    fmt = model.format("dataframe_split")
    assert fmt is not None
    assert [c.type.kind for c in fmt.columns] == [Kind.LONG, Kind.DOUBLE, Kind.STRING]
    row = fmt.schema["properties"]["dataframe_split"]["properties"]["data"]["items"]
    assert "prefixItems" in row
    assert "items" not in row


def test_nullable_in_31_is_honoured(samples: Path) -> None:
    schema = schemakit.load(str(samples / "foundation-model-chat.json"))
    [model] = schema.models
    [request] = model.formats
    fields = {c.name: c.type for c in request.columns}
    assert fields["temperature"].nullable
    assert fields["temperature"].kind is Kind.DOUBLE
    assert fields["max_tokens"].nullable is False
    assert fields["reasoning_effort"].enum == ("low", "medium", "high", None)
    assert Draft202012Validator(dict(model.request_schema)).is_valid({"messages": [], "temperature": None})
    assert not Draft202012Validator(dict(model.request_schema)).is_valid({"messages": [], "max_tokens": None})
    # The published chat document's role enum leaves out `system` (issue 13): a warning of its own.
    assert {d.code for d in schema.warnings} == {"nullable-in-3.1", "chat-role-missing-system"}


# -- object requests (foundation models) -----------------------------------------------------------


def test_chat_request_and_response(samples: Path) -> None:
    [model] = schemakit.load(str(samples / "foundation-model-chat.json")).models
    [request] = model.formats
    assert request.kind is FormatKind.OBJECT
    assert request.key is None
    assert request.params == ()
    assert [c.name for c in request.columns] == [
        "messages",
        "n",
        "max_tokens",
        "top_p",
        "reasoning_effort",
        "temperature",
        "stop",
        "stream",
    ]
    messages = request.columns[0].type
    assert messages.display() == "array<object<role: string, content: string>>"
    stop = request.columns[6].type
    assert stop.kind is Kind.UNION
    assert stop.nullable
    assert [v.display() for v in stop.variants] == ["string", "array<string>"]
    assert model.request_schema == request.schema
    assert model.response is not None
    assert model.response.predictions is None
    body = model.response.result
    assert [f.name for f in body.fields] == ["model", "choices", "usage", "object", "id", "created"]
    usage = body.field("usage")
    assert usage is not None
    assert usage.type.nullable


def test_completions_request(samples: Path) -> None:
    [model] = schemakit.load(str(samples / "foundation-model-completions.json")).models
    [request] = model.formats
    assert request.kind is FormatKind.OBJECT
    assert request.required_columns == {"prompt"}
    prompt = request.column("prompt")
    assert prompt is not None
    assert prompt.type.display() == "string | array<string>"
    assert model.response is not None
    choices = model.response.body.field("choices")
    assert choices is not None
    assert choices.type.display().startswith("array<object<index: long, text: string")


def test_embeddings_request(samples: Path) -> None:
    [model] = schemakit.load(str(samples / "foundation-model-embeddings.json")).models
    [request] = model.formats
    assert request.required_columns == {"input"}
    assert model.response is not None
    data = model.response.body.field("data")
    assert data is not None
    assert data.type.display() == "array<object<object: string, index: long, embedding: array<double>>>"


# -- tensors and columnar inputs -----------------------------------------------------------------------


def test_tensor_model(samples: Path) -> None:
    [model] = schemakit.load(str(samples / "tensor-model.json")).models
    assert model.format_names == ("instances", "inputs")
    for fmt in model.formats:
        assert fmt.columns == ()
        assert fmt.tensor is not None
        assert fmt.tensor.kind is Kind.FLOAT
        assert fmt.tensor.shape == (-1, 28, 28)
        assert fmt.tensor.to_json() == {"type": "float", "shape": [-1, 28, 28]}
    assert model.response is not None
    assert model.response.result.display() == "array<array<float>>"


def test_tensor_declared_shape_wins(docs: SimpleNamespace) -> None:
    request = {
        "type": "object",
        "properties": {"inputs": {"type": "array", "items": {"type": "number"}, "x-shape": [-1, 3]}},
    }
    [model] = schemakit.resolve(docs.endpoint(request)).models
    [fmt] = model.formats
    assert fmt.tensor is not None
    assert fmt.tensor.shape == (-1, 3)


def test_columnar_inputs_and_row_instances(samples: Path) -> None:
    [model] = schemakit.load(str(samples / "columnar-inputs.json")).models
    inputs = model.format("inputs")
    instances = model.format("instances")
    assert inputs is not None
    assert instances is not None
    assert inputs.tensor is None
    assert instances.tensor is None
    # Columnar: each property is an array of the column's values; the column type is the element type.
    assert [(c.name, c.type.display(), c.required) for c in inputs.columns] == [
        ("age", "long", True),
        ("income", "double", True),
        ("city", "string", False),
    ]
    assert [(c.name, c.type.display(), c.required) for c in instances.columns] == [
        ("age", "long", True),
        ("income", "double", True),
        ("city", "string", False),
    ]
    assert not any(
        d.code.startswith("formats-disagree") for d in schemakit.load(str(samples / "columnar-inputs.json")).diagnostics
    )


# -- several served models --------------------------------------------------------------------------


def test_multi_model_endpoint(samples: Path) -> None:
    schema = schemakit.load(str(samples / "multi-model.json"))
    assert [m.name for m in schema.models] == ["ads-1", "ads-2", "ctr_calibrator"]
    assert [m.path for m in schema.models] == [
        "/served-models/ads-1/invocations",
        "/served-models/ads-2/invocations",
        "/served-models/ctr_calibrator/invocations",
    ]
    ads1, ads2 = schema.model("ads-1"), schema.model("ads-2")
    assert [c.name for c in ads1.columns] == ["user_id", "ad_id", "hour"]
    assert [c.name for c in ads2.columns] == ["user_id", "ad_id", "hour", "country", "device"]
    device = ads2.columns[4].type
    assert device.nullable
    assert device.enum == ("mobile", "desktop", "tablet", None)
    assert ads1.params == ()
    assert [p.name for p in ads2.params] == ["threshold"]
    assert schema.model("ctr_calibrator").format_names == ("dataframe_records",)
    # Only ads-1 leaves its format keys optional.
    ambiguous = [d.pointer for d in schema.diagnostics if d.code == "oneof-ambiguous"]
    assert ambiguous == [f"{ads1.pointer}/post/requestBody/content/application~1json/schema/oneOf"]


def test_unknown_model_names_the_ones_there_are(samples: Path) -> None:
    schema = schemakit.load(str(samples / "multi-model.json"))
    with pytest.raises(UnknownModelError) as caught:
        schema.model("ads-3")
    assert caught.value.format_message() == (
        "no served model named 'ads-3' in 'ads-ranking' (served models: ads-1, ads-2, ctr_calibrator)"
    )


def test_multi_model_inspect_json(run_cli: Any, samples: Path) -> None:
    result = run_cli("inspect", str(samples / "multi-model.json"), "--format", "json")
    assert result.returncode == 0
    models = json.loads(result.stdout)["models"]
    assert [(m["name"], m["formats"]) for m in models] == [
        ("ads-1", ["dataframe_split", "dataframe_records"]),
        ("ads-2", ["dataframe_split", "dataframe_records"]),
        ("ctr_calibrator", ["dataframe_records"]),
    ]
    assert models[1]["params"] == [{"name": "threshold", "type": "double", "default": 0.5}]
    assert models[2]["response"] == {"type": "array", "items": "float"}


# -- $ref twin --------------------------------------------------------------------------------------


def test_refs_resolve_to_the_inline_twin(samples: Path) -> None:
    inline = schemakit.load(str(samples / "all-types.json"))
    with_refs = schemakit.load(str(samples / "all-types-refs.json"))
    assert schemakit.describe(with_refs) == schemakit.describe(inline)
    assert with_refs.models == inline.models
    assert [m.request_schema for m in with_refs.models] == [m.request_schema for m in inline.models]
    # The source document keeps its references; the normalized one has none left under paths.
    assert "$ref" in json.dumps(with_refs.source_document["paths"])
    assert "$ref" not in json.dumps(with_refs.document["paths"])


def test_refs_with_sibling_keywords_add_to_the_target(docs: SimpleNamespace) -> None:
    request = docs.records({"id": {"$ref": "#/components/schemas/Id", "description": "the user id"}}, ["id"])
    document = docs.endpoint(request, components={"schemas": {"Id": docs.LONG}})
    [model] = schemakit.resolve(document).models
    [column] = model.columns
    assert column.type.kind is Kind.LONG
    assert column.description == "the user id"


def test_ref_with_escaped_pointer(docs: SimpleNamespace) -> None:
    request = docs.records({"id": {"$ref": "#/components/schemas/a~1b~0c"}}, ["id"])
    document = docs.endpoint(request, components={"schemas": {"a/b~c": docs.LONG}})
    [model] = schemakit.resolve(document).models
    assert model.columns[0].type.kind is Kind.LONG
    assert schemakit.resolve(document).diagnostics == ()


def test_self_reference_is_a_cycle(docs: SimpleNamespace) -> None:
    tree = {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Tree"}}}
    document = docs.endpoint(
        docs.records({"tree": {"$ref": "#/components/schemas/Tree"}}), components={"schemas": {"Tree": tree}}
    )
    schema = schemakit.resolve(document)
    [cycle] = schema.errors
    assert cycle.code == "ref-cycle"
    assert "#/components/schemas/Tree -> #/components/schemas/Tree" in cycle.message


def test_long_reference_chains_are_refused(docs: SimpleNamespace) -> None:
    components = {
        f"S{i}": {"type": "object", "properties": {"x": {"$ref": f"#/components/schemas/S{i + 1}"}}} for i in range(300)
    }
    components["S300"] = {"type": "string"}
    document = docs.endpoint(
        docs.records({"deep": {"$ref": "#/components/schemas/S0"}}), components={"schemas": components}
    )
    with pytest.raises(schemakit.TooLargeError, match="references nest the schema more than 128 levels deep"):
        schemakit.resolve(document)
    chain = {f"S{i}": {"$ref": f"#/components/schemas/S{i + 1}"} for i in range(2000)}
    chain["S2000"] = {"type": "string"}
    document = docs.endpoint(docs.records({"deep": {"$ref": "#/components/schemas/S0"}}), components={"schemas": chain})
    with pytest.raises(schemakit.TooLargeError):
        schemakit.resolve(document)


def test_resolve_refuses_a_deep_python_value(docs: SimpleNamespace) -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(2000):
        deep = {"type": "object", "properties": {"x": deep}}
    with pytest.raises(schemakit.TooLargeError, match="nested more than 128 levels deep"):
        schemakit.resolve(docs.endpoint(docs.records({"deep": deep})))


# -- frozen, typed values -----------------------------------------------------------------------------


def test_model_values_are_frozen(docs: SimpleNamespace) -> None:
    schema = schemakit.load(str(docs.docs_example_path))
    model = schema.models[0]
    fmt = model.formats[0]
    values: list[Any] = [
        schema,
        model,
        fmt,
        fmt.columns[0],
        fmt.columns[0].type,
        model.params[0],
        schema.diagnostics[0],
    ]
    if model.response is not None:
        values.append(model.response)
    for value in values:
        assert dataclasses.is_dataclass(value)
        field = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, None)
    assert isinstance(schema.models, tuple)
    assert isinstance(fmt.columns, tuple)


def test_model_values_are_hashable_and_comparable(docs: SimpleNamespace) -> None:
    first = schemakit.load(str(docs.docs_example_path))
    second = schemakit.load(str(docs.docs_example_path))
    assert first == second
    assert hash(first.models[0].formats[0].columns[0]) == hash(second.models[0].formats[0].columns[0])
    assert {first.models[0].params[0], second.models[0].params[0]} == {first.models[0].params[0]}


def test_public_model_types_are_exported() -> None:
    for name in (
        "EndpointSchema",
        "ServedModel",
        "InputFormat",
        "Column",
        "DataType",
        "Param",
        "Diagnostic",
        "Kind",
        "FormatKind",
    ):
        assert hasattr(schemakit, name)
    assert issubclass(EndpointSchema, object)
    assert issubclass(InputFormat, object)
    assert Column("a", DataType(Kind.ANY)).required is False
    assert str(Diagnostic("c", "warning", "", "m")) == "warning c at /: m"


def test_reference_bomb_is_refused(docs: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten references to ten references to ...: a small document that inlines to billions of nodes."""
    import schemakit.core.refs

    monkeypatch.setattr(schemakit.core.refs, "MAX_INLINED_NODES", 20_000)
    components = {
        f"L{i}": {"type": "array", "prefixItems": [{"$ref": f"#/components/schemas/L{i + 1}"}] * 10} for i in range(9)
    }
    components["L9"] = {"type": "string"}
    document = docs.endpoint(
        docs.records({"x": {"$ref": "#/components/schemas/L0"}}), components={"schemas": components}
    )
    with pytest.raises(schemakit.TooLargeError, match="references expand the document past 20,000 values"):
        schemakit.resolve(document)


def test_integers_beyond_64_bits_stay_integers(tmp_path: Path) -> None:
    text = Path("samples/docs-example-dataframe.json").read_text().replace('"default": "0.5"', '"default": 18446744073709551616')
    spec = tmp_path / "big.json"
    spec.write_text(text)
    param = schemakit.load(str(spec)).models[0].params[0]
    assert param.default == 18446744073709551616
    assert isinstance(param.default, int)
