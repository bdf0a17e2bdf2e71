"""Type inference: the logical `DataType` of a normalized schema, and the columns, tensors and params of formats.

Kinds come from the one type table (`schemakit.core.types`); bounds, per-position
`prefixItems` types and enums are kept on the `DataType`, so no feature reads the schema again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from schemakit.core.lint import Reporter, is_number
from schemakit.core.model import BOUND_KEYWORDS, Column, DataType, FormatKind, JSONValue, Kind, Param, RequestKind
from schemakit.core.refs import escape_token
from schemakit.core.types import SCALAR_KINDS, kind_of

__all__ = [
    "datatype",
    "object_columns",
    "read_params",
    "replace_type",
    "request_kind",
    "required_list",
    "split_columns",
    "tensor_or_columns",
]

_REQUIRED_FIELDS = re.compile(r"required fields:\s*(?P<names>.*)", re.IGNORECASE | re.DOTALL)


def split_columns(r: Reporter, split: Any, pointer: str) -> tuple[tuple[Column, ...], bool]:
    if not isinstance(split, dict):
        return (), False
    found = split.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    columns_schema = properties.get("columns")
    data_schema = properties.get("data")
    names: list[str] = []
    named = False
    if isinstance(columns_schema, dict):
        items = columns_schema.get("items")
        enum = items.get("enum") if isinstance(items, dict) else None
        if isinstance(enum, list):
            not_names = [n for n in enum if not isinstance(n, str)]
            if not_names:
                r.report(
                    "split-columns-not-names",
                    "error",
                    f"{pointer}/properties/columns/items/enum",
                    f"split column names must be strings, got {not_names[0]!r:.40}: no payload can name that column",
                )
            names = [str(n) for n in enum]
            named = True
    row = data_schema.get("items") if isinstance(data_schema, dict) else None
    types: list[DataType] = []
    rest: DataType | None = None
    if isinstance(row, dict):
        prefix = row.get("prefixItems")
        if isinstance(prefix, list):
            types = [datatype(r, p, f"{pointer}/properties/data/items/prefixItems/{i}") for i, p in enumerate(prefix)]
        elif isinstance(row.get("items"), (dict, bool)):
            rest = datatype(r, row["items"], f"{pointer}/properties/data/items/items")
    if not named:
        names = [str(i) for i in range(len(types))]
    elif types and len(types) != len(names):
        r.report(
            "split-columns-mismatch",
            "error",
            f"{pointer}/properties/data/items/prefixItems",
            f"columns lists {len(names)} names but rows are typed for {len(types)} positions",
        )
    required_names = _split_required(r, columns_schema, split, pointer, names)
    columns = []
    untyped = rest if rest is not None else DataType(Kind.ANY)
    for position, column_name in enumerate(names):
        column_type = types[position] if position < len(types) else untyped
        columns.append(Column(column_name, column_type, column_name in required_names, position))
    return tuple(columns), named


def _split_required(
    r: Reporter, columns_schema: Any, split: dict[str, Any], pointer: str, names: list[str]
) -> set[str]:
    for holder, where in ((columns_schema, f"{pointer}/properties/columns"), (split, pointer)):
        description = holder.get("description") if isinstance(holder, dict) else None
        if not isinstance(description, str):
            continue
        match = _REQUIRED_FIELDS.search(description)
        if match is None:
            continue
        required = {n.strip() for n in match.group("names").split(",") if n.strip()}
        unknown = sorted(required - set(names))
        if unknown:
            r.report(
                "split-required-unknown",
                "warning",
                f"{where}/description",
                f"'required fields' names {', '.join(unknown)}, which the split columns do not list",
            )
        return required
    return set()


def object_columns(r: Reporter, schema: Any, pointer: str) -> tuple[Column, ...]:
    if not isinstance(schema, dict):
        return ()
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return ()
    required = set(required_list(schema))
    unknown = sorted(required - set(properties))
    if unknown:
        r.report(
            "required-unknown",
            "warning",
            f"{pointer}/required",
            f"required lists {', '.join(unknown)}, which properties does not define",
        )
    return tuple(
        Column(
            str(name),
            datatype(r, sub, f"{pointer}/properties/{escape_token(str(name))}"),
            name in required,
            None,
            sub.get("description") if isinstance(sub, dict) and isinstance(sub.get("description"), str) else None,
        )
        for name, sub in properties.items()
    )


def tensor_or_columns(
    r: Reporter, kind: FormatKind, schema: Any, pointer: str
) -> tuple[tuple[Column, ...], DataType | None]:
    if not isinstance(schema, dict):
        return (), DataType(Kind.ANY)
    if kind is FormatKind.INSTANCES:
        item = schema.get("items")
        if isinstance(item, dict) and isinstance(item.get("properties"), dict):
            return object_columns(r, item, f"{pointer}/items"), None
        return (), _tensor(r, schema, pointer)
    # `inputs`: columnar ({"col": [values]}) or a tensor.
    if isinstance(schema.get("properties"), dict):
        columns = []
        for column in object_columns(r, schema, pointer):
            inner = column.type.items if column.type.kind is Kind.ARRAY and column.type.items else column.type
            columns.append(Column(column.name, inner, column.required, None, column.description))
        return tuple(columns), None
    return (), _tensor(r, schema, pointer)


def _tensor(r: Reporter, schema: dict[str, Any], pointer: str) -> DataType:
    dims: list[int] = []
    node: Any = schema
    while isinstance(node, dict) and (node.get("type") == "array" or "items" in node):
        fixed = node.get("minItems") == node.get("maxItems") and isinstance(node.get("maxItems"), int)
        dims.append(int(node["maxItems"]) if fixed else -1)
        node = node.get("items", {})
    element = datatype(r, node, pointer)
    declared = schema.get("x-shape", schema.get("shape"))
    if isinstance(declared, list) and all(isinstance(d, int) for d in declared):
        dims = [int(d) for d in declared]
    return replace_type(element, shape=tuple(dims))


def read_params(r: Reporter, schema: Any, pointer: str) -> tuple[Param, ...]:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return ()
    required = set(required_list(schema))
    params = []
    for name, sub in schema["properties"].items():
        sub_pointer = f"{pointer}/properties/{escape_token(str(name))}"
        param_type = datatype(r, sub, sub_pointer)
        has_default = isinstance(sub, dict) and "default" in sub
        default: JSONValue = sub.get("default") if has_default and isinstance(sub, dict) else None
        shape: tuple[int, ...] | None = None
        declared = sub.get("x-shape", sub.get("shape")) if isinstance(sub, dict) else None
        if isinstance(declared, list) and all(isinstance(d, int) for d in declared):
            shape = tuple(int(d) for d in declared)
        elif param_type.kind is Kind.ARRAY:
            shape = (-1,)
        description = sub.get("description") if isinstance(sub, dict) else None
        params.append(
            Param(
                str(name),
                param_type,
                default,
                has_default,
                name in required,
                shape,
                description if isinstance(description, str) else None,
            )
        )
    return tuple(params)


def datatype(r: Reporter, schema: Any, pointer: str) -> DataType:
    """The logical type of a normalized schema."""
    return _datatype(schema, r, pointer)


def required_list(schema: Mapping[str, Any]) -> list[str]:
    required = schema.get("required")
    return [str(r) for r in required] if isinstance(required, list) else []


def replace_type(t: DataType, **changes: Any) -> DataType:
    values = {name: getattr(t, name) for name in DataType.__dataclass_fields__}
    values.update(changes)
    return DataType(**values)


def _bounds(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The bounds keywords of a normalized schema, as DataType fields (malformed ones were dropped)."""
    out: dict[str, Any] = {}
    for attr, keyword in BOUND_KEYWORDS.items():
        value = schema.get(keyword)
        if keyword == "pattern":
            if isinstance(value, str):
                out[attr] = value
        elif is_number(value):
            out[attr] = value
    return out


