"""Document rules: the codes `schemakit validate` reports, as data, and the checks that are not part of reading.

`DOCUMENT_RULES` is the one list of them: `validate --list-rules` prints it and the table in
docs/core.md is rendered from it. Reading a document (`normalize`, `infer`, `resolve`) reports
through `Reporter.report`, which refuses a code that is not declared here.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from schemakit.core.model import Diagnostic, FormatKind, InputFormat, Severity
from schemakit.runtime.keywords import URI_KEYWORDS as RUNTIME_URI_KEYWORDS
from schemakit.runtime.rules import Rule, rule_index

__all__ = [
    "DOCUMENT_RULES",
    "DOCUMENT_RULE_INDEX",
    "STANDARD_DIALECTS",
    "URI_KEYWORDS",
    "Reporter",
    "check_chat_roles",
    "check_examples",
    "cross_check",
    "report_uri_keyword",
    "format_names",
    "is_number",
    "json_name",
    "keyword_problem",
    "without_uri_keywords",
    "pattern_problem",
]


def _rule(code: str, severity: Severity, summary: str, note: str = "") -> Rule:
    return Rule(code, "document", severity, summary, note)


#: Every document rule, in the order of the guide's table.
DOCUMENT_RULES: tuple[Rule, ...] = (
    _rule("openapi-structure", "error", "openapi-spec-validator's finding (at most 50 per document)"),
    _rule("info-missing", "error", "no `info` object (endpoint name and config version)"),
    _rule("info-title-missing", "warning", "`info.title` (the endpoint name) is empty or missing"),
    _rule("servers-not-one", "warning", "`servers` missing, empty, more than one entry, or an entry without `url`"),
    _rule(
        "server-not-https",
        "warning",
        "the server URL is plain `http` to a host other than this machine: "
        "generated clients would send the token unencrypted",
    ),
    _rule("no-invocations", "error", "no usable `/served-models/<name>/invocations` path"),
    _rule("unknown-path", "warning", "a path that is not `/served-models/<name>/invocations` (ignored)"),
    _rule("no-post", "error", "an invocations path without a POST operation"),
    _rule("no-request-body", "error", "no request body, or one without `content`"),
    _rule("request-not-json", "error", "the request body offers no `application/json`"),
    _rule("no-request-schema", "error", "the JSON request body has no schema"),
    _rule(
        "no-response-schema",
        "warning",
        "no JSON schema for the 200 response: clients cannot know what predictions look like",
    ),
    _rule("no-input-format", "error", "the served model accepts no input format schemakit recognizes"),
    _rule(
        "unknown-input-format",
        "error",
        "a `oneOf`/`anyOf` branch keyed by none of `dataframe_split`, `dataframe_records`, `instances`, `inputs`",
    ),
    _rule("duplicate-input-format", "warning", "two branches describe the same format (the first is used)"),
    _rule(
        "oneof-ambiguous",
        "warning",
        "no branch requires its own format key, so plain JSON Schema lets a payload match several branches; "
        "schemakit, like the server, picks the branch by the payload's top-level key",
    ),
    _rule(
        "split-columns-mismatch",
        "error",
        "`dataframe_split.columns` lists a different number of names than the rows' `prefixItems` type",
    ),
    _rule(
        "split-columns-not-names",
        "error",
        "`dataframe_split.columns` lists a name that is not a string (no payload can name that column)",
    ),
    _rule(
        "split-required-unknown",
        "warning",
        "the split's `required fields: ...` names a column that `columns` does not list",
    ),
    _rule("required-unknown", "warning", "a `required` list names a property that is not defined"),
    _rule("formats-disagree-columns", "warning", "one format accepts columns another does not list"),
    _rule("formats-disagree-required", "warning", "formats require different sets of columns"),
    _rule("formats-disagree-types", "warning", "a column has different types in different formats"),
    _rule(
        "example-not-wrapped",
        "warning",
        'a branch\'s example is the bare split object, not `{"dataframe_split": ...}`',
    ),
    _rule(
        "default-type-mismatch",
        "warning",
        'a `default` of the wrong JSON type that can be read as the right one (`"0.5"` for a double: read as 0.5)',
    ),
    _rule("default-invalid", "error", 'a `default` that cannot be read as its schema\'s type (`"warm"` for a double)'),
    _rule(
        "nullable-in-3.1",
        "warning",
        'the OpenAPI 3.0 keyword `nullable` in a 3.1 document; honoured as "null allowed"',
    ),
    _rule(
        "unknown-type",
        "warning",
        "`format: unknown`: a type the server's signature does not know; any value is accepted",
    ),
    _rule(
        "unknown-format",
        "warning",
        "a `format` value that neither OpenAPI nor serving documents use (`decimal128`)",
    ),
    _rule("invalid-type", "error", 'a `type` that JSON Schema does not have (`"int"`)'),
    _rule("schema-invalid", "error", 'a schema that is not an object (`"long"` where a schema belongs)'),
    _rule("ref-cycle", "error", 'a `$ref` cycle; cut where it closes and read as "any value" there'),
    _rule("ref-unresolved", "error", "a local `$ref` that points at nothing"),
    _rule(
        "chat-role-missing-system",
        "warning",
        "a chat document's message `role` enum leaves out `system`, which the API (and databricks-sdk) takes",
    ),
    _rule(
        "uri-keyword",
        "error",
        "a keyword that names a URI (`$dynamicRef`, `$recursiveRef`, `$anchor`, `$dynamicAnchor`, `$id` with a base, "
        "`$schema` or `jsonSchemaDialect` other than the standard ones): dropped, since schemakit resolves only the "
        "local `$ref`s it inlines itself",
    ),
)

#: Keywords that name or define URIs a validator would resolve; dropped from every schema. The runtime's
#: list, without `$ref` (local ones are inlined, others reported on their own), plus draft 4's `id`,
#: which validators reading an old dialect honour.
URI_KEYWORDS: frozenset[str] = (RUNTIME_URI_KEYWORDS - {"$ref"}) | {"id"}
#: `$schema` / `jsonSchemaDialect` values that name a dialect validators know without fetching it.
STANDARD_DIALECTS: frozenset[str] = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2019-09/schema",
        "http://json-schema.org/draft-07/schema#",
        "http://json-schema.org/draft-07/schema",
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-04/schema#",
        "https://spec.openapis.org/oas/3.1/dialect/base",
        "https://spec.openapis.org/oas/3.1/dialect/2024-11-10",
    }
)

DOCUMENT_RULE_INDEX: Mapping[str, Rule] = rule_index(DOCUMENT_RULES)


class Reporter:
    """Collects the diagnostics of one document; every code must be a declared document rule.

    Building the model is plain functions over this value (`normalize`, `datatype`, `build_schema`, ...),
    each taking the reporter first, as openapi-python-client's parser does: no inheritance tower.
    """

    def __init__(self, openapi: str) -> None:
        self.openapi = openapi
        self.is_31 = openapi.startswith("3.1")
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: str, severity: Severity, pointer: str, message: str) -> None:
        if code not in DOCUMENT_RULE_INDEX:
            # A programming error: a new code must be declared (and so documented) first.
            raise ValueError(f"document rule {code!r} is not declared in DOCUMENT_RULES")
        self.diagnostics.append(Diagnostic(code, severity, pointer, message))


# -- checks across a served model's formats and examples, beyond reading each of them --------------------


def check_chat_roles(r: Reporter, fmt: InputFormat, pointer: str) -> None:
    """The published chat document's `role` enum leaves out `system`, which the API takes."""
    if fmt.request is None or fmt.request.value not in ("chat", "chat_agent"):
        return
    messages = fmt.column("messages")
    item = messages.type.items if messages is not None else None
    role = item.field("role") if item is not None else None
    enum = role.type.enum if role is not None else None
    if enum is None or "system" in enum:
        return
    r.report(
        "chat-role-missing-system",
        "warning",
        f"{pointer}/properties/messages/items/properties/role/enum",
        f"the role enum lists {', '.join(repr(v) for v in enum)[:120]} but not 'system', which the chat API "
        "takes; payloads with a system message are accepted with a warning",
    )


