"""Which JSON Schema keywords the runtime evaluates, which it ignores, and which it refuses.

The runtime never resolves a reference: resolved documents have every `$ref` inlined
by schemakit itself, and anything URI-bearing left in a plan (`$ref`, `$dynamicRef`,
`$recursiveRef`, `$id`, `$schema`) could make a validator read a file or open a
connection the user never named. Such keywords, and the few assertions the runtime
does not implement (`unevaluated*`, the array form of `items`), make `Engine` refuse
to build with `UnsupportedSchemaError`, naming the keyword and where it is;
`unsupported_keywords` lets code generation warn or refuse before that.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "ANNOTATIONS",
    "IMPLEMENTED_KEYWORDS",
    "URI_KEYWORDS",
    "UnsupportedSchemaError",
    "assertions",
    "unsupported_keywords",
    "unsupported_uses",
]


class UnsupportedSchemaError(ValueError):
    """The plan uses a JSON Schema keyword the runtime does not evaluate, or one that could fetch a URI."""


#: Keywords this runtime evaluates itself (plus annotations, which assert nothing).
IMPLEMENTED_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "dependentSchemas",
        "items",
        "prefixItems",
        "contains",
        "minContains",
        "maxContains",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "format",
    }
)

#: Keywords that carry or define a URI a validator would resolve: refused, never resolved. The one list:
#: the core drops the same ones from documents (all but `$ref`, whose local targets it inlines itself).
URI_KEYWORDS = frozenset(
    {
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$anchor",
        "$id",
        "$schema",
        "$vocabulary",
    }
)

#: Keywords refused: URI-bearing ones, and assertions the runtime does not implement.
UNSUPPORTED = URI_KEYWORDS | {"unevaluatedItems", "unevaluatedProperties"}

SCHEMA_MAP_KEYS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
SCHEMA_LIST_KEYS = ("prefixItems", "allOf", "anyOf", "oneOf")
SCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "propertyNames",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
)

#: Keywords that assert nothing. `$anchor`/`$dynamicAnchor` only name a place for a
#: reference, and every reference is refused.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "example",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "format",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "$defs",
        "definitions",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$vocabulary",
        "dependencies",
        "additionalItems",
        "discriminator",
        "xml",
        "externalDocs",
    }
)


def assertions(schema: Mapping[str, Any]) -> set[str]:
    """The keywords of a schema that assert something: not annotations, not `x-` extensions."""
    return {key for key in schema if key not in ANNOTATIONS and not key.startswith("x-")}


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def unsupported_uses(schema: Any) -> Iterator[tuple[str, str]]:
    """(keyword, JSON pointer) for every keyword in `schema` the runtime refuses."""
    stack: list[tuple[Any, str]] = [(schema, "")]
    while stack:
        node, pointer = stack.pop()
        if not isinstance(node, dict):
            continue
        for key in sorted(k for k in node if k in UNSUPPORTED):
            yield key, f"{pointer}/{_escape(key)}"
        if isinstance(node.get("items"), list):
            yield "items (array form)", f"{pointer}/items"
        for key in SCHEMA_MAP_KEYS:
            if isinstance(node.get(key), dict):
                stack.extend((sub, f"{pointer}/{key}/{_escape(str(name))}") for name, sub in node[key].items())
        for key in SCHEMA_LIST_KEYS:
            if isinstance(node.get(key), list):
                stack.extend((sub, f"{pointer}/{key}/{index}") for index, sub in enumerate(node[key]))
        for key in SCHEMA_KEYS:
            if key in node and not isinstance(node[key], list):
                stack.append((node[key], f"{pointer}/{key}"))


def unsupported_keywords(plan_or_schema: Any) -> list[str]:
    """The keywords a plan (or a schema) uses that the runtime refuses, sorted; empty when it runs as is."""
    schema = plan_or_schema
    if isinstance(plan_or_schema, Mapping) and "request_schema" in plan_or_schema:
        schema = plan_or_schema["request_schema"]
    return sorted({keyword for keyword, _pointer in unsupported_uses(schema)})


def refusal(model: str, schema: Any) -> str | None:
    """Why the runtime refuses the schema (keywords and pointers, one line), or None."""
    uses = list(unsupported_uses(schema))
    if not uses:
        return None
    shown = ", ".join(f"{keyword} at {pointer or '/'}" for keyword, pointer in uses[:5])
    more = f" and {len(uses) - 5} more" if len(uses) > 5 else ""
    uri = any(keyword in URI_KEYWORDS for keyword, _ in uses)
    why = (
        "references are never resolved at validation time (schemakit inlines the document's own "
        "references when it loads it; anything left could read a file or open a connection)"
        if uri
        else "the schemakit runtime does not implement it"
    )
    return f"the request schema of {model!r} uses {shown}{more}: {why}"
