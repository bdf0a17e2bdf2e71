"""Normalization: an OpenAPI schema object becomes JSON Schema 2020-12, with what had to be repaired reported.

OpenAPI 3.0 `nullable` becomes a `null` type, boolean exclusive bounds become numbers, tuple
`items` become `prefixItems`, defaults are coerced to their type, malformed keywords are dropped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from schemakit.core.lint import URI_KEYWORDS, Reporter, json_name, keyword_problem, report_uri_keyword
from schemakit.core.refs import escape_token
from schemakit.core.types import BINARY_FORMATS, DATETIME_FORMATS

__all__ = ["KNOWN_FORMATS", "allow_null", "normalize"]

#: `format` values that real documents and OpenAPI use; others are reported.
KNOWN_FORMATS = (
    BINARY_FORMATS
    | DATETIME_FORMATS
    | frozenset(
        {
            "int32",
            "int64",
            "float",
            "double",
            "date",
            "time",
            "duration",
            "password",
            "email",
            "uri",
            "uri-reference",
            "uuid",
            "hostname",
            "ipv4",
            "ipv6",
            "regex",
            "json-pointer",
            "iri",
            "idn-email",
            "unknown",
        }
    )
)

_SUBSCHEMA_DICT_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LIST_KEYS = ("prefixItems", "oneOf", "anyOf", "allOf")
_SUBSCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)


def normalize(r: Reporter, schema: Any, pointer: str) -> Any:
    """JSON Schema 2020-12 for an OpenAPI schema object; reports what it had to repair."""
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        r.report("schema-invalid", "error", pointer, f"a schema must be an object, got {schema!r:.60}")
        return {}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in URI_KEYWORDS:
            # Never handed on: a validator would resolve it, fetching or reading what the document names.
            report_uri_keyword(r, key, value, f"{pointer}/{escape_token(key)}")
            continue
        problem = keyword_problem(key, value, r.is_31)
        if problem is not None:
            # Downstream validators would crash on, or silently ignore, a malformed keyword.
            code = "invalid-type" if key == "type" else "schema-invalid"
            r.report(code, "error", f"{pointer}/{escape_token(key)}", f"{problem}; ignored")
            continue
        if key in _SUBSCHEMA_DICT_KEYS and isinstance(value, dict):
            out[key] = {
                name: normalize(r, sub, f"{pointer}/{key}/{escape_token(str(name))}") for name, sub in value.items()
            }
        elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [normalize(r, sub, f"{pointer}/{key}/{i}") for i, sub in enumerate(value)]
        elif key == "items" and isinstance(value, list):
            # OpenAPI 3.0 / draft 4 tuple form: items as a list means prefixItems.
            out["prefixItems"] = [normalize(r, sub, f"{pointer}/items/{i}") for i, sub in enumerate(value)]
        elif key in _SUBSCHEMA_KEYS and isinstance(value, (dict, bool)):
            out[key] = normalize(r, value, f"{pointer}/{key}")
        else:
            out[key] = value

    if not r.is_31:
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if out.get(bound) is True and limit in out:
                out[bound] = out.pop(limit)
            elif out.get(bound) is False:
                out.pop(bound)

    fmt = out.get("format")
    if isinstance(fmt, str):
        if fmt == "unknown":
            r.report(
                "unknown-type",
                "warning",
                f"{pointer}/format",
                "type unknown to the server's signature (format: unknown); any value is accepted",
            )
            out.pop("type", None)
        elif fmt not in KNOWN_FORMATS:
            r.report("unknown-format", "warning", f"{pointer}/format", f"unknown format {fmt!r}")

    if "nullable" in out:
        nullable = out.pop("nullable")
        if r.is_31:
            r.report(
                "nullable-in-3.1",
                "warning",
                f"{pointer}/nullable",
                "'nullable' is an OpenAPI 3.0 keyword, not part of 3.1; honoured as \"null allowed\"",
            )
        if nullable is True:
            out = allow_null(out)

    if "default" in out:
        out["default"] = _coerce_default(r, out, out["default"], f"{pointer}/default")
    return out


def _coerce_default(r: Reporter, schema: dict[str, Any], default: Any, pointer: str) -> Any:
    types = _types_of(schema)
    if not types or _fits(default, types):
        return default
    coerced = _coerce(default, types)
    if coerced is _FAILED:
        r.report(
            "default-invalid",
            "error",
            pointer,
            f"default {default!r:.60} is not a {'/'.join(sorted(types))} and cannot be read as one",
        )
        return default
    r.report(
        "default-type-mismatch",
        "warning",
        pointer,
        f"default {json.dumps(default)} is a {json_name(default)} but the schema says "
        f"{'/'.join(sorted(types))}; read as {json.dumps(coerced)}",
    )
    return coerced


def allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"] if kind != "null" else "null"
    elif isinstance(kind, list):
        if "null" not in kind:
            out["type"] = [*kind, "null"]
    else:
        annotations: dict[str, Any] = {
            k: out.pop(k) for k in ("description", "title", "default", "examples", "example") if k in out
        }
        if not out:
            return {**annotations}
        return {**annotations, "anyOf": [out, {"type": "null"}]}
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _types_of(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return set()


def _fits(value: Any, types: set[str]) -> bool:
    name = json_name(value)
    if name in types:
        return True
    if name == "integer" and "number" in types:
        return True
    return name == "number" and "integer" in types and float(value).is_integer()


_FAILED = object()


def _coerce(value: Any, types: set[str]) -> Any:
    for kind in ("integer", "number", "boolean", "array", "object", "string", "null"):
        if kind not in types:
            continue
        candidate = _coerce_one(value, kind)
        if candidate is not _FAILED:
            return candidate
    return _FAILED


def _coerce_one(value: Any, kind: str) -> Any:
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return json.dumps(value)
        return _FAILED
    if not isinstance(value, str):
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        return _FAILED
    text = value.strip()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return _FAILED
            return int(number) if number.is_integer() else _FAILED
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return _FAILED
        if not math.isfinite(number):
            return _FAILED
        return int(number) if re.fullmatch(r"[+-]?\d+", text) else number
    if kind == "boolean":
        lowered = text.lower()
        return True if lowered == "true" else False if lowered == "false" else _FAILED
    if kind == "null":
        return None if text.lower() in ("null", "none", "") else _FAILED
    try:
        parsed = json.loads(text)
    except ValueError:
        return _FAILED
    if kind == "array" and isinstance(parsed, list):
        return parsed
    if kind == "object" and isinstance(parsed, dict):
        return parsed
    return _FAILED