def _datatype(schema: Any, resolver: Reporter, pointer: str) -> DataType:
    if schema is True or schema == {}:
        return DataType(Kind.ANY, schema={})
    if not isinstance(schema, dict):
        return DataType(Kind.ANY, schema={})
    description = schema.get("description") if isinstance(schema.get("description"), str) else None
    enum: tuple[JSONValue, ...] | None = None
    if isinstance(schema.get("enum"), list):
        enum = tuple(schema["enum"])
    elif "const" in schema:
        enum = (schema["const"],)

    types = schema.get("type")
    type_list = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
    nullable = "null" in type_list
    non_null = [t for t in type_list if t != "null"]

    if not non_null:
        for combinator in ("oneOf", "anyOf"):
            combined, nullable = _combined_type(schema, combinator, resolver, pointer, nullable, enum, description)
            if combined is not None:
                return combined
    if not non_null:
        if "properties" in schema:
            non_null = ["object"]
        elif "items" in schema or "prefixItems" in schema:
            non_null = ["array"]
        elif types == "null" or type_list == ["null"]:
            return DataType(Kind.NULL, True, enum=enum, description=description, schema=schema)
        else:
            return DataType(
                Kind.ANY, nullable, enum=enum, format=schema.get("format"), description=description, schema=schema
            )
    if len(non_null) > 1:
        alternatives = tuple(_datatype({**schema, "type": t}, resolver, pointer) for t in non_null)
        return DataType(Kind.UNION, nullable, variants=alternatives, enum=enum, description=description, schema=schema)

    kind_name = non_null[0]
    fmt = schema.get("format") if isinstance(schema.get("format"), str) else None
    common: dict[str, Any] = {
        "nullable": nullable,
        "enum": enum,
        "format": fmt,
        "description": description,
        "schema": schema,
        **_bounds(schema),
    }
    kind = kind_of(kind_name, fmt)
    if kind in SCALAR_KINDS or kind is Kind.NULL:
        return DataType(kind, **common)
    if kind_name == "array":
        return _array_type(schema, resolver, pointer, common)
    if kind_name == "object":
        return _object_type(schema, resolver, pointer, common)
    # normalize() has already reported and dropped any type name JSON Schema does not have.
    return DataType(Kind.ANY, nullable, description=description, schema=schema)


