"""Planning the generated types: class and field names, the JSON Schema fed to
datamodel-code-generator, and the codec specs the generated package walks at run time.

Everything here reads the resolved model (`schemakit.core.model`), never the raw document.
Class names are chosen here (and handed to datamodel-code-generator as titles), field
identifiers too (as scoped aliases), so the templates know exactly which Python names
exist without parsing generated code.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from schemakit.codegen.naming import class_name, field_name, model_modules, served_model_base
from schemakit.core.limits import request_limit
from schemakit.core.model import Column, DataType, EndpointSchema, FormatKind, Kind, Param, ServedModel
from schemakit.core.types import FLOAT_KINDS, INTEGER_KINDS, JSON_SCHEMA, SCALAR_KINDS

__all__ = [
    "PREFIX_SUFFIXES",
    "ClassPlan",
    "FieldPlan",
    "ModelPlan",
    "TypePlanner",
    "docstring_text",
    "field_idents",
    "literal_ints",
    "plan_models",
]


@dataclass
class FieldPlan:
    key: str  # the JSON key, exactly the document's
    ident: str  # the Python attribute name
    type: DataType
    required: bool
    description: str | None = None
    default: Any = None
    has_default: bool = False


@dataclass
class ClassPlan:
    name: str
    description: str | None
    fields: list[FieldPlan]


@dataclass
class ModelPlan:
    served: ServedModel
    module: str  # the per-model module name
    prefix: str  # class-name prefix
    row: ClassPlan | None = None  # dataframe-style rows, or the object request
    params: ClassPlan | None = None
    response: ClassPlan | None = None
    formats: tuple[FormatKind, ...] = ()
    is_object_request: bool = False
    tensor_formats: dict[str, DataType] = field(default_factory=dict)
    column_formats: tuple[str, ...] = ()
    split_columns: tuple[FieldPlan, ...] = ()
    inputs_columns: tuple[FieldPlan, ...] = ()
    #: The key of this model in `_version.SERVED_MODEL_NAMES` (its module name: stable across versions).
    base_key: str = ""
    #: Chat or completions: the client gets streaming methods (server-sent events).
    streams: bool = False
    #: The served model's version suffix (`2` of `model-2`), None when its name has none.
    version: str | None = None
    #: The largest request body its endpoint accepts, in bytes (`schemakit.core.limits`).
    max_request_bytes: int = 0

    @property
    def standard_path(self) -> bool:
        """Whether the invocations path is the one the name gives (so it can follow the name)."""
        return self.served.path == f"/served-models/{self.served.name}/invocations"


def docstring_text(text: str | None, *, escape_backslashes: bool = False, one_line: bool = False) -> str | None:
    """Text safe inside a generated triple-quoted docstring: no double quotes (so no closing
    triple quote), no control characters, and backslashes doubled when the caller writes the
    docstring itself (datamodel-code-generator escapes them on its own)."""
    if not text:
        return None
    cleaned = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch == "\n" or ch == "\t" or ch.isprintable():
            cleaned.append(ch)
        else:
            cleaned.append(" ")
    out = "".join(cleaned).replace('"', "'").strip()
    if one_line:
        out = " ".join(out.split())
    if escape_backslashes:
        out = out.replace("\\", "\\\\")
    return out or None


def field_idents(keys: list[str], *, fallback: str) -> dict[str, str]:
    """Attribute names for one class's JSON keys: distinct, and never another field's JSON key.

    A key that is already a clean identifier keeps it; the others are cleaned and numbered
    (`a-b` -> `a_b_2` when `a_b` is a key too). An attribute named like another field's key
    would let pydantic's populate-by-name read `Row(a_b=...)` as that other field: values would
    silently go out under the wrong key.
    """
    keys = list(dict.fromkeys(keys))
    taken = set(keys)
    out: dict[str, str] = {}
    for key in keys:
        if field_name(key, fallback=fallback) == key:
            out[key] = key
    used = set(out.values())
    for key in keys:
        if key in out:
            continue
        base = field_name(key, fallback=fallback)
        candidate, counter = base, 2
        while candidate in used or candidate in taken:
            candidate, counter = f"{base}_{counter}", counter + 1
        out[key] = candidate
        used.add(candidate)
    return {key: out[key] for key in keys}


class TypePlanner:
    """Assigns class names across one generated models module and builds the schema for it."""

    def __init__(self, reserved: frozenset[str] = frozenset()) -> None:
        self.classes: dict[str, ClassPlan] = {}
        #: Names the generated modules define or use (`codegen.reserved`): no class may take one.
        self.reserved = reserved
        self._used: set[str] = set()
        self._nested: dict[int, str] = {}

    def unique_class(self, wanted: str) -> str:
        name = wanted
        counter = 2
        while name in self._used or name in self.reserved:
            name = f"{wanted}{counter}"
            counter += 1
        self._used.add(name)
        return name

    # -- classes --------------------------------------------------------------------

    def object_class(self, name: str, description: str | None, columns: tuple[Column, ...]) -> ClassPlan:
        """Plan a class for an object with fields; nested objects get classes named after their path."""
        idents = field_idents([c.name for c in columns], fallback="col")
        plan = ClassPlan(name, docstring_text(description), [])
        self.classes[name] = plan
        for column in columns:
            plan.fields.append(
                FieldPlan(
                    key=column.name,
                    ident=idents[column.name],
                    type=column.type,
                    required=column.required,
                    description=docstring_text(column.description or column.type.description),
                )
            )
        for fld in plan.fields:
            self._plan_nested(fld.type, f"{name}{class_name(fld.key, fallback='Field')}")
        return plan

    def params_class(self, name: str, params: tuple[Param, ...]) -> ClassPlan:
        idents = field_idents([p.name for p in params], fallback="param")
        plan = ClassPlan(name, "Inference parameters, sent as `params` beside the input.", [])
        self.classes[name] = plan
        for param in params:
            fits = param.has_default and _default_fits(param.type, param.default)
            description = param.description or param.type.description
            if param.has_default and not fits:
                # A default Python cannot hold as written (a datetime given as text): say what the server uses.
                note = f"Server default: {json.dumps(param.default, ensure_ascii=False)}."
                description = f"{description}\n\n{note}" if description else note
            plan.fields.append(
                FieldPlan(
                    key=param.name,
                    ident=idents[param.name],
                    type=param.type,
                    required=param.required,
                    description=docstring_text(description),
                    default=param.default,
                    has_default=fits,
                )
            )
        for fld in plan.fields:
            self._plan_nested(fld.type, f"{name}{class_name(fld.key, fallback='Field')}")
        return plan

    def _plan_nested(self, dtype: DataType, wanted: str) -> None:
        if dtype.kind is Kind.OBJECT and dtype.fields:
            if _class_key(dtype) in self._nested:
                return
            name = self.unique_class(wanted)
            self._nested[_class_key(dtype)] = name
            self.object_class(name, dtype.description, dtype.fields)
        elif dtype.kind in (Kind.ARRAY, Kind.MAP) and dtype.items is not None:
            self._plan_nested(dtype.items, wanted if wanted.endswith("Item") else f"{wanted}Item")
        elif dtype.kind is Kind.UNION:
            for i, variant in enumerate(dtype.variants, 1):
                self._plan_nested(variant, f"{wanted}{i}")

    def nested_name(self, dtype: DataType) -> str:
        return self._nested[_class_key(dtype)]

    # -- JSON Schema for datamodel-code-generator ----------------------------------

    def json_schema(self) -> dict[str, Any]:
        defs = {}
        for name, plan in self.classes.items():
            properties: dict[str, Any] = {}
            for fld in plan.fields:
                prop = self.type_schema(fld.type)
                if fld.description:
                    prop = {**prop, "description": fld.description}
                if fld.has_default:
                    prop = {**prop, "default": fld.default}
                properties[fld.key] = prop
            schema: dict[str, Any] = {"type": "object", "title": name, "properties": properties}
            required = [f.key for f in plan.fields if f.required]
            if required:
                schema["required"] = required
            if plan.description:
                schema["description"] = plan.description
            defs[name] = schema
        return {"$defs": defs}

    def aliases(self) -> dict[str, str]:
        return {
            f"{name}.{fld.key}": fld.ident
            for name, plan in self.classes.items()
            for fld in plan.fields
            if fld.key != fld.ident
        }

    def type_schema(self, dtype: DataType) -> dict[str, Any]:
        """JSON Schema for one logical type, keeping what datamodel-code-generator would lose."""
        core = self._core_schema(dtype)
        if dtype.nullable and dtype.kind not in (Kind.NULL, Kind.ANY):
            return {"anyOf": [core, {"type": "null"}]}
        return core

    def _core_schema(self, dtype: DataType) -> dict[str, Any]:
        kind = dtype.kind
        enum = [v for v in dtype.enum if v is not None] if dtype.enum is not None else None
        if kind in SCALAR_KINDS:
            scalar = dict(JSON_SCHEMA[kind])
            # Floats keep no enum: a float literal type would not match the server's numbers exactly.
            if kind in INTEGER_KINDS and not literal_ints(enum):
                enum = None
            return _with_enum(scalar, enum) if kind in (INTEGER_KINDS | {Kind.BOOLEAN, Kind.STRING}) else scalar
        if kind is Kind.ARRAY:
            tuple_schema = _tuple_schema(dtype)
            if tuple_schema is not None:
                return {
                    "type": "array",
                    "prefixItems": [self.type_schema(t) for t in tuple_schema],
                    "minItems": len(tuple_schema),
                    "maxItems": len(tuple_schema),
                }
            items = self.type_schema(dtype.items) if dtype.items is not None else {}
            return {"type": "array", "items": items}
        if kind is Kind.MAP:
            values = self.type_schema(dtype.items) if dtype.items is not None else {}
            return {"type": "object", "additionalProperties": values}
        if kind is Kind.OBJECT:
            if dtype.fields:
                return {"$ref": f"#/$defs/{self.nested_name(dtype)}"}
            return {"type": "object", "additionalProperties": {}}
        if kind is Kind.UNION:
            return {"anyOf": [self.type_schema(v) for v in dtype.variants]}
        if kind is Kind.NULL:
            return dict(JSON_SCHEMA[kind])
        return {}

    # -- codec specs -----------------------------------------------------------------

    def codec_spec(self, dtype: DataType) -> Any:
        """What the generated codec must convert: None (as is), binary, datetime, lists, maps, classes."""
        kind = dtype.kind
        if kind is Kind.BINARY:
            return "binary"
        if kind is Kind.DATETIME:
            return "datetime"
        if kind in (Kind.ARRAY, Kind.MAP) and dtype.items is not None:
            inner = self.codec_spec(dtype.items)
            if inner is None:
                return None
            return ("list" if kind is Kind.ARRAY else "map", inner)
        if kind is Kind.OBJECT and dtype.fields:
            return ("class", self.nested_name(dtype))
        return None

    def class_specs(self) -> dict[str, tuple[tuple[str, str, bool, bool, Any], ...]]:
        return {
            name: tuple((f.key, f.ident, f.required, f.type.nullable, self.codec_spec(f.type)) for f in plan.fields)
            for name, plan in self.classes.items()
        }


def _class_key(dtype: DataType) -> int:
    # Identity of the resolved type object: the same nested schema reached twice gets one class.
    return id(dtype)


_INT64 = range(-(2**63), 2**63)


def literal_ints(values: list[Any] | None) -> bool:
    """Whether integer enum values can be a `Literal[...]`: mypy and msgspec take only 64-bit ones
    (the validator still checks the enum; only the annotation widens to `int`)."""
    return not values or all(isinstance(v, int) and v in _INT64 for v in values)


def _with_enum(schema: dict[str, Any], enum: list[Any] | None) -> dict[str, Any]:
    if enum:
        return {**schema, "enum": enum}
    return schema


def _tuple_schema(dtype: DataType) -> tuple[DataType, ...] | None:
    """Per-position types of a closed `prefixItems` array."""
    if not dtype.prefix_items or not dtype.closed:
        return None
    return dtype.prefix_items


def _default_fits(dtype: DataType, value: Any) -> bool:
    """Whether a default can be written as the field's Python default (a datetime given as text cannot)."""
    if value is None:
        return dtype.nullable
    kind = dtype.kind
    if kind in (Kind.BINARY, Kind.DATETIME, Kind.OBJECT, Kind.UNION):
        return False
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    if kind in INTEGER_KINDS:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in FLOAT_KINDS:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is Kind.STRING:
        return isinstance(value, str) and (dtype.enum is None or value in dtype.enum)
    if kind is Kind.ARRAY:
        return isinstance(value, list) and dtype.items is not None and all(_default_fits(dtype.items, v) for v in value)
    if kind is Kind.MAP:
        return (
            isinstance(value, dict)
            and dtype.items is not None
            and all(_default_fits(dtype.items, v) for v in value.values())
        )
    return False