def report_uri_keyword(r: Reporter, key: str, value: Any, pointer: str) -> None:
    """Report a URI-bearing keyword that is about to be dropped (silently when it names nothing to fetch)."""
    if key in ("$schema", "jsonSchemaDialect") and value in STANDARD_DIALECTS:
        return
    if key in ("$id", "id") and isinstance(value, str) and _names_no_base(value):
        return
    if key == "id" and not isinstance(value, str):
        return  # a property-like `id` that is no URI at all: not a keyword here
    shown = value if isinstance(value, str) else json_name(value)
    r.report(
        "uri-keyword",
        "error",
        pointer,
        f"{key} {shown!r:.80} names a URI a validator would resolve (schemakit never fetches or reads what a "
        "document names); dropped",
    )


def check_examples(r: Reporter, branch: dict[str, Any], kind: FormatKind, pointer: str) -> None:
    examples = branch.get("examples")
    if not isinstance(examples, list):
        return
    for index, example in enumerate(examples):
        if isinstance(example, dict) and kind.value not in example and {"columns", "data"} & set(example):
            r.report(
                "example-not-wrapped",
                "warning",
                f"{pointer}/examples/{index}",
                f'the example is a bare split object; a payload wraps it as {{"{kind.value}": ...}}',
            )


def cross_check(r: Reporter, formats: list[InputFormat], pointer: str) -> None:
    tabular = [f for f in formats if f.columns and f.kind is not FormatKind.OBJECT and f.named_columns]
    for i, first in enumerate(tabular):
        for second in tabular[i + 1 :]:
            a, b = first.kind.value, second.kind.value
            names_a = {c.name for c in first.columns}
            names_b = {c.name for c in second.columns}
            for only, there, missing in ((names_b - names_a, b, a), (names_a - names_b, a, b)):
                if only:
                    r.report(
                        "formats-disagree-columns",
                        "warning",
                        pointer,
                        f"{there} accepts column(s) {', '.join(sorted(only))} that {missing} does not list",
                    )
            if first.required_columns != second.required_columns:
                r.report(
                    "formats-disagree-required",
                    "warning",
                    pointer,
                    f"{a} requires {format_names(first.required_columns)} but {b} requires "
                    f"{format_names(second.required_columns)}",
                )
            for column in first.columns:
                other = second.column(column.name)
                if other is not None and other.type.display() != column.type.display():
                    r.report(
                        "formats-disagree-types",
                        "warning",
                        pointer,
                        f"column {column.name} is {column.type.display()} in {a} but {other.type.display()} in {b}",
                    )


_JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})
_SCHEMA_LIST_KEYWORDS = frozenset({"oneOf", "anyOf", "allOf"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_KEYWORDS = frozenset(
    {"additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedItems",
     "unevaluatedProperties", "additionalItems"}
)  # fmt: skip
_COUNT_KEYWORDS = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"}
)
_NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- one function per keyword (as jsonschema's `_keywords.py`): why a value cannot be that keyword's -------------
#: Each takes (keyword, value, is_31) and returns the reason, or None when the value can be the keyword's.
KeywordCheck = Callable[[str, Any, bool], str | None]


def _schema_list(key: str, value: Any, is_31: bool) -> str | None:
    # Each element is checked where it stands, as a schema.
    if not isinstance(value, list) or not value:
        return f"'{key}' must be a non-empty list of schemas, got {json_name(value)}"
    return None


def _prefix_items(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, list):
        return f"'prefixItems' must be a list of schemas, got {json_name(value)}"
    return None


def _items(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, (dict, bool, list)):
        return f"'items' must be a schema, got {json_name(value)}"
    return None


def _schema_map(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, dict):
        return f"'{key}' must map names to schemas, got {json_name(value)}"
    return None


def _pattern_properties(key: str, value: Any, is_31: bool) -> str | None:
    problem = _schema_map(key, value, is_31)
    if problem is not None:
        return problem
    for pattern in value:
        reason = pattern_problem(pattern)
        if reason is not None:
            return f"patternProperties key {pattern!r} is not a regular expression ({reason})"
    return None


def _schema(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, (dict, bool)):
        return f"'{key}' must be a schema, got {json_name(value)}"
    return None


def _required(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"'required' must be a list of names, got {json_name(value)}"
    return None


def _enum(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, list):
        return f"'enum' must be a list of values, got {json_name(value)}"
    return None


def _type(key: str, value: Any, is_31: bool) -> str | None:
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    unknown = [n for n in names or [] if not (isinstance(n, str) and n in _JSON_TYPES)]
    if names is None or not names or unknown:
        shown = unknown[0] if unknown else value
        return f"unknown JSON Schema type {shown!r:.60} (expected {', '.join(sorted(_JSON_TYPES))})"
    return None


def _count(key: str, value: Any, is_31: bool) -> str | None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return f"'{key}' must be a non-negative integer, got {value!r:.60}"
    return None


def _number(key: str, value: Any, is_31: bool) -> str | None:
    # OpenAPI 3.0 (JSON Schema draft 4) writes exclusive bounds as booleans beside minimum/maximum.
    boolean_bound = not is_31 and key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool)
    if not (is_number(value) or boolean_bound):
        return f"'{key}' must be a number, got {value!r:.60}"
    if key == "multipleOf" and is_number(value) and value <= 0:
        return f"'multipleOf' must be greater than 0, got {value!r}"
    return None


def _pattern(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, str):
        return f"'pattern' must be a regular expression string, got {json_name(value)}"
    reason = pattern_problem(value)
    if reason is not None:
        return f"pattern {value!r:.60} is not a regular expression ({reason})"
    return None


def _unique_items(key: str, value: Any, is_31: bool) -> str | None:
    if not isinstance(value, bool):
        return f"'uniqueItems' must be true or false, got {value!r:.60}"
    return None


#: The keywords whose values the lint checks, each with its check; other keywords pass as they are.
KEYWORD_CHECKS: Mapping[str, KeywordCheck] = {
    **dict.fromkeys(_SCHEMA_LIST_KEYWORDS, _schema_list),
    "prefixItems": _prefix_items,
    "items": _items,
    **dict.fromkeys(_SCHEMA_MAP_KEYWORDS, _schema_map),
    "patternProperties": _pattern_properties,
    **dict.fromkeys(_SCHEMA_KEYWORDS, _schema),
    "required": _required,
    "enum": _enum,
    "type": _type,
    **dict.fromkeys(_COUNT_KEYWORDS, _count),
    **dict.fromkeys(_NUMBER_KEYWORDS, _number),
    "pattern": _pattern,
    "uniqueItems": _unique_items,
}


def keyword_problem(key: str, value: Any, is_31: bool) -> str | None:
    """Why a keyword's value cannot be a JSON Schema keyword's value, or None when it can."""
    check = KEYWORD_CHECKS.get(key)
    return check(key, value, is_31) if check is not None else None


def pattern_problem(pattern: str) -> str | None:
    try:
        # A pattern Python reads differently in a future version (a nested set, say) is still one: the
        # FutureWarning is Python's notice to its own users, not a finding, and must not reach the terminal.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def format_names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return "{" + ", ".join(listed) + "}" if listed else "nothing"


def json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _names_no_base(uri: str) -> bool:
    """Whether an `$id` changes no base a reference could be resolved against (empty or a bare fragment)."""
    return uri == "" or uri.startswith("#")


def without_uri_keywords(document: Any) -> Any:
    """A copy of a document with every URI-bearing keyword removed, for validators that would resolve them.

    Walks the document as data (a property named `$id` goes too): the copy is only ever validated,
    never read for the model.
    """
    if isinstance(document, dict):
        return {
            k: without_uri_keywords(v)
            for k, v in document.items()
            if not (k in URI_KEYWORDS and (k != "id" or isinstance(v, str))) and k != "jsonSchemaDialect"
        }
    if isinstance(document, list):
        return [without_uri_keywords(v) for v in document]
    return document