def _combined_type(
    schema: dict[str, Any],
    combinator: str,
    resolver: Reporter,
    pointer: str,
    nullable: bool,
    enum: tuple[JSONValue, ...] | None,
    description: str | None,
) -> tuple[DataType | None, bool]:
    """A `oneOf`/`anyOf` without `type`: its one non-null branch, or a union; a null branch makes it nullable."""
    branches = schema.get(combinator)
    if not isinstance(branches, list):
        return None, nullable
    variants: list[DataType] = []
    for i, branch in enumerate(branches):
        if isinstance(branch, dict) and branch.get("type") == "null":
            nullable = True
            continue
        variants.append(_datatype(branch, resolver, f"{pointer}/{combinator}/{i}"))
    if len(variants) == 1:
        only = variants[0]
        merged = replace_type(
            only, nullable=only.nullable or nullable, description=description or only.description, schema=schema
        )
        return merged, nullable
    if variants:
        union = DataType(
            Kind.UNION, nullable, variants=tuple(variants), enum=enum, description=description, schema=schema
        )
        return union, nullable
    return None, nullable


def _array_type(schema: dict[str, Any], resolver: Reporter, pointer: str, common: dict[str, Any]) -> DataType:
    items = schema.get("items")
    prefix = schema.get("prefixItems")
    item_type: DataType | None = None
    positions: tuple[DataType, ...] | None = None
    if isinstance(prefix, list) and prefix:
        positions = tuple(_datatype(p, resolver, f"{pointer}/prefixItems/{i}") for i, p in enumerate(prefix))
    if isinstance(items, (dict, bool)) and items is not False:
        item_type = _datatype(items, resolver, f"{pointer}/items")
    elif positions:
        distinct = {v.display() for v in positions}
        item_type = positions[0] if len(distinct) == 1 else DataType(Kind.UNION, variants=positions)
    closed = positions is not None and (items is False or schema.get("maxItems") == len(positions))
    declared = schema.get("x-shape", schema.get("shape"))
    shape = tuple(int(d) for d in declared) if isinstance(declared, list) else None
    return DataType(Kind.ARRAY, items=item_type, shape=shape, prefix_items=positions, closed=closed, **common)


def _object_type(schema: dict[str, Any], resolver: Reporter, pointer: str, common: dict[str, Any]) -> DataType:
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        fields = object_columns(resolver, schema, pointer)
        return DataType(Kind.OBJECT, fields=fields, **common)
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        value_type = _datatype(additional, resolver, f"{pointer}/additionalProperties")
        return DataType(Kind.MAP, items=value_type, **common)
    return DataType(Kind.OBJECT, **common)


def request_kind(fields: tuple[Column, ...]) -> RequestKind:
    """Which object request a request body's fields make, read as MLflow's server and Model Serving read it."""
    names = {f.name for f in fields}
    if "messages" in names:
        return RequestKind.CHAT_AGENT if names & {"context", "custom_inputs"} else RequestKind.CHAT
    if "prompt" in names:
        return RequestKind.COMPLETIONS
    field = next((f for f in fields if f.name == "input"), None)
    if field is not None:
        # Embeddings take texts; the Responses API takes items (objects with a role or a type).
        return RequestKind.RESPONSES if _holds_objects(field.type) else RequestKind.EMBEDDINGS
    return RequestKind.OTHER


def _holds_objects(t: DataType) -> bool:
    if t.kind is Kind.OBJECT:
        return True
    if t.kind is Kind.ARRAY and t.items is not None:
        return _holds_objects(t.items)
    return t.kind is Kind.UNION and any(_holds_objects(v) for v in t.variants)