#: What the targets append to a served model's class prefix (`<Prefix>Row`, `<Prefix>Plan`, ...): a prefix is
#: refused when any of these names is one the generated modules already define.
PREFIX_SUFFIXES = (
    "",
    "Request",
    "Row",
    "Params",
    "Response",
    "Payload",
    "Result",
    "Plan",
    *("".join(w.title() for w in kind.value.split("_")) for kind in FormatKind),
)


def _prefix_taken(prefix: str, reserved: frozenset[str]) -> bool:
    return any(prefix + suffix in reserved for suffix in PREFIX_SUFFIXES)


def plan_models(schema: EndpointSchema, planner: TypePlanner) -> list[ModelPlan]:
    """One plan per served model: its module, class prefix and classes, none taking a reserved name."""
    names = [m.name for m in schema.models]
    modules = model_modules(names, reserved=planner.reserved)
    # Class prefixes always get a suffix (Row, Params, ...), so `None` or `Field` make safe names too.
    prefixes: dict[str, str] = {}
    for module in modules.values():
        stem = class_name(module).rstrip("_") or "Model"
        prefix, counter = stem, 2
        while prefix in prefixes.values() or _prefix_taken(prefix, planner.reserved):
            prefix, counter = f"{stem}{counter}", counter + 1
        prefixes[module] = prefix
    plans: list[ModelPlan] = []
    for served in schema.models:
        module = modules[served.name]
        prefix = prefixes[module]
        plan = ModelPlan(served=served, module=module, prefix=prefix)
        plan.base_key = module
        plan.version = served_model_base(served.name)[1]
        plan.max_request_bytes = request_limit(served)
        plan.formats = tuple(f.kind for f in served.formats)
        object_format = served.format(FormatKind.OBJECT)
        if object_format is not None:
            plan.is_object_request = True
            plan.row = planner.object_class(
                planner.unique_class(f"{prefix}Request"),
                served.description or "The request body.",
                object_format.columns,
            )
            plan.streams = any(c.name in ("messages", "prompt") for c in object_format.columns)
        else:
            columns = served.columns
            if columns:
                plan.row = planner.object_class(
                    planner.unique_class(f"{prefix}Row"),
                    "One row of input.",
                    columns,
                )
            if served.params:
                plan.params = planner.params_class(planner.unique_class(f"{prefix}Params"), served.params)
            for fmt in served.formats:
                if fmt.tensor is not None and not fmt.columns:
                    plan.tensor_formats[fmt.kind.value] = fmt.tensor
            plan.column_formats = tuple(f.kind.value for f in served.formats if f.columns)
            if plan.row is not None:
                by_key = {f.key: f for f in plan.row.fields}
                plan.split_columns = format_fields(served, FormatKind.DATAFRAME_SPLIT, by_key)
                plan.inputs_columns = format_fields(served, FormatKind.INPUTS, by_key)
        response = served.response
        if response is not None and response.body.kind is Kind.OBJECT and response.body.fields:
            plan.response = planner.object_class(
                planner.unique_class(f"{prefix}Response"),
                "What the served model answers.",
                response.body.fields,
            )
        plans.append(plan)
    return plans


def format_fields(served: ServedModel, kind: FormatKind, by_key: dict[str, FieldPlan]) -> tuple[FieldPlan, ...]:
    """The format's own columns (its order, required set and nullability), named as the row names them."""
    fmt = served.format(kind)
    if fmt is None or not fmt.columns:
        return ()
    ordered = sorted(fmt.columns, key=lambda c: c.position if c.position is not None else 0)
    return tuple(
        FieldPlan(
            key=c.name,
            ident=by_key[c.name].ident,
            type=c.type,
            required=c.required,
            description=by_key[c.name].description,
        )
        for c in ordered
    )
