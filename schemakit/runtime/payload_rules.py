"""The payload rules as data: the serving rules a payload must follow beyond JSON Schema, and the schema codes.

Each serving rule is a `PayloadRule`: its code (what `--disable` takes), default
severity, one-line summary, and how each path keeps it:

- `scope`: `value` rules are compiled into the checks of every schema they apply to
  (their `hook` builds that check), `request` rules look at the payload's structure
  once (`schemakit.runtime.structure`), `size` rules at its length before parsing;
- `fast`: how the msgspec fast path keeps the rule: `decoder` (its types refuse what
  breaks the rule), `texts` (one regex pass over the decoded texts of a column),
  `declines` (the fast path leaves any payload the rule could apply to to the exact
  path). The fast path only ever accepts, so a rule is never weaker there.

`SERVING_RULES` (code -> summary) and `SCHEMA_CODES` are derived from these tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .jsonsem import INT32, INT64, expected_name
from .report import Path, Sink, path_parts
from .rules import Rule, rule_index
from .values import is_base64, is_iso8601

__all__ = [
    "FORMAT_KEYS",
    "INTEGER_KEY_DETAIL",
    "KNOWN_GAPS",
    "LLM_REQUEST_BYTES",
    "OBJECT_REQUIRED_FIELDS",
    "PAYLOAD_RULES",
    "REQUEST_BYTES",
    "SCHEMA_CODES",
    "SCHEMA_RULES",
    "SERVING_RULES",
    "PayloadRule",
    "severities",
    "value_hooks",
]

#: Top-level keys that select an input format, in the order MLflow's server looks for them.
FORMAT_KEYS: tuple[str, ...] = ("dataframe_split", "dataframe_records", "instances", "inputs")

#: The field an object request cannot go without, by the first of these its schema declares:
#: chat (`messages`), completions (`prompt`), embeddings and the Responses API (`input`).
OBJECT_REQUIRED_FIELDS: tuple[str, ...] = ("messages", "prompt", "input")

#: Values the serving API takes though its published documents leave them out: (list field,
#: field of each item, value). The chat document's `role` enum lists user and assistant; the
#: API (and databricks-sdk's ChatMessageRole) also takes system.
KNOWN_GAPS: tuple[tuple[str, str, str], ...] = (("messages", "role", "system"),)

#: Model Serving's request size limits (the plan carries the one of its endpoint).
REQUEST_BYTES = 16 * 1024 * 1024
LLM_REQUEST_BYTES = 4 * 1024 * 1024

Check = Callable[[Any, Path, Sink], bool]
#: Builds a value rule's check for one schema: (schema, severity) -> check, or None where it does not apply.
ValueHook = Callable[[Mapping[str, Any], str], Check | None]


@dataclass(frozen=True, slots=True)
class PayloadRule(Rule):
    """A serving rule: a `Rule` of the payload family, with how the exact and the fast path apply it."""

    scope: Literal["request", "value", "size"] = "request"
    fast: Literal["decoder", "texts", "declines"] = "declines"
    #: The severity under `strict` (None: the same as by default).
    strict_severity: str | None = None
    hook: ValueHook | None = field(default=None, compare=False, repr=False)


def _names(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _int_range(schema: Mapping[str, Any], severity: str) -> Check | None:
    if "integer" not in _names(schema):
        return None
    fmt = schema.get("format")
    low, high = INT32 if fmt == "int32" else INT64
    bits = "int32" if fmt == "int32" else "int64"
    expected = f"{expected_name(schema)} ({bits})"
    detail = f"outside the {bits} range"

    def int_range(value: Any, path: Path, sink: Sink) -> bool:
        cls = type(value)
        if cls is int or (cls is not bool and isinstance(value, int)):
            if not low <= value <= high:
                sink.add("int-range", path, expected, value, detail, severity=severity)
        elif cls is float and value.is_integer() and not low <= value <= high:
            sink.add("int-range", path, expected, value, detail, severity=severity)
        return True

    return int_range


def _float_for_integer(schema: Mapping[str, Any], severity: str) -> Check | None:
    names = _names(schema)
    if "integer" not in names or "number" in names:
        return None
    expected = expected_name(schema)
    # Not "column": the same rule applies to a chat request's fields and to params.
    loose = (
        "a whole-number float where an integer is expected; MLflow reads it as the integer, "
        "but send it without '.0' to be sure"
    )
    refused = "a float where an integer is expected; the server refuses it here: send it without '.0'"
    strict = (
        "a whole-number float where an integer is expected; MLflow would read it as the integer, "
        "but strict checking counts it as an error: send it without '.0'"
    )

    def float_for_integer(value: Any, path: Path, sink: Sink) -> bool:
        if type(value) is float and value.is_integer() and math.isfinite(value):
            if not _converted(path):
                sink.add("float-for-integer", path, expected, value, refused, severity="error")
            elif severity == "warning":
                sink.add("float-for-integer", path, expected, value, loose, severity="warning")
            else:
                sink.add("float-for-integer", path, expected, value, strict, severity="error")
        return True

    return float_for_integer


def _converted(path: Path) -> bool:
    """Whether the server converts a whole-number float at this place: a dataframe cell.

    MLflow builds a DataFrame and casts each column, so `1.0` in a long column becomes 1; it
    checks the elements of an array value, tensor elements and params strictly and refuses
    `1.0` there, and so does its LLM path for a field of an object request (a ResponsesAgent
    refuses `max_output_tokens: 2.0`).
    """
    parts = path_parts(path)
    if len(parts) < 3:
        return False
    head = parts[0]
    if head == "dataframe_split":
        return len(parts) == 4 and parts[1] == "data"
    if head in ("dataframe_records", "instances"):
        return len(parts) == 3 and isinstance(parts[2], str)
    if head == "inputs":
        return len(parts) == 3 and isinstance(parts[1], str) and isinstance(parts[2], int)
    return False


#: What `integer-null` says of a row without an integer key that other rows have.
INTEGER_KEY_DETAIL = (
    "no value for this integer column, which other rows have: the server's DataFrame fills it with NaN "
    "and refuses the request; send a number in every row, or leave the column out of all of them"
)


def _integer_null(schema: Mapping[str, Any], severity: str) -> Check | None:
    names = _names(schema)
    if "integer" not in names or "null" not in names:
        return None  # without null in its types, the type check reports a null
    expected = expected_name(schema)
    detail = (
        "null in an integer column: the server's DataFrame holds it as NaN and refuses the request, "
        "optional column or not; send a number, or leave the column out of every row"
    )

    def integer_null(value: Any, path: Path, sink: Sink) -> bool:
        if value is None and _converted(path):
            sink.add("integer-null", path, expected, None, detail, severity=severity, show_value=False)
        return True

    return integer_null


def _non_finite(schema: Mapping[str, Any], severity: str) -> Check | None:
    if "number" not in _names(schema):
        return None
    expected = expected_name(schema)

    def finite(value: Any, path: Path, sink: Sink) -> bool:
        if type(value) is float and not math.isfinite(value):
            sink.add("non-finite", path, expected, value, "NaN and Infinity are not valid JSON", severity=severity)
        return True

    return finite


def _text_rule(code: str, formats: tuple[str, ...], valid: Callable[[str], bool]) -> ValueHook:
    def build(schema: Mapping[str, Any], severity: str) -> Check | None:
        if "string" not in _names(schema) or schema.get("format") not in formats:
            return None
        expected = expected_name(schema)

        def text_rule(value: Any, path: Path, sink: Sink) -> bool:
            if isinstance(value, str) and not valid(value):
                sink.add(code, path, expected, value, severity=severity)
            return True

        return text_rule

    return build


#: The serving rules, on by default; each can be switched off by its code.
PAYLOAD_RULES: tuple[PayloadRule, ...] = (
    PayloadRule(
        "payload-too-large",
        "payload",
        "error",
        "the request body is within the endpoint's size limit",
        "16 MB; 4 MB for foundation-model, external-model and agent endpoints; --max-request-bytes",
        scope="size",
        fast="decoder",
    ),
    PayloadRule(
        "one-format",
        "payload",
        "error",
        "exactly one of dataframe_split, dataframe_records, instances, inputs, and one this model accepts",
        fast="decoder",
    ),
    PayloadRule(
        "split-keys",
        "payload",
        "error",
        "dataframe_split holds data, optional columns and an optional index, nothing else",
        fast="decoder",
    ),
    PayloadRule("duplicate-column", "payload", "error", "no column is named twice in dataframe_split.columns"),
    PayloadRule(
        "row-width",
        "payload",
        "error",
        "every dataframe_split row has one value per column (per name in columns, else per model column)",
        fast="decoder",
    ),
    PayloadRule(
        "columns-by-name",
        "payload",
        "error",
        "when columns is reordered or partial, row values are typed by column name, not position",
    ),
    PayloadRule(
        "required-column",
        "payload",
        "error",
        "dataframe_split.columns names every required column (the 'required fields:' list)",
    ),
    PayloadRule(
        "split-columns",
        "payload",
        "error",
        "dataframe_split has columns when the model's columns have names (without it the server numbers "
        "the values 0, 1, ... and finds none of them)",
    ),
    PayloadRule(
        "empty-input",
        "payload",
        "error",
        "at least one row in dataframe_records, instances and inputs (the server refuses none)",
        fast="decoder",
    ),
    PayloadRule(
        "required-field",
        "payload",
        "error",
        "an object request has the field the server requires: messages (chat), prompt (completions), "
        "input (embeddings, responses)",
        "even where the document has no required list",
    ),
    PayloadRule(
        "float-for-integer",
        "payload",
        "warning",
        "no whole-number floats such as 1.0 where an integer is expected",
        "a warning in a dataframe cell, which MLflow reads as 1; an error in request fields, arrays, "
        "tensors and params, and everywhere with --strict; 3.5 is always a type error",
        scope="value",
        fast="decoder",
        strict_severity="error",
        hook=_float_for_integer,
    ),
    PayloadRule(
        "int-range",
        "payload",
        "error",
        "integers fit int64 (long) or int32 (integer)",
        scope="value",
        fast="decoder",
        hook=_int_range,
    ),
    PayloadRule(
        "integer-null",
        "payload",
        "error",
        "no null in an integer (int32, int64) column, optional or not, and no dataframe_records row "
        "without an integer key that other rows have (the server's DataFrame makes both NaN and refuses them)",
        "a column left out of every row is fine",
        scope="value",
        fast="decoder",
        hook=_integer_null,
    ),
    PayloadRule(
        "non-finite",
        "payload",
        "error",
        "no NaN, Infinity or -Infinity",
        scope="value",
        fast="decoder",
        hook=_non_finite,
    ),
    PayloadRule(
        "binary-base64",
        "payload",
        "error",
        "binary values are base64 text",
        scope="value",
        fast="texts",
        hook=_text_rule("binary-base64", ("binary", "byte"), is_base64),
    ),
    PayloadRule(
        "datetime-iso8601",
        "payload",
        "error",
        "datetime values are ISO-8601 text; in a column also without a UTC offset, from 1677 to 2262, "
        "and every row written in the form of the column's first value",
        scope="value",
        fast="texts",
        hook=_text_rule("datetime-iso8601", ("date-time", "datetime"), is_iso8601),
    ),
    PayloadRule(
        "known-document-gap",
        "payload",
        "warning",
        "a value the API takes though the document leaves it out (the chat role system)",
        "accepted: the published document is narrower than the server",
    ),
    PayloadRule(
        "unknown-column",
        "payload",
        "warning",
        "columns the model does not declare (the server drops them)",
        fast="decoder",
    ),
    PayloadRule(
        "unknown-param",
        "payload",
        "warning",
        "params the model does not declare (the server drops them)",
        fast="decoder",
    ),
)

rule_index(PAYLOAD_RULES)  # a code declared twice fails at import
_BY_CODE: Mapping[str, PayloadRule] = {rule.code: rule for rule in PAYLOAD_RULES}

#: Serving rules by code: what each one asks of a payload.
SERVING_RULES: Mapping[str, str] = MappingProxyType({rule.code: rule.summary for rule in PAYLOAD_RULES})

#: The value rules, in the order their checks run on a value.
VALUE_RULES: tuple[PayloadRule, ...] = tuple(rule for rule in PAYLOAD_RULES if rule.scope == "value")


def _schema_rule(code: str, summary: str) -> Rule:
    return Rule(code, "payload", "error", summary)


#: JSON Schema problems: the keyword, in kebab case (always on; they are what the schema says).
SCHEMA_RULES: tuple[Rule, ...] = (
    _schema_rule("invalid-json", "the payload is not JSON (line and column given)"),
    _schema_rule("type", "wrong JSON type"),
    _schema_rule("enum", "not one of the allowed values"),
    _schema_rule("const", "not the one allowed value"),
    _schema_rule("required", "a required property is missing"),
    _schema_rule("additional-properties", "a property the schema does not allow"),
    _schema_rule("property-names", "a property name the schema does not allow"),
    _schema_rule("min-properties", "too few properties"),
    _schema_rule("max-properties", "too many properties"),
    _schema_rule("dependent-required", "a property that another one requires is missing"),
    _schema_rule("min-items", "too few items"),
    _schema_rule("max-items", "too many items"),
    _schema_rule("unique-items", "items are not unique"),
    _schema_rule("contains", "too few (or too many) items match 'contains'"),
    _schema_rule("minimum", "number below the minimum"),
    _schema_rule("maximum", "number above the maximum"),
    _schema_rule("exclusive-minimum", "number not above the exclusive minimum"),
    _schema_rule("exclusive-maximum", "number not below the exclusive maximum"),
    _schema_rule("multiple-of", "number not a multiple of multipleOf"),
    _schema_rule("min-length", "string too short"),
    _schema_rule("max-length", "string too long"),
    _schema_rule("pattern", "string does not match the pattern (or the pattern cannot be matched safely)"),
    _schema_rule("one-of", "matches none, or more than one, of the oneOf alternatives"),
    _schema_rule("any-of", "matches none of the anyOf alternatives"),
    _schema_rule("not", "matches a schema it must not match"),
    _schema_rule("false-schema", "nothing is allowed here"),
    _schema_rule("unresolved-ref", "the schema refers elsewhere and schemakit never fetches or reads a reference"),
)

rule_index((*PAYLOAD_RULES, *SCHEMA_RULES))  # no code is declared twice across the two tables

#: Codes of JSON Schema problems.
SCHEMA_CODES: Mapping[str, str] = MappingProxyType({rule.code: rule.summary for rule in SCHEMA_RULES})


def severities(rules: Iterable[str], *, strict: bool = False) -> dict[str, str]:
    """The severity of each switched-on serving rule; `strict` raises the rules that have a strict severity."""
    out: dict[str, str] = {}
    for code in rules:
        rule = _BY_CODE[code]
        out[code] = (rule.strict_severity or rule.severity) if strict else rule.severity
    return out


def value_hooks(schema: Mapping[str, Any], rules: Mapping[str, str]) -> list[Check]:
    """The checks of the switched-on value rules (`rules`: code -> severity) for one schema."""
    hooks: list[Check] = []
    for rule in VALUE_RULES:
        severity = rules.get(rule.code)
        if severity is not None and rule.hook is not None:
            check = rule.hook(schema, severity)
            if check is not None:
                hooks.append(check)
    return hooks
