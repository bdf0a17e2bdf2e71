"""Build serving-endpoint documents from a compact description, shaped like the real ones.

    doc(model("ads-model-1", columns=[col("a", "long", required=True), col("b", "double")],
              params=[param("sentiment", "double", 0.5)]))

gives `/served-models/ads-model-1/invocations` with an untitled oneOf of a `dataframe_split`
branch (column names in `columns.items.enum`, `"required fields: a"` in the description,
rows typed positionally with `prefixItems`) and a `dataframe_records` branch, params whose
defaults are written as strings (`"0.5"`) as real documents do, and a 200 response of
`{"predictions": ...}`.

Type specs: long, integer (int32), double, float, string, boolean, binary, datetime, any,
`array<T>`, `map<T>`, or a raw JSON Schema dict.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import schemakit
from schemakit.diff import DiffReport, diff_schemas

BASE_TYPES: dict[str, dict[str, Any]] = {
    "long": {"type": "integer", "format": "int64"},
    "integer": {"type": "integer", "format": "int32"},
    "double": {"type": "number", "format": "double"},
    "float": {"type": "number", "format": "float"},
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "binary": {"type": "string", "format": "binary"},
    "datetime": {"type": "string", "format": "date-time"},
    "any": {"type": "object", "format": "unknown"},
}


def schema_of(
    spec: str | dict[str, Any], *, nullable: bool = False, enum: Sequence[Any] | None = None
) -> dict[str, Any]:
    if isinstance(spec, dict):
        out = copy.deepcopy(spec)
    elif spec.startswith("array<") and spec.endswith(">"):
        out = {"type": "array", "items": schema_of(spec[len("array<") : -1])}
    elif spec.startswith("map<") and spec.endswith(">"):
        out = {"type": "object", "additionalProperties": schema_of(spec[len("map<") : -1])}
    else:
        out = copy.deepcopy(BASE_TYPES[spec])
    if enum is not None:
        out["enum"] = list(enum)
    if nullable:
        kind = out.get("type")
        out["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def obj(fields: dict[str, str | dict[str, Any]], required: Sequence[str] = ()) -> dict[str, Any]:
    """An object type with named fields."""
    out: dict[str, Any] = {"type": "object", "properties": {k: schema_of(v) for k, v in fields.items()}}
    if required:
        out["required"] = list(required)
    return out


@dataclass
class Col:
    name: str
    type: str | dict[str, Any] = "long"
    required: bool = False
    nullable: bool = False
    enum: Sequence[Any] | None = None

    def schema(self) -> dict[str, Any]:
        return schema_of(self.type, nullable=self.nullable, enum=self.enum)


def col(
    name: str,
    type: str | dict[str, Any] = "long",
    *,
    required: bool = False,
    nullable: bool = False,
    enum: Sequence[Any] | None = None,
) -> Col:
    return Col(name, type, required, nullable, enum)


@dataclass
class Prm:
    name: str
    type: str | dict[str, Any] = "double"
    default: Any = None
    has_default: bool = True
    required: bool = False

    def schema(self) -> dict[str, Any]:
        out = schema_of(self.type)
        if self.has_default:
            # Real documents write defaults as strings ("0.5"); the resolver coerces them.
            value = self.default
            out["default"] = value if isinstance(value, str) else json.dumps(value)
        return out


def param(name: str, type: str | dict[str, Any] = "double", default: Any = 0.5, *, required: bool = False) -> Prm:
    return Prm(name, type, default, True, required)


def param_without_default(name: str, type: str | dict[str, Any] = "double", *, required: bool = False) -> Prm:
    return Prm(name, type, None, False, required)


DEFAULT_COLUMNS = (col("a", "long", required=True), col("b", "double"), col("c", "string"))
DEFAULT_PARAMS = (param("sentiment", "double", 0.5),)


@dataclass
class Model:
    name: str = "ads-model-1"
    columns: Sequence[Col] = DEFAULT_COLUMNS
    params: Sequence[Prm] = DEFAULT_PARAMS
    formats: Sequence[str] = ("split", "records")
    #: A type spec for `predictions`, or a raw body schema with `response_body`.
    response: str | dict[str, Any] | None = "array<double>"
    response_body: dict[str, Any] | None = None
    #: For tensor formats (`instances`, `inputs`): element type and shape.
    tensor: str = "float"
    shape: Sequence[int] = (-1, 3)
    #: For a plain-object request (chat, completions): its fields.
    object_fields: Sequence[Col] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def branches(self) -> list[dict[str, Any]]:
        branches = []
        params = self.params_schema()
        for fmt in self.formats:
            if fmt == "split":
                split: dict[str, Any] = {
                    "type": "object",
                    "properties": {
                        "columns": {
                            "type": "array",
                            "items": {"type": "string", "enum": [c.name for c in self.columns]},
                        },
                        "data": {
                            "type": "array",
                            "items": {"type": "array", "prefixItems": [c.schema() for c in self.columns]},
                        },
                    },
                }
                required = [c.name for c in self.columns if c.required]
                if required:
                    split["properties"]["columns"]["description"] = "required fields: " + ", ".join(required)
                branch: dict[str, Any] = {"type": "object", "properties": {"dataframe_split": split}}
            elif fmt == "records":
                item: dict[str, Any] = {"type": "object", "properties": {c.name: c.schema() for c in self.columns}}
                required = [c.name for c in self.columns if c.required]
                if required:
                    item["required"] = required
                branch = {
                    "type": "object",
                    "properties": {"dataframe_records": {"type": "array", "items": item}},
                }
            elif fmt in ("instances", "inputs"):
                branch = {"type": "object", "properties": {fmt: self.tensor_schema()}}
            elif fmt in ("instances-rows", "inputs-columns"):
                key = fmt.split("-")[0]
                if key == "instances":
                    value = {
                        "type": "array",
                        "items": {"type": "object", "properties": {c.name: c.schema() for c in self.columns}},
                    }
                else:
                    value = {
                        "type": "object",
                        "properties": {c.name: {"type": "array", "items": c.schema()} for c in self.columns},
                    }
                branch = {"type": "object", "properties": {key: value}}
            else:
                raise ValueError(fmt)
            if params is not None:
                branch["properties"]["params"] = params
            branches.append(branch)
        return branches

    def tensor_schema(self) -> dict[str, Any]:
        node: dict[str, Any] = schema_of(self.tensor)
        for dim in reversed(self.shape):
            wrapped: dict[str, Any] = {"type": "array", "items": node}
            if dim >= 0:
                wrapped["minItems"] = dim
                wrapped["maxItems"] = dim
            node = wrapped
        return node

    def params_schema(self) -> dict[str, Any] | None:
        if not self.params:
            return None
        out: dict[str, Any] = {"type": "object", "properties": {p.name: p.schema() for p in self.params}}
        required = [p.name for p in self.params if p.required]
        if required:
            out["required"] = required
        return out

    def request_schema(self) -> dict[str, Any]:
        if self.object_fields is not None:
            out: dict[str, Any] = {"type": "object", "properties": {c.name: c.schema() for c in self.object_fields}}
            required = [c.name for c in self.object_fields if c.required]
            if required:
                out["required"] = required
            return out
        return {"oneOf": self.branches()}

    def operation(self) -> dict[str, Any]:
        post: dict[str, Any] = {
            "requestBody": {"content": {"application/json": {"schema": self.request_schema()}}},
            "responses": {"200": {"description": "Successful operation"}},
        }
        body = self.response_body
        if body is None and self.response is not None:
            body = {"type": "object", "properties": {"predictions": schema_of(self.response)}}
        if body is not None:
            post["responses"]["200"]["content"] = {"application/json": {"schema": body}}
        post.update(self.extra)
        return {"post": post}


def model(name: str = "ads-model-1", **kwargs: Any) -> Model:
    return Model(name, **kwargs)


def doc(
    *models: Model,
    title: str = "ads",
    version: str = "1",
    server: str = "https://example.databricks.com/serving-endpoints/ads",
) -> dict[str, Any]:
    """A whole document; with no models, one default `ads-model-1`."""
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": server}],
        "paths": {f"/served-models/{m.name}/invocations": m.operation() for m in (models or (Model(),))},
    }


def resolve(document: dict[str, Any], source: str = "") -> schemakit.EndpointSchema:
    return schemakit.resolve(document, source=source)


def diff(old: dict[str, Any], new: dict[str, Any], **kwargs: Any) -> DiffReport:
    return diff_schemas(resolve(old, "old.json"), resolve(new, "new.json"), **kwargs)


def rules(report: DiffReport) -> set[tuple[str, str]]:
    return {(f.rule, f.severity) for f in report.findings}
