"""Payload validation engine: exact JSON Schema 2020-12 verdicts plus the serving rules.

This module is self-contained on purpose: it imports only the standard library
(and, when installed, msgspec for the fast path and jsonschema for keywords it
does not implement itself), so code generation copies it byte for byte into
generated client packages, which then give the same verdicts and messages as
`schemakit check`.

An `Engine` is built from a JSON-able *plan* (see `schemakit.check.validator.make_plan`)::

    {"plan_version": 1, "model": "my-model-2", "request_schema": {...},
     "formats": [{"kind": "dataframe_split", "key": "dataframe_split", "schema": {...},
                  "named_columns": true,
                  "columns": [{"name": "a", "position": 0, "required": true, "type": "long"}],
                  "params": [{"name": "temperature", "type": "double"}]}],
     "unsupported": []}

With every serving rule disabled, the verdict equals JSON Schema 2020-12
validation of `request_schema` (as `jsonschema.Draft202012Validator` gives it,
without format assertion). Keywords outside the implemented subset are listed in
`unsupported`; the engine then delegates the schema verdict to jsonschema when it
is importable and refuses to build (`UnsupportedSchemaError`) when it is not.
"""

from __future__ import annotations

import datetime as _dt
import gc
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Annotated, Any, Literal

try:  # the fast accept path; everything works without it, only slower
    import msgspec
except ImportError:  # pragma: no cover - exercised in generated packages without msgspec
    msgspec = None  # type: ignore[assignment]

__all__ = [
    "ENGINE_VERSION",
    "FORMAT_KEYS",
    "IMPLEMENTED_KEYWORDS",
    "SCHEMA_CODES",
    "SERVING_RULES",
    "Engine",
    "PayloadDecodeError",
    "PayloadReport",
    "Problem",
    "UnsupportedSchemaError",
    "is_base64",
    "is_iso8601",
    "parse_json",
    "unsupported_keywords",
]

ENGINE_VERSION = 1

#: Top-level keys that select an input format, in the order MLflow's server looks for them.
FORMAT_KEYS: tuple[str, ...] = ("dataframe_split", "dataframe_records", "instances", "inputs")

#: Serving rules, on by default; each can be switched off by its code.
SERVING_RULES: Mapping[str, str] = {
    "one-format": "exactly one of dataframe_split, dataframe_records, instances, inputs, and one this model accepts",
    "split-keys": "dataframe_split holds data, optional columns and an optional index, nothing else",
    "duplicate-column": "no column is named twice in dataframe_split.columns",
    "row-width": "every dataframe_split row has one value per column (per name in columns, else per model column)",
    "columns-by-name": "when columns is reordered or partial, row values are typed by column name, not position",
    "required-column": "dataframe_split.columns names every required column (the 'required fields:' list)",
    "split-columns": (
        "dataframe_split has columns when the model's columns have names (without it the server numbers "
        "the values 0, 1, ... and finds none of them)"
    ),
    "empty-input": "at least one row in dataframe_records, instances and inputs (the server refuses none)",
    "float-for-integer": "no floats such as 1.0 in integer columns (MLflow does not convert them)",
    "int-range": "integers fit int64 (long) or int32 (integer)",
    "non-finite": "no NaN, Infinity or -Infinity",
    "binary-base64": "binary values are base64 text",
    "datetime-iso8601": (
        "datetime values are ISO-8601 text; in a column also without a UTC offset, from 1677 to 2262, "
        "and every row written in the form of the column's first value"
    ),
    "unknown-column": "columns the model does not declare (warning: the server drops them)",
    "unknown-param": "params the model does not declare (warning: the server drops them)",
}

_WARNING_RULES = frozenset({"unknown-column", "unknown-param"})

#: Codes of JSON Schema problems (the keyword, in kebab case).
SCHEMA_CODES: Mapping[str, str] = {
    "invalid-json": "the payload is not JSON (line and column given)",
    "type": "wrong JSON type",
    "enum": "not one of the allowed values",
    "const": "not the one allowed value",
    "required": "a required property is missing",
    "additional-properties": "a property the schema does not allow",
    "property-names": "a property name the schema does not allow",
    "min-properties": "too few properties",
    "max-properties": "too many properties",
    "dependent-required": "a property that another one requires is missing",
    "min-items": "too few items",
    "max-items": "too many items",
    "unique-items": "items are not unique",
    "contains": "too few (or too many) items match 'contains'",
    "minimum": "number below the minimum",
    "maximum": "number above the maximum",
    "exclusive-minimum": "number not above the exclusive minimum",
    "exclusive-maximum": "number not below the exclusive maximum",
    "multiple-of": "number not a multiple of multipleOf",
    "min-length": "string too short",
    "max-length": "string too long",
    "pattern": "string does not match the pattern",
    "one-of": "matches none, or more than one, of the oneOf alternatives",
    "any-of": "matches none of the anyOf alternatives",
    "not": "matches a schema it must not match",
    "false-schema": "nothing is allowed here",
}

#: Keywords this engine evaluates itself (plus annotations, which assert nothing).
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

#: Assertion keywords of 2020-12 that this engine does not evaluate (references are inlined upstream).
_UNSUPPORTED = frozenset(
    {"$ref", "$dynamicRef", "$recursiveRef", "unevaluatedItems", "unevaluatedProperties", "$schema", "$id"}
)
_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")
_SCHEMA_LIST_KEYS = ("prefixItems", "allOf", "anyOf", "oneOf")
_SCHEMA_KEYS = (
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
_ANNOTATIONS = frozenset(
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
        "$vocabulary",
        "dependencies",
        "additionalItems",
        "discriminator",
        "xml",
        "externalDocs",
    }
)

_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)


class UnsupportedSchemaError(ValueError):
    """The plan uses JSON Schema keywords this engine does not implement, and jsonschema is not installed."""


class PayloadDecodeError(ValueError):
    """The bytes are not JSON; carries the 1-based line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


# -- reports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload (or worth a warning): where, what was expected, what was found."""

    code: str
    severity: str  # "error" or "warning"
    path: str  # JSONPath-like: $.dataframe_split.data[3][1]
    row: int | None
    column: str | None
    expected: str | None
    found: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "row": self.row,
            "column": self.column,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{self.severity} [{self.code}] {self.message}"


@dataclass(frozen=True)
class PayloadReport:
    """Every problem found (up to the limit), with totals that count all of them."""

    ok: bool
    model: str
    format: str | None
    problems: tuple[Problem, ...]
    total_errors: int
    total_warnings: int
    #: Problems per code, counting those beyond the limit too.
    counts: Mapping[str, int] = field(default_factory=dict)
    #: True when more problems were found than `problems` holds.
    truncated: bool = False

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "model": self.model,
            "format": self.format,
            "total_errors": self.total_errors,
            "total_warnings": self.total_warnings,
            "counts": dict(sorted(self.counts.items())),
            "truncated": self.truncated,
            "problems": [p.to_json() for p in self.problems],
        }

    def summary(self) -> str:
        """One line: the verdict and the problem counts per code."""
        fmt = f" ({self.format})" if self.format else ""
        verdict = "valid" if self.ok else "invalid"
        head = (
            f"{verdict} for {self.model}{fmt}: {_plural(self.total_errors, 'error')}, "
            f"{_plural(self.total_warnings, 'warning')}"
        )
        if self.counts:
            head += " (" + ", ".join(f"{code}: {n:,}" for code, n in sorted(self.counts.items())) + ")"
        return head

    def to_text(self, max_problems: int = 5) -> str:
        """A compact message: the summary, the first few problems, how many more there are."""
        lines = [self.summary()]
        shown = self.problems[:max_problems]
        lines.extend(f"- {p.severity} [{p.code}] {p.message}" for p in shown)
        hidden = self.total_errors + self.total_warnings - len(shown)
        if hidden > 0:
            lines.append(f"- ... and {hidden:,} more")
        return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


# -- problem collection ----------------------------------------------------------------

# A path is a linked list of (parent, key) pairs, built cheaply while walking and
# turned into text only for the problems that are kept.
_Path = Any
_ROOT: _Path = None


class _Sink:
    """Collects problems: keeps the first `limit`, counts every one, by code."""

    __slots__ = ("counts", "errors", "kept", "limit", "verdict_only", "warnings")

    def __init__(self, limit: int, verdict_only: bool = False) -> None:
        self.limit = limit
        self.verdict_only = verdict_only
        self.kept: list[tuple[Any, ...]] = []
        self.counts: dict[str, int] = {}
        self.errors = 0
        self.warnings = 0

    def add(
        self,
        code: str,
        path: _Path,
        expected: str | None,
        value: Any,
        detail: str | None = None,
        *,
        severity: str = "error",
        column: str | None = None,
        show_value: bool = True,
    ) -> None:
        if severity == "error":
            self.errors += 1
        else:
            self.warnings += 1
        if self.verdict_only:
            return
        self.counts[code] = self.counts.get(code, 0) + 1
        if len(self.kept) < self.limit:
            found = _describe_value(value) if show_value else None
            self.kept.append((code, severity, path, expected, found, detail, column))

    def merge(self, other: _Sink) -> None:
        self.errors += other.errors
        self.warnings += other.warnings
        if self.verdict_only:
            return
        for code, n in other.counts.items():
            self.counts[code] = self.counts.get(code, 0) + n
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept.extend(other.kept[:room])


class _RuleBuffer(_Sink):
    """A branch's sink: schema errors decide the branch, rule problems wait for the branch to be chosen."""

    __slots__ = ("rules",)

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.rules = _Sink(limit)


def _describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**40 else f"{str(value)[:20]}...({len(str(abs(value)))} digits)"
        return f"integer {text}"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (math.inf, -math.inf):
            return "Infinity" if value > 0 else "-Infinity"
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {_shorten(value)}"
    if isinstance(value, list):
        return f"array of {len(value):,} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        keys = ", ".join(_shorten(str(k), 20) for k in list(value)[:3])
        more = ", ..." if len(value) > 3 else ""
        return f"object {{{keys}{more}}}" if value else "empty object"
    return f"{type(value).__name__} (not a JSON value)"


def _shorten(text: str, limit: int = 40) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted if len(quoted) <= limit else quoted[: limit - 4] + '..."'


def _path_parts(path: _Path) -> list[Any]:
    parts: list[Any] = []
    while path is not None:
        path, key = path
        parts.append(key)
    parts.reverse()
    return parts


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _path_text(parts: Sequence[Any]) -> str:
    out = ["$"]
    for key in parts:
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif _IDENT.match(key):
            out.append(f".{key}")
        else:
            out.append(f"[{json.dumps(key, ensure_ascii=False)}]")
    return "".join(out)


# -- JSON semantics as JSON Schema defines them ------------------------------------------


def _json_key(value: Any) -> Any:
    """A hashable key under which JSON-equal values (1 == 1.0, True != 1) are equal."""
    if value is True or value is False:
        return ("b", value)
    if value is None:
        return ("z",)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(_json_key(v) for v in value))
    if isinstance(value, dict):
        return ("d", frozenset((k, _json_key(v)) for k, v in value.items()))
    return ("o", id(value))


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    return False


def _expected_name(schema: Mapping[str, Any]) -> str:
    """How a person names the type a schema wants: long, double, string?, array, ..."""
    kind = schema.get("type")
    names = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
    fmt = schema.get("format")
    shown = []
    for name in names:
        if name == "integer":
            shown.append("integer" if fmt == "int32" else "long")
        elif name == "number":
            shown.append("float" if fmt == "float" else "double")
        elif name == "string" and fmt in ("binary", "byte"):
            shown.append("binary (base64 text)")
        elif name == "string" and fmt in ("date-time", "datetime"):
            shown.append("datetime (ISO-8601 text)")
        elif name != "null":
            shown.append(str(name))
    if "null" in names:
        shown.append("null")
    return " or ".join(shown) if shown else "any value"


# What MLflow 3.17 reads, as its scoring server showed (tests/mlflow): a date, or a date and a
# time with "T" or " ", minutes, optional seconds and an optional "." fraction of 1-9 digits;
# params may carry "Z" or an offset. Year 0000, "," fractions and a lowercase "z" are refused
# by its param parser; columns take them in some positions only, so schemakit refuses them everywhere.
_MONTH_DAY = r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_DATE_TEXT = r"(?!0000)\d{4}" + _MONTH_DAY
_TIME_TEXT = r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?"
_ZONE_TEXT = r"(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)"
_ISO_PARTS = re.compile(rf"({_DATE_TEXT})(?:([T ])({_TIME_TEXT})({_ZONE_TEXT})?)?\Z")
# Days 29-31 are the only ones whose validity depends on the month (and the year).
_LATE_DAY = re.compile(r"-\d\d-(?:29|30|31)")
_LATE_DAY_LINE = re.compile(r"^\d{4}-\d\d-(?:29|30|31)", re.MULTILINE)
# A datetime column becomes pandas datetime64[ns]: instants outside its range are refused.
_NS_FIRST = "1677-09-21T00:12:43.145224192"
_NS_LAST = "2262-04-11T23:47:16.854775807"
_NS_YEARS = r"(?:167[7-9]|16[89]\d|1[7-9]\d\d|2[01]\d\d|22[0-5]\d|226[0-2])"
_NS_EDGE_LINE = re.compile(r"^(?:1677|2262)-", re.MULTILINE)
_DIGITS = str.maketrans("", "", "0123456789")
_BASE64_TEXT = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
_BASE64 = re.compile(_BASE64_TEXT + r"\Z")
_BASE64_MANY = re.compile(rf"{_BASE64_TEXT}(?:\n{_BASE64_TEXT})*\Z")


def is_iso8601(text: str) -> bool:
    """ISO-8601 date or date-time text (a "Z" or an offset allowed), as MLflow reads datetime params."""
    if _ISO_PARTS.match(text) is None:
        return False
    return _real_date(text)


def _real_date(text: str) -> bool:
    if _LATE_DAY.match(text, 4) is not None:
        try:
            _dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            return False
    return True


def _datetime_form(parts: re.Match[str]) -> str:
    """How a datetime is written, digits aside: "" (a date), "T::" (seconds), " ::." (a fraction), ...

    pandas reads a datetime column in the form of its first value and refuses a row
    written in another (with or without seconds, a fraction, "T" or " ").
    """
    return "" if parts[2] is None else parts[2] + parts[3].translate(_DIGITS)


def _in_ns_range(parts: re.Match[str]) -> bool:
    """Whether a zone-free datetime fits pandas' datetime64[ns], which a datetime column becomes."""
    year = int(parts[1][:4])
    if 1677 < year < 2262:
        return True
    time = parts[3] or "00:00"
    if len(time) == 5:
        time += ":00"
    seconds, _, fraction = time.partition(".")
    instant = f"{parts[1]}T{seconds}.{fraction.ljust(9, '0')}"
    return _NS_FIRST <= instant <= _NS_LAST


_FORM_PATTERNS: dict[str, re.Pattern[str]] = {}


def _form_pattern(form: str) -> re.Pattern[str]:
    """Many zone-free datetimes of one form within the datetime64[ns] years, one per line."""
    pattern = _FORM_PATTERNS.get(form)
    if pattern is None:
        one = _NS_YEARS + _MONTH_DAY
        if form:
            one += re.escape(form[0]) + r"(?:[01]\d|2[0-3]):[0-5]\d"
            if form.count(":") == 2:
                one += r":[0-5]\d"
            if form.endswith("."):
                one += r"\.\d{1,9}"
        pattern = _FORM_PATTERNS[form] = re.compile(rf"{one}(?:\n{one})*\Z")
    return pattern


def _datetime_column_passes(strings: list[str], forms: dict[str, str], attr: str) -> bool:
    """Whether a datetime column's texts (one chunk of rows) certainly pass the column checks.

    `forms` keeps the form of the column's first value across chunks.
    """
    if not strings:
        return True
    form = forms.get(attr)
    if form is None:
        parts = _ISO_PARTS.match(strings[0])
        if parts is None or parts[4] is not None:
            return False
        form = forms[attr] = _datetime_form(parts)
    joined = "\n".join(strings)
    if joined.count("\n") != len(strings) - 1:
        return False  # a value with its own newline is not a datetime; the exact path says so
    if _form_pattern(form).match(joined) is None:
        return False
    if _LATE_DAY_LINE.search(joined) is not None and not all(_real_date(t) for t in strings):
        return False
    if _NS_EDGE_LINE.search(joined) is not None:
        for text in strings:
            parts = _ISO_PARTS.match(text)
            if parts is None or not _in_ns_range(parts):
                return False
    return True


def is_base64(text: str) -> bool:
    """Standard, padded base64 text, as MLflow decodes binary columns."""
    return _BASE64.match(text) is not None


def _all_texts_pass(texts: list[Any], kind: str) -> bool:
    """Whether every string in `texts` is valid base64 / ISO-8601; one regex pass over them all."""
    strings = [t for t in texts if type(t) is str]
    if not strings:
        return True
    joined = "\n".join(strings)
    if joined.count("\n") != len(strings) - 1:  # a value with its own newline: check one by one
        check = is_base64 if kind == "binary" else is_iso8601
        return all(check(t) for t in strings)
    if kind == "binary":
        return _BASE64_MANY.match(joined) is not None
    return all(is_iso8601(t) for t in strings)


def _has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


# -- compiling a schema into checks ------------------------------------------------------

_Check = Callable[[Any, _Path, _Sink], bool]


def _accept(value: Any, path: _Path, sink: _Sink) -> bool:
    return True


def _reject(value: Any, path: _Path, sink: _Sink) -> bool:
    sink.add("false-schema", path, "nothing", value, "no value is allowed here")
    return False


class _Compiler:
    """Turns a JSON Schema into nested closures; `rules` are the serving rules switched on."""

    def __init__(self, rules: frozenset[str]) -> None:
        self.rules = rules

    def compile(self, schema: Any) -> _Check:
        if schema is True:
            return self._any_value()
        if schema is False:
            return _reject
        if not isinstance(schema, dict):
            return self._any_value()
        checks: list[_Check] = []
        type_check = self._type(schema)
        for builder in (
            self._enum,
            self._numbers,
            self._strings,
            self._arrays,
            self._objects,
            self._combinators,
        ):
            checks.extend(builder(schema))
        hooks = self._value_rules(schema)
        if not checks and type_check is None and not hooks:
            return self._any_value() if not (set(schema) - _ANNOTATIONS) else _accept
        return _combine(type_check, checks, hooks)

    def _any_value(self) -> _Check:
        if "non-finite" not in self.rules:
            return _accept

        def check(value: Any, path: _Path, sink: _Sink) -> bool:
            if _has_non_finite(value):
                target = sink.rules if isinstance(sink, _RuleBuffer) else sink
                target.add("non-finite", path, "finite numbers", value, "NaN and Infinity are not valid JSON")
            return True

        return check

    # type ------------------------------------------------------------------------------

    def _type(self, schema: Mapping[str, Any]) -> _Check | None:
        if "type" not in schema:
            return None
        kind = schema["type"]
        names = tuple(kind) if isinstance(kind, list) else (kind,)
        expected = _expected_name(schema)
        if names == ("integer",):

            def is_integer(value: Any, path: _Path, sink: _Sink) -> bool:
                cls = type(value)
                if cls is int or (cls is float and value.is_integer()):
                    return True
                if cls is not bool and isinstance(value, int):
                    return True
                sink.add("type", path, expected, value)
                return False

            return is_integer
        if names == ("number",):

            def is_number(value: Any, path: _Path, sink: _Sink) -> bool:
                cls = type(value)
                if cls is float or cls is int or (cls is not bool and isinstance(value, (int, float))):
                    return True
                sink.add("type", path, expected, value)
                return False

            return is_number
        if names == ("string",):

            def is_string(value: Any, path: _Path, sink: _Sink) -> bool:
                if isinstance(value, str):
                    return True
                sink.add("type", path, expected, value)
                return False

            return is_string

        def is_any_of(value: Any, path: _Path, sink: _Sink) -> bool:
            for name in names:
                if _is_type(value, name):
                    return True
            sink.add("type", path, expected, value)
            return False

        return is_any_of

    # serving rules on values -------------------------------------------------------------

    def _value_rules(self, schema: Mapping[str, Any]) -> list[_Check]:
        kind = schema.get("type")
        names = set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()
        fmt = schema.get("format")
        hooks: list[_Check] = []
        expected = _expected_name(schema)
        if "integer" in names:
            float_ok = "number" in names
            low, high = _INT32 if fmt == "int32" else _INT64
            check_range = "int-range" in self.rules
            check_float = "float-for-integer" in self.rules and not float_ok
            bits = "int32" if fmt == "int32" else "int64"
            if check_range or check_float:

                def integer_rules(value: Any, path: _Path, sink: _Sink) -> bool:
                    cls = type(value)
                    if cls is int:
                        if check_range and not low <= value <= high:
                            sink.add("int-range", path, f"{expected} ({bits})", value, f"outside the {bits} range")
                    elif cls is float:
                        if check_float and value.is_integer():
                            sink.add(
                                "float-for-integer",
                                path,
                                expected,
                                value,
                                "the server does not convert floats to integer columns; send it without '.0'",
                            )
                        elif check_range and value.is_integer() and not low <= value <= high:
                            sink.add("int-range", path, f"{expected} ({bits})", value, f"outside the {bits} range")
                    return True

                hooks.append(integer_rules)
        if "number" in names and "non-finite" in self.rules:

            def finite(value: Any, path: _Path, sink: _Sink) -> bool:
                if type(value) is float and not math.isfinite(value):
                    sink.add("non-finite", path, expected, value, "NaN and Infinity are not valid JSON")
                return True

            hooks.append(finite)
        if "string" in names and fmt in ("binary", "byte") and "binary-base64" in self.rules:

            def base64_text(value: Any, path: _Path, sink: _Sink) -> bool:
                if isinstance(value, str) and not is_base64(value):
                    sink.add("binary-base64", path, expected, value)
                return True

            hooks.append(base64_text)
        if "string" in names and fmt in ("date-time", "datetime") and "datetime-iso8601" in self.rules:

            def iso_text(value: Any, path: _Path, sink: _Sink) -> bool:
                if isinstance(value, str) and not is_iso8601(value):
                    sink.add("datetime-iso8601", path, expected, value)
                return True

            hooks.append(iso_text)
        return hooks

    # generic keywords ----------------------------------------------------------------------

    def _enum(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        if isinstance(schema.get("enum"), list):
            allowed = schema["enum"]
            keys = {_json_key(v) for v in allowed}
            shown = ", ".join(json.dumps(v) for v in allowed[:8]) + (", ..." if len(allowed) > 8 else "")

            containers = any(isinstance(v, (list, dict)) for v in allowed)

            def in_enum(value: Any, path: _Path, sink: _Sink) -> bool:
                # Containers are keyed recursively; skip that when no allowed value is one.
                if (containers or not isinstance(value, (list, dict))) and _json_key(value) in keys:
                    return True
                sink.add("enum", path, f"one of {shown}", value)
                return False

            checks.append(in_enum)
        if "const" in schema:
            const_key = _json_key(schema["const"])
            const_text = json.dumps(schema["const"])

            const_container = isinstance(schema["const"], (list, dict))

            def is_const(value: Any, path: _Path, sink: _Sink) -> bool:
                if (const_container or not isinstance(value, (list, dict))) and _json_key(value) == const_key:
                    return True
                sink.add("const", path, const_text, value)
                return False

            checks.append(is_const)
        return checks

    def _numbers(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        comparisons = (
            ("minimum", lambda v, b: v >= b, "at least"),
            ("maximum", lambda v, b: v <= b, "at most"),
            ("exclusiveMinimum", lambda v, b: v > b, "more than"),
            ("exclusiveMaximum", lambda v, b: v < b, "less than"),
        )
        for keyword, holds, words in comparisons:
            bound = schema.get(keyword)
            if isinstance(bound, (int, float)) and not isinstance(bound, bool):
                checks.append(_bound_check(keyword, bound, holds, f"{words} {bound}"))
        divisor = schema.get("multipleOf")
        if isinstance(divisor, (int, float)) and not isinstance(divisor, bool):

            def multiple(value: Any, path: _Path, sink: _Sink) -> bool:
                if not _is_type(value, "number"):
                    return True
                if _not_multiple(value, divisor):
                    sink.add("multiple-of", path, f"a multiple of {divisor}", value)
                    return False
                return True

            checks.append(multiple)
        return checks

    def _strings(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        low = schema.get("minLength")
        high = schema.get("maxLength")
        if isinstance(low, int) or isinstance(high, int):

            def length(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, str):
                    return True
                size = len(value)
                if isinstance(low, int) and size < low:
                    sink.add("min-length", path, f"at least {low} characters", value)
                    return False
                if isinstance(high, int) and size > high:
                    sink.add("max-length", path, f"at most {high} characters", value)
                    return False
                return True

            checks.append(length)
        if isinstance(schema.get("pattern"), str):
            pattern_text = schema["pattern"]
            compiled, failure = _compile_pattern(pattern_text)
            if compiled is None:
                # A pattern Python cannot read decides nothing: say so for each text it should
                # have checked, rather than failing to validate at all.

                def unreadable(value: Any, path: _Path, sink: _Sink) -> bool:
                    if not isinstance(value, str):
                        return True
                    sink.add("pattern", path, f"text matching {pattern_text}", value, failure)
                    return False

                checks.append(unreadable)
            else:
                search = compiled.search

                def matches(value: Any, path: _Path, sink: _Sink) -> bool:
                    if not isinstance(value, str) or search(value):
                        return True
                    sink.add("pattern", path, f"text matching {pattern_text}", value)
                    return False

                checks.append(matches)
        return checks

    def _arrays(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        prefix_schemas = schema.get("prefixItems")
        prefix = [self.compile(s) for s in prefix_schemas] if isinstance(prefix_schemas, list) else []
        rest = self.compile(schema["items"]) if "items" in schema else None
        if prefix or rest is not None:
            checks.append(_items_check(prefix, rest, schema.get("items") is False))
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(low, int) or isinstance(high, int):

            def count(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, list):
                    return True
                if isinstance(low, int) and len(value) < low:
                    sink.add("min-items", path, f"at least {low} items", value)
                    return False
                if isinstance(high, int) and len(value) > high:
                    sink.add("max-items", path, f"at most {high} items", value)
                    return False
                return True

            checks.append(count)
        if schema.get("uniqueItems") is True:

            def unique(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, list):
                    return True
                seen: set[Any] = set()
                for item in value:
                    key = _json_key(item)
                    if key in seen:
                        sink.add("unique-items", path, "unique items", item, "appears more than once")
                        return False
                    seen.add(key)
                return True

            checks.append(unique)
        if "contains" in schema:
            contains = self.compile(schema["contains"])
            min_contains = schema.get("minContains", 1)
            max_contains = schema.get("maxContains")

            def has(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, list):
                    return True
                matched = sum(1 for item in value if contains(item, None, _Sink(0, True)))
                if matched < min_contains or (isinstance(max_contains, int) and matched > max_contains):
                    sink.add("contains", path, "items matching 'contains'", value, f"{matched} match")
                    return False
                return True

            checks.append(has)
        return checks

    def _objects(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        found_properties = schema.get("properties")
        properties: dict[str, Any] = found_properties if isinstance(found_properties, dict) else {}
        found_patterns = schema.get("patternProperties")
        patterns: dict[str, Any] = found_patterns if isinstance(found_patterns, dict) else {}
        compiled_props = {name: self.compile(sub) for name, sub in properties.items()}
        compiled_patterns: list[tuple[re.Pattern[str], _Check]] = []
        unreadable_patterns: list[tuple[str, str]] = []
        for pattern_text, sub in patterns.items():
            compiled, failure = _compile_pattern(pattern_text)
            if compiled is None:
                unreadable_patterns.append((pattern_text, failure))
            else:
                compiled_patterns.append((compiled, self.compile(sub)))
        if unreadable_patterns:

            def readable_patterns(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, dict) or not value:
                    return True
                for pattern_text, failure in unreadable_patterns:
                    sink.add(
                        "pattern",
                        path,
                        f"property names checked against {pattern_text}",
                        None,
                        f"patternProperties: {failure}",
                        show_value=False,
                    )
                return False

            checks.append(readable_patterns)
        additional = None
        if "additionalProperties" in schema:
            additional = self.compile(schema["additionalProperties"])
        additional_false = schema.get("additionalProperties") is False
        if compiled_props or compiled_patterns or additional is not None:
            checks.append(_properties_check(compiled_props, compiled_patterns, additional, additional_false))
        required = schema.get("required")
        if isinstance(required, list) and required:
            names = [str(r) for r in required]

            def has_required(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for name in names:
                    if name not in value:
                        sink.add("required", path, name, None, "missing", column=name, show_value=False)
                        ok = False
                return ok

            checks.append(has_required)
        if "propertyNames" in schema:
            names_check = self.compile(schema["propertyNames"])

            def property_names(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for key in value:
                    if not names_check(key, path, _Sink(0, True)):
                        sink.add("property-names", path, "allowed property names", key)
                        ok = False
                return ok

            checks.append(property_names)
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if isinstance(low, int) or isinstance(high, int):

            def size(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                if isinstance(low, int) and len(value) < low:
                    sink.add("min-properties", path, f"at least {low} properties", value)
                    return False
                if isinstance(high, int) and len(value) > high:
                    sink.add("max-properties", path, f"at most {high} properties", value)
                    return False
                return True

            checks.append(size)
        dependent = schema.get("dependentRequired")
        if isinstance(dependent, dict) and dependent:

            def dependent_required(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for trigger, needed in dependent.items():
                    if trigger in value:
                        for name in needed:
                            if name not in value:
                                sink.add(
                                    "dependent-required",
                                    path,
                                    name,
                                    None,
                                    f"required when {trigger} is present",
                                    column=name,
                                    show_value=False,
                                )
                                ok = False
                return ok

            checks.append(dependent_required)
        dependent_schemas = schema.get("dependentSchemas")
        if isinstance(dependent_schemas, dict) and dependent_schemas:
            compiled_dependent = {k: self.compile(s) for k, s in dependent_schemas.items()}

            def dependent_schema(value: Any, path: _Path, sink: _Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for trigger, check in compiled_dependent.items():
                    if trigger in value and not check(value, path, sink):
                        ok = False
                return ok

            checks.append(dependent_schema)
        return checks

    def _combinators(self, schema: Mapping[str, Any]) -> list[_Check]:
        checks: list[_Check] = []
        if isinstance(schema.get("allOf"), list):
            parts = [self.compile(s) for s in schema["allOf"]]

            def all_of(value: Any, path: _Path, sink: _Sink) -> bool:
                ok = True
                for part in parts:
                    if not part(value, path, sink):
                        ok = False
                        if sink.verdict_only:
                            return False
                return ok

            checks.append(all_of)
        for keyword in ("anyOf", "oneOf"):
            if isinstance(schema.get(keyword), list):
                branches = [self.compile(s) for s in schema[keyword]]
                checks.append(_choice_check(keyword, branches, schema[keyword]))
        if "not" in schema:
            negated = self.compile(schema["not"])

            def is_not(value: Any, path: _Path, sink: _Sink) -> bool:
                if negated(value, path, _Sink(0, True)):
                    sink.add("not", path, "a value the 'not' schema rejects", value)
                    return False
                return True

            checks.append(is_not)
        if "if" in schema:
            condition = self.compile(schema["if"])
            then = self.compile(schema["then"]) if "then" in schema else None
            otherwise = self.compile(schema["else"]) if "else" in schema else None

            def if_then_else(value: Any, path: _Path, sink: _Sink) -> bool:
                chosen = then if condition(value, path, _Sink(0, True)) else otherwise
                return chosen(value, path, sink) if chosen is not None else True

            checks.append(if_then_else)
        return checks


def _combine(type_check: _Check | None, checks: list[_Check], hooks: list[_Check]) -> _Check:
    if type_check is not None and not checks and len(hooks) == 1:
        hook = hooks[0]

        def typed_with_rule(value: Any, path: _Path, sink: _Sink) -> bool:
            if not type_check(value, path, sink):
                return False
            hook(value, path, sink.rules if isinstance(sink, _RuleBuffer) else sink)
            return True

        return typed_with_rule
    if type_check is not None and not checks and not hooks:
        return type_check

    def validate(value: Any, path: _Path, sink: _Sink) -> bool:
        # A value of the wrong type fails every other keyword too; one message says it best.
        if type_check is not None and not type_check(value, path, sink):
            return False
        ok = True
        for check in checks:
            if not check(value, path, sink):
                ok = False
                if sink.verdict_only:
                    return False
        if ok and hooks:
            target = sink.rules if isinstance(sink, _RuleBuffer) else sink
            for hook in hooks:
                hook(value, path, target)
        return ok

    return validate


def _format_value_schema(fmt: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The schema of the format key's value in a format's branch ({} when the branch is not that simple)."""
    branch = fmt.get("schema")
    properties = branch.get("properties") if isinstance(branch, dict) else None
    value = properties.get(key) if isinstance(properties, dict) else None
    return value if isinstance(value, dict) else {}


def _compile_pattern(text: str) -> tuple[re.Pattern[str] | None, str]:
    """The compiled pattern, or None and why Python's `re` cannot read it (never an exception)."""
    try:
        return re.compile(text), ""
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        reason = exc.msg if isinstance(exc, re.error) else str(exc) or type(exc).__name__
        where = f" at position {exc.pos}" if isinstance(exc, re.error) and exc.pos is not None else ""
        return None, (
            f"the document's pattern {_shorten(text)} is not a regular expression Python can read "
            f"({reason}{where}), so no text can be checked against it; fix the pattern in the document"
        )


def _bound_check(keyword: str, bound: float, holds: Callable[[Any, Any], bool], expected: str) -> _Check:
    code = re.sub(r"(?<!^)([A-Z])", r"-\1", keyword).lower()

    def check(value: Any, path: _Path, sink: _Sink) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        if holds(value, bound):
            return True
        sink.add(code, path, expected, value)
        return False

    return check


def _not_multiple(value: float, divisor: float) -> bool:
    if isinstance(divisor, float):
        quotient = value / divisor
        try:
            return int(quotient) != quotient
        except OverflowError:
            from fractions import Fraction

            return bool(Fraction(value) % Fraction(divisor))
        except ValueError:
            return True
    return bool(value % divisor)


def _items_check(prefix: list[_Check], rest: _Check | None, rest_false: bool) -> _Check:
    n_prefix = len(prefix)

    def items(value: Any, path: _Path, sink: _Sink) -> bool:
        if not isinstance(value, list):
            return True
        ok = True
        verdict_only = sink.verdict_only
        for index, check in enumerate(prefix[: len(value)]):
            if not check(value[index], (path, index), sink):
                ok = False
                if verdict_only:
                    return False
        if rest is not None and len(value) > n_prefix:
            if rest_false:
                sink.add(
                    "false-schema", (path, n_prefix), "no more items", value[n_prefix], f"at most {n_prefix} items"
                )
                return False
            index = n_prefix
            for item in value[n_prefix:] if n_prefix else value:
                if not rest(item, (path, index), sink):
                    ok = False
                    if verdict_only:
                        return False
                index += 1
        return ok

    return items


def _properties_check(
    props: dict[str, _Check],
    patterns: list[tuple[re.Pattern[str], _Check]],
    additional: _Check | None,
    additional_false: bool,
) -> _Check:
    def properties(value: Any, path: _Path, sink: _Sink) -> bool:
        if not isinstance(value, dict):
            return True
        ok = True
        for key, item in value.items():
            known = False
            check = props.get(key)
            if check is not None:
                known = True
                if not check(item, (path, key), sink):
                    ok = False
            for pattern, pattern_check in patterns:
                if pattern.search(key):
                    known = True
                    if not pattern_check(item, (path, key), sink):
                        ok = False
            if not known and additional is not None:
                if additional_false:
                    sink.add("additional-properties", (path, key), "no such property", item, "not allowed here")
                    ok = False
                elif not additional(item, (path, key), sink):
                    ok = False
            if not ok and sink.verdict_only:
                return False
        return ok

    return properties


def _choice_check(keyword: str, branches: list[_Check], schemas: list[Any]) -> _Check:
    code = "any-of" if keyword == "anyOf" else "one-of"

    def choose(value: Any, path: _Path, sink: _Sink) -> bool:
        if sink.verdict_only:
            valid = 0
            for branch in branches:
                if branch(value, path, _Sink(0, True)):
                    valid += 1
                    if keyword == "anyOf" or valid > 1:
                        break
            ok = valid >= 1 if keyword == "anyOf" else valid == 1
            if not ok:
                sink.errors += 1
            return ok
        buffers: list[_RuleBuffer] = []
        valid_indexes: list[int] = []
        for index, branch in enumerate(branches):
            buffer = _RuleBuffer(sink.limit)
            if branch(value, path, buffer):
                valid_indexes.append(index)
                if keyword == "anyOf":
                    buffers.append(buffer)
                    break
            buffers.append(buffer)
        rule_target = sink.rules if isinstance(sink, _RuleBuffer) else sink
        if (keyword == "anyOf" and valid_indexes) or (keyword == "oneOf" and len(valid_indexes) == 1):
            rule_target.merge(buffers[valid_indexes[0]].rules)
            return True
        if valid_indexes:
            listed = ", ".join(str(i) for i in valid_indexes)
            sink.add(code, path, "exactly one alternative", value, f"matches alternatives {listed} of oneOf")
            return False
        # No branch fits: explain the one the value was most likely meant for, the branch
        # whose failures are all below this value (right type, right keys, wrong details).
        deeper = [b for b in buffers if b.kept and all(entry[2] is not path for entry in b.kept)]
        if len(deeper) == 1:
            sink.merge(deeper[0])
            rule_target.merge(deeper[0].rules)
            return False
        wanted = " | ".join(_branch_name(s) for s in schemas)
        sink.add(code, path, wanted, value, f"matches none of the {len(branches)} alternatives")
        return False

    return choose


def _branch_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "anything" if schema is True else "nothing"
    name = _expected_name(schema)
    required = schema.get("required")
    if isinstance(required, list) and required:
        name = f"{name} with {', '.join(map(str, required))}"
    return name


def unsupported_keywords(schema: Any) -> list[str]:
    """Assertion keywords in `schema` that this engine does not evaluate itself."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        found.update(k for k in node if k in _UNSUPPORTED)
        if isinstance(node.get("items"), list):
            found.add("items (array form)")
        for key in _SCHEMA_MAP_KEYS:
            if isinstance(node.get(key), dict):
                stack.extend(node[key].values())
        for key in _SCHEMA_LIST_KEYS:
            if isinstance(node.get(key), list):
                stack.extend(node[key])
        for key in _SCHEMA_KEYS:
            if key in node:
                stack.append(node[key])
    return sorted(found)


# -- the fast accept path (msgspec) ------------------------------------------------------


class _NoFastPath(Exception):
    """A schema shape the typed decoder cannot mirror exactly; the exact path handles it."""


_BOUND_KEYS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})


def _assertions(schema: Mapping[str, Any]) -> set[str]:
    """The keywords of a schema that assert something: not annotations, not `x-` extensions."""
    return {key for key in schema if key not in _ANNOTATIONS and not key.startswith("x-")}


def _defstruct(name: str, fields: list[Any], **options: Any) -> Any:
    # msgspec refuses renamed fields holding '"', '\' or control characters (and names
    # that are not identifiers): such a document is validated by the exact path alone.
    try:
        return msgspec.defstruct(name, fields, gc=False, **options)
    except (TypeError, ValueError):
        raise _NoFastPath from None


def _plain_bound(bound: Any) -> bool:
    """A bound msgspec compares exactly: a finite float, or an int a float holds exactly."""
    if type(bound) is float:
        return math.isfinite(bound)
    return type(bound) is int and abs(bound) <= 2**53


class _FastBuilder:
    """Builds msgspec types that accept a subset of what the schema (and the rules) accept."""

    def __init__(self, rules: frozenset[str]) -> None:
        self.rules = rules
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def cell(self, schema: Any, *, top: bool) -> tuple[Any, str | None]:
        """A msgspec type for one value; the second item names a text check done after decoding."""
        if schema is True or schema == {}:
            return msgspec.Raw, None
        if not isinstance(schema, dict):
            raise _NoFastPath
        keys = _assertions(schema)
        kind = schema.get("type")
        names = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
        nullable = "null" in names
        non_null = [n for n in names if n != "null"]
        if not names:
            if keys:
                raise _NoFastPath
            return msgspec.Raw, None
        if len(non_null) != 1:
            raise _NoFastPath
        name = non_null[0]
        fmt = schema.get("format")
        post: str | None = None
        if name in ("integer", "number", "boolean", "string"):
            allowed = {"type", "enum"} | (_BOUND_KEYS if name in ("integer", "number") else set())
            if keys - allowed:
                raise _NoFastPath
            if "enum" in schema:
                if keys & _BOUND_KEYS:
                    raise _NoFastPath
                base = self.literal(schema["enum"], name)
            elif name == "integer":
                base = self.integer(schema, fmt)
            elif name == "number":
                base = self.number(schema)
            elif name == "boolean":
                base = bool
            else:
                base = str
                if fmt in ("binary", "byte") and "binary-base64" in self.rules:
                    post = "binary"
                elif fmt in ("date-time", "datetime") and "datetime-iso8601" in self.rules:
                    post = "datetime"
                if post is not None and not top:
                    raise _NoFastPath
        elif name == "array":
            if keys - {"type", "items", "minItems", "maxItems"}:
                raise _NoFastPath
            item: Any = msgspec.Raw
            if "items" in schema:
                item, item_post = self.cell(schema["items"], top=False)
                if item_post:
                    raise _NoFastPath
            min_items, max_items = schema.get("minItems"), schema.get("maxItems")
            if min_items is not None or max_items is not None:
                if not all(b is None or type(b) is int for b in (min_items, max_items)):
                    raise _NoFastPath
                base = Annotated[list[item], msgspec.Meta(min_length=min_items, max_length=max_items)]
            else:
                base = list[item]
        elif name == "object":
            base = self.object(schema, keys, forbid_unknown=False)
        else:
            raise _NoFastPath
        return (base | None if nullable else base), post

    def integer(self, schema: Mapping[str, Any], fmt: Any) -> Any:
        """int within int32/int64 (the `int-range` rule) and the schema's bounds; ints compare exactly."""
        lows: list[int] = [-(2**63)]  # nothing below decodes as an int anyway
        highs: list[int] = [2**64 - 1]
        if "int-range" in self.rules:
            low, high = _INT32 if fmt == "int32" else _INT64
            lows.append(low)
            highs.append(high)
        for key in _BOUND_KEYS & set(schema):
            bound = schema[key]
            if not _plain_bound(bound) and type(bound) is not int:
                raise _NoFastPath
            if key == "minimum":
                lows.append(math.ceil(bound))
            elif key == "exclusiveMinimum":
                lows.append(math.floor(bound) + 1)
            elif key == "maximum":
                highs.append(math.floor(bound))
            else:
                highs.append(math.ceil(bound) - 1)
        low, high = max(lows), min(highs)
        if low > high:
            raise _NoFastPath  # nothing passes: the exact path says why
        if len(lows) == 1 and len(highs) == 1:
            return int
        return Annotated[int, msgspec.Meta(ge=low, le=high)]

    def number(self, schema: Mapping[str, Any]) -> Any:
        """A finite float within the schema's bounds.

        A JSON integer becomes a float before msgspec compares it, which may round it onto
        the bound: so every bound is compared strictly here, and a value that equals one
        goes to the exact path. Strictly inside is inside for the exact value too.
        """
        lows = [schema[k] for k in ("minimum", "exclusiveMinimum") if k in schema]
        highs = [schema[k] for k in ("maximum", "exclusiveMaximum") if k in schema]
        if not all(_plain_bound(b) for b in (*lows, *highs)):
            raise _NoFastPath
        meta: dict[str, Any] = {"gt": max(lows)} if lows else {"ge": -sys.float_info.max}
        meta.update({"lt": min(highs)} if highs else {"le": sys.float_info.max})
        return Annotated[float, msgspec.Meta(**meta)]

    def literal(self, values: list[Any], name: str) -> Any:
        values = [v for v in values if v is not None]  # null passes only through the type
        if values and name == "string" and all(isinstance(v, str) for v in values):
            return Literal[tuple(values)]
        if values and name == "integer" and all(type(v) is int for v in values):
            return Literal[tuple(values)]
        raise _NoFastPath

    def object(self, schema: Mapping[str, Any], keys: set[str], *, forbid_unknown: bool) -> Any:
        if keys - {"type", "properties", "required", "additionalProperties"}:
            raise _NoFastPath
        properties = schema.get("properties")
        additional = schema.get("additionalProperties", True)
        if not properties:
            if schema.get("required"):
                raise _NoFastPath
            if additional is True:
                return dict[str, msgspec.Raw]
            if isinstance(additional, dict):
                value, post = self.cell(additional, top=False)
                if post:
                    raise _NoFastPath
                return dict[str, value]  # type: ignore[valid-type]
            raise _NoFastPath
        if additional is False:
            forbid_unknown = True
        elif additional is not True:
            raise _NoFastPath
        struct, posts = self.struct(properties, schema.get("required") or [], forbid_unknown, top=False)
        if posts:
            raise _NoFastPath
        return struct

    def struct(
        self, properties: Mapping[str, Any], required: Iterable[str], forbid_unknown: bool, *, top: bool
    ) -> tuple[Any, list[tuple[str, str]]]:
        required_set = set(required)
        if required_set - set(properties):
            raise _NoFastPath
        fields: list[Any] = []
        rename: dict[str, str] = {}
        posts: list[tuple[str, str]] = []
        for index, (prop, sub) in enumerate(properties.items()):
            attr = f"f{index}"
            rename[attr] = prop
            value, post = self.cell(sub, top=top)
            if post:
                posts.append((attr, post))
            if prop in required_set:
                fields.append((attr, value))
            else:
                fields.append((attr, value | msgspec.UnsetType, msgspec.UNSET))
        fields.sort(key=lambda f: len(f) == 3)  # required fields first, as Python requires
        struct = _defstruct(self.name("Row"), fields, rename=rename, forbid_unknown_fields=forbid_unknown)
        return struct, posts


#: Rows are decoded in chunks of about this many bytes.
_CHUNK_BYTES = 1 << 20
_ARRAY_ROW_END = re.compile(rb"\]\s*,\s*\[")
_OBJECT_ROW_END = re.compile(rb"\}\s*,\s*\{")


class _FastFormat:
    """The typed decoder's view of one keyed format, and the checks left after decoding."""

    def __init__(self, fmt: Mapping[str, Any], builder: _FastBuilder, rules: frozenset[str]) -> None:
        self.key: str = fmt["key"]
        branch = fmt["schema"]
        if not isinstance(branch, dict) or _assertions(branch) - {"type", "properties", "required"}:
            raise _NoFastPath
        if branch.get("type", "object") != "object":
            raise _NoFastPath
        properties = branch.get("properties") or {}
        self.required_others = [r for r in branch.get("required") or [] if r != self.key]
        if set(self.required_others) - set(properties):
            raise _NoFastPath
        value_schema = properties[self.key]
        self.posts: list[tuple[str, str]] = []
        self.column_names: list[str] | None = None
        self.split_required: list[str] = []
        self.rows: Any = None  # decoder of a list of rows, for formats decoded in chunks
        self.row_end: re.Pattern[bytes] | None = None
        self.min_rows: int | None = None
        self.max_rows: int | None = None
        if self.key == "dataframe_split":
            self.type = self._split(value_schema, fmt, builder, rules)
        elif self.key in ("dataframe_records", "instances"):
            self.type = self._rows(value_schema, builder, rules)
        else:
            self.type, _post = builder.cell(value_schema, top=False)
        self.others: dict[str, Any] = {}
        self.param_posts: list[tuple[str, str]] = []  # params are checked as params, not as columns
        for prop, sub in properties.items():
            if prop == self.key:
                continue
            if prop == "params" and isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                if _assertions(sub) - {"type", "properties", "required"} or sub.get("type", "object") != "object":
                    raise _NoFastPath
                struct, self.param_posts = builder.struct(
                    sub["properties"], sub.get("required") or [], "unknown-param" in rules, top=True
                )
                self.others[prop] = msgspec.json.Decoder(struct)
            else:
                self.others[prop] = msgspec.json.Decoder(builder.cell(sub, top=False)[0])
        self.columns_named = self.key == "dataframe_split" and "split-columns" in rules
        self.rows_needed = "empty-input" in rules

    def _split(self, schema: Any, fmt: Mapping[str, Any], builder: _FastBuilder, rules: frozenset[str]) -> Any:
        if not isinstance(schema, dict):
            raise _NoFastPath
        if _assertions(schema) - {"type", "properties", "required", "additionalProperties"}:
            raise _NoFastPath
        if schema.get("type", "object") != "object":
            raise _NoFastPath
        additional = schema.get("additionalProperties", True)
        if additional is not True and additional is not False:
            raise _NoFastPath
        properties = schema.get("properties") or {}
        if set(properties) - {"columns", "data", "index"}:
            raise _NoFastPath
        self.split_required = list(schema.get("required") or [])
        if set(self.split_required) - set(properties):
            raise _NoFastPath
        data = properties.get("data")
        if not isinstance(data, dict) or _assertions(data) - {"type", "items"} or data.get("type", "array") != "array":
            raise _NoFastPath
        row = data.get("items")
        if not isinstance(row, dict) or _assertions(row) - {"type", "prefixItems"}:
            raise _NoFastPath
        if row.get("type", "array") != "array":
            raise _NoFastPath
        prefix = row.get("prefixItems")
        if not isinstance(prefix, list) or not prefix:
            raise _NoFastPath
        columns = fmt.get("columns") or []
        if len(columns) != len(prefix) or not fmt.get("named_columns", True):
            raise _NoFastPath
        self.column_names = [c["name"] for c in columns]
        fields = []
        for index, sub in enumerate(prefix):
            value, post = builder.cell(sub, top=True)
            if post:
                self.posts.append((f"f{index}", post))
            fields.append((f"f{index}", value))
        row_type = _defstruct(builder.name("SplitRow"), fields, array_like=True, forbid_unknown_fields=True)
        self.rows = msgspec.json.Decoder(list[row_type])  # type: ignore[valid-type]
        self.row_end = _ARRAY_ROW_END
        # With additionalProperties: false a key the schema does not name is invalid, so
        # the struct leaves it out and forbids unknown fields.
        split_fields: list[Any] = []
        if "columns" in properties or additional is True:
            split_fields.append(("columns", list[str] | msgspec.UnsetType, msgspec.UNSET))
        split_fields.append(("data", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
        if "index" in properties:
            index_type, _post = builder.cell(properties["index"], top=False)
            split_fields.append(("index", index_type | msgspec.UnsetType, msgspec.UNSET))
        elif additional is True:
            split_fields.append(("index", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
        forbid = "split-keys" in rules or additional is False
        return _defstruct(builder.name("Split"), split_fields, forbid_unknown_fields=forbid)

    def _rows(self, schema: Any, builder: _FastBuilder, rules: frozenset[str]) -> Any:
        if not isinstance(schema, dict) or _assertions(schema) - {"type", "items", "minItems", "maxItems"}:
            raise _NoFastPath
        if schema.get("type", "array") != "array":
            raise _NoFastPath
        self.min_rows, self.max_rows = schema.get("minItems"), schema.get("maxItems")
        if not all(b is None or type(b) is int for b in (self.min_rows, self.max_rows)):
            raise _NoFastPath
        row = schema.get("items")
        if isinstance(row, dict) and isinstance(row.get("properties"), dict):
            if _assertions(row) - {"type", "properties", "required", "additionalProperties"}:
                raise _NoFastPath
            if row.get("type", "object") != "object":
                raise _NoFastPath
            additional = row.get("additionalProperties", True)
            if additional is not True and additional is not False:
                raise _NoFastPath
            forbid = "unknown-column" in rules or additional is False
            struct, self.posts = builder.struct(row["properties"], row.get("required") or [], forbid, top=True)
            self.rows = msgspec.json.Decoder(list[struct])  # type: ignore[valid-type]
            self.row_end = _OBJECT_ROW_END
        elif self.key == "instances" and row is not None:
            # Tensor rows (arrays of any depth): a cut inside a nested array leaves the
            # chunk's brackets unbalanced, so it does not decode and the rows go in one piece.
            item, _post = builder.cell(row, top=False)
            self.rows = msgspec.json.Decoder(list[item])  # type: ignore[valid-type]
            self.row_end = _ARRAY_ROW_END if isinstance(row, dict) and row.get("type") == "array" else None
        else:
            raise _NoFastPath
        return msgspec.Raw

    def accepts(self, value: Any, others: Mapping[str, Any]) -> bool:
        """The checks the types could not express; False sends the payload down the exact path."""
        for name in self.required_others:
            if name not in others:
                return False
        for prop, raw in others.items():
            decoder = self.others.get(prop)
            if decoder is None:
                return False
            try:
                decoded = decoder.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError):
                return False
            if prop == "params" and self.param_posts:
                for attr, post in self.param_posts:
                    text = getattr(decoded, attr)
                    if type(text) is str and not (is_base64(text) if post == "binary" else is_iso8601(text)):
                        return False
        if self.key == "dataframe_split":
            for name in self.split_required:
                if getattr(value, name, msgspec.UNSET) is msgspec.UNSET:
                    return False
            if value.data is msgspec.UNSET:
                return False
            index = getattr(value, "index", msgspec.UNSET)
            if isinstance(index, msgspec.Raw):
                try:
                    index = msgspec.json.decode(index)
                except msgspec.DecodeError:
                    return False
            if index is not msgspec.UNSET and not isinstance(index, list):
                return False
            columns = getattr(value, "columns", msgspec.UNSET)
            if columns is msgspec.UNSET:
                if self.columns_named:
                    return False
            elif columns != self.column_names:
                return False
            count = self._rows_accepted(value.data)
            return count is not None and (index is msgspec.UNSET or len(index) == count)
        if self.rows is not None:
            count = self._rows_accepted(value)
            if count is None or (count == 0 and self.rows_needed):
                return False
            if self.min_rows is not None and count < self.min_rows:
                return False
            return self.max_rows is None or count <= self.max_rows
        # An empty list of inputs is refused by the server: the exact path reports it.
        return not (self.rows_needed and isinstance(value, list) and not value)

    def _rows_accepted(self, raw: Any) -> int | None:
        """The number of rows when all are accepted, else None.

        Rows are decoded a chunk at a time, so memory holds one chunk of rows, not all of
        them. A chunk ends at a row's closing bracket followed by a comma. If that bracket
        was inside a string or closed a nested value, the chunk does not decode; then the
        rows are decoded in one piece instead, which is exact, only larger.
        """
        view = memoryview(raw)
        size = len(view)
        if size <= _CHUNK_BYTES or self.row_end is None:
            return self._rows_pass(view)
        forms: dict[str, str] = {}  # a datetime column's form, kept from chunk to chunk
        count = 0
        start = 1
        while True:
            found = self.row_end.search(view, min(start + _CHUNK_BYTES, size))
            end = found.start() + 1 if found is not None else size - 1
            try:
                rows = self.rows.decode(b"[" + view[start:end] + b"]")
            except (msgspec.ValidationError, msgspec.DecodeError):
                return self._rows_pass(view)
            if not self._texts_pass(rows, forms):
                return None
            count += len(rows)
            del rows
            if found is None:
                return count
            start = found.end() - 1

    def _rows_pass(self, view: memoryview) -> int | None:
        try:
            rows = self.rows.decode(view)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        return len(rows) if self._texts_pass(rows, {}) else None

    def _texts_pass(self, rows: list[Any], forms: dict[str, str]) -> bool:
        for attr, post in self.posts:
            texts = list(map(attrgetter(attr), rows))
            if post == "datetime":
                if not _datetime_column_passes([t for t in texts if type(t) is str], forms, attr):
                    return False
            elif not _all_texts_pass(texts, post):
                return False
        return True


class _FastPath:
    def __init__(self, formats: Sequence[Mapping[str, Any]], rules: frozenset[str]) -> None:
        builder = _FastBuilder(rules)
        self.formats: dict[str, _FastFormat] = {}
        for fmt in formats:
            try:
                self.formats[fmt["key"]] = _FastFormat(fmt, builder, rules)
            except (_NoFastPath, TypeError, ValueError):
                continue
        if not self.formats:
            raise _NoFastPath
        other_props: set[str] = set()
        for fmt in formats:
            schema = fmt.get("schema")
            if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
                other_props.update(p for p in schema["properties"] if p not in FORMAT_KEYS)
        fields: list[Any] = []
        rename: dict[str, str] = {}
        self.attrs: dict[str, str] = {}
        for index, key in enumerate(FORMAT_KEYS):
            fast = self.formats.get(key)
            value_type = fast.type if fast is not None else msgspec.Raw
            fields.append((f"k{index}", value_type | msgspec.UnsetType, msgspec.UNSET))
            rename[f"k{index}"] = key
            self.attrs[key] = f"k{index}"
        self.other_attrs: dict[str, str] = {}
        for index, prop in enumerate(sorted(other_props)):
            fields.append((f"o{index}", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
            rename[f"o{index}"] = prop
            self.other_attrs[prop] = f"o{index}"
        request = _defstruct("Request", fields, rename=rename, forbid_unknown_fields=True)
        self.decoder = msgspec.json.Decoder(request)

    def accepts(self, data: bytes | str) -> str | None:
        """The format key when the payload is certainly valid with no warnings, else None."""
        collect = len(data) > 1 << 20 and gc.isenabled()
        if collect:
            gc.disable()  # millions of fresh containers would trigger pointless collections
        try:
            return self._accepts(data)
        finally:
            if collect:
                gc.enable()

    def _accepts(self, data: bytes | str) -> str | None:
        try:
            request = self.decoder.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        present = [key for key, attr in self.attrs.items() if getattr(request, attr) is not msgspec.UNSET]
        if len(present) != 1 or present[0] not in self.formats:
            return None
        key = present[0]
        others = {
            prop: getattr(request, attr)
            for prop, attr in self.other_attrs.items()
            if getattr(request, attr) is not msgspec.UNSET
        }
        fast = self.formats[key]
        return key if fast.accepts(getattr(request, self.attrs[key]), others) else None


# -- parsing -----------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    return float(name.replace("Infinity", "inf"))


def parse_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON exactly: integers of any size stay integers; NaN/Infinity are read (and flagged later)."""
    if msgspec is not None:
        try:
            return msgspec.json.decode(data)
        except msgspec.DecodeError:
            pass  # lone surrogates, NaN, huge exponents: the standard parser reads those or says where
    try:
        text = bytes(data).decode("utf-8-sig") if isinstance(data, (bytes, bytearray, memoryview)) else data
    except UnicodeDecodeError as exc:
        raise PayloadDecodeError(f"byte {exc.start + 1}: not valid JSON: the text is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadDecodeError(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}", exc.lineno, exc.colno
        ) from None
    except RecursionError:
        raise PayloadDecodeError("not valid JSON: nested too deeply to read") from None


# -- rows parsed a chunk at a time (the exact path for large payloads) ----------------------

_ROWS_KEYS = ("dataframe_records", "instances", "inputs")
#: The exact path parses rows in chunks of about this many bytes: as Python objects a chunk
#: is some 15 times larger, so it is smaller than the fast path's typed chunks.
_EXACT_CHUNK_BYTES = 1 << 18
#: Where a list of rows of each kind (by its first character) may end: a candidate cut.
_ROW_CUTS: Mapping[int, re.Pattern[bytes]] = {
    ord("["): _ARRAY_ROW_END,
    ord("{"): _OBJECT_ROW_END,
}
_ANY_CUT = re.compile(rb",")
_FIRST_BYTE = re.compile(rb"\s*(.)", re.DOTALL)
_LIST_KEYWORDS = frozenset({"type", "items", "minItems", "maxItems"})


class _RawRows(list):  # type: ignore[type-arg]
    """A payload's list of rows kept as raw JSON, parsed a chunk at a time each time it is walked.

    The exact path's checks take it for a list (isinstance, len, iteration), so a report for
    a payload of a million bad rows is built holding one chunk of rows (about 1 MB of JSON)
    as Python objects, never the whole list. Cuts are made after a row's closing bracket
    followed by a comma; a chunk that does not parse was cut inside a string or a nested
    value (the bytes were already checked to be JSON), and is then taken twice as large.
    """

    __slots__ = ("_count", "_cut", "_empty", "_raw")

    def __init__(self, raw: memoryview) -> None:
        super().__init__()
        self._raw = raw
        first = _FIRST_BYTE.match(raw, 1)  # the list's raw bytes start with "["
        opening = first[1] if first is not None else b"]"
        self._empty = opening == b"]"
        self._cut = _ROW_CUTS.get(opening[0], _ANY_CUT)
        self._count: int | None = 0 if self._empty else None

    def _chunks(self) -> Iterator[list[Any]]:
        view = self._raw
        size = len(view)
        if self._empty:
            return
        if size <= _EXACT_CHUNK_BYTES:
            yield parse_json(view)
            return
        start = 1
        step = _EXACT_CHUNK_BYTES
        while True:
            found = self._cut.search(view, min(start + step, size))
            # The cut keeps the row's closing bracket and drops the comma after it.
            end = (found.start() + (0 if self._cut is _ANY_CUT else 1)) if found is not None else size - 1
            try:
                rows = parse_json(b"[" + view[start:end] + b"]")
            except PayloadDecodeError:
                if found is None:
                    raise
                step *= 2
                continue
            yield rows
            del rows
            if found is None:
                return
            start = found.end() - (0 if self._cut is _ANY_CUT else 1)
            step = _EXACT_CHUNK_BYTES

    def __iter__(self) -> Iterator[Any]:
        count = 0
        for rows in self._chunks():
            count += len(rows)
            yield from rows
            del rows  # or this chunk stays alive while the next one is parsed
        self._count = count

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(len(rows) for rows in self._chunks())
        return self._count

    def __bool__(self) -> bool:
        return not self._empty

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        for position, row in enumerate(self):
            if position == index:
                return row
        raise IndexError("list index out of range")

    def __repr__(self) -> str:
        return f"<{len(self._raw):,} bytes of rows>"


def _rows_or_value(raw: Any, schema: Any) -> Any:
    """A raw list of rows as `_RawRows` when its schema asks nothing of the list as a whole."""
    view = memoryview(raw)
    if not isinstance(schema, dict) or _assertions(schema) - _LIST_KEYWORDS or isinstance(schema.get("items"), list):
        return parse_json(view)
    if bytes(view[:1]) != b"[" or len(view) <= _EXACT_CHUNK_BYTES:
        return parse_json(view)
    return _RawRows(view)


# -- the engine --------------------------------------------------------------------------


class Engine:
    """Validates payloads for one served model, compiled once from a plan."""

    def __init__(self, plan: Mapping[str, Any], *, disable: Iterable[str] = (), max_errors: int = 100) -> None:
        disabled = frozenset(disable)
        unknown = disabled - set(SERVING_RULES)
        if unknown:
            raise ValueError(
                f"unknown serving rule(s): {', '.join(sorted(unknown))}; known: {', '.join(SERVING_RULES)}"
            )
        if max_errors < 1:
            raise ValueError("max_errors must be at least 1")
        self.plan = plan
        self.model: str = str(plan.get("model", ""))
        self.rules = frozenset(SERVING_RULES) - disabled
        self.max_errors = max_errors
        self.request_schema = plan["request_schema"]
        self.formats: dict[str, Mapping[str, Any]] = {
            f["key"]: f for f in plan.get("formats", ()) if f.get("key") in FORMAT_KEYS
        }
        self.unsupported = list(plan.get("unsupported") or unsupported_keywords(self.request_schema))
        self._fallback: Any = None
        if self.unsupported:
            try:
                from jsonschema import Draft202012Validator
            except ImportError:
                raise UnsupportedSchemaError(
                    f"the request schema of {self.model!r} uses {', '.join(self.unsupported)}, which this "
                    "validator does not implement; install jsonschema to validate it"
                ) from None
            self._fallback = Draft202012Validator
        compiler = _Compiler(self.rules)
        self._root = compiler.compile(self.request_schema)
        self._branches = {key: compiler.compile(fmt["schema"]) for key, fmt in self.formats.items()}
        self._compiler = compiler
        self._reordered: dict[tuple[str, ...], _Check] = {}
        self._fast: _FastPath | None = None
        if msgspec is not None and self.formats and not self.unsupported and "one-format" in self.rules:
            try:
                self._fast = _FastPath(list(self.formats.values()), self.rules)
            except _NoFastPath:
                self._fast = None

    @property
    def has_fast_path(self) -> bool:
        return self._fast is not None

    # entry points ----------------------------------------------------------------------

    def validate_json(self, data: bytes | str) -> PayloadReport:
        """Validate a payload straight from the wire; bytes that are not JSON give an `invalid-json` report."""
        try:
            return self._validate_json(data)
        except RecursionError:
            # Untrusted bytes may nest thousands of levels deep; that is a bad payload, not a crash.
            return self._too_deep()

    def _too_deep(self) -> PayloadReport:
        message = "not valid JSON for this model: nested too deeply to read"
        problem = Problem("invalid-json", "error", "$", None, None, "JSON", None, message)
        return PayloadReport(False, self.model, None, (problem,), 1, 0, {"invalid-json": 1}, False)

    def _validate_json(self, data: bytes | str) -> PayloadReport:
        if self._fast is not None:
            key = self._fast.accepts(data)
            if key is not None:
                return PayloadReport(True, self.model, key, (), 0, 0, {}, False)
        if len(data) > _EXACT_CHUNK_BYTES and msgspec is not None and self._fallback is None:
            report = self._validate_in_chunks(data)
            if report is not None:
                return report
        try:
            payload = parse_json(data)
        except PayloadDecodeError as exc:
            problem = Problem("invalid-json", "error", "$", None, None, "JSON", None, str(exc))
            return PayloadReport(False, self.model, None, (problem,), 1, 0, {"invalid-json": 1}, False)
        return self.validate(payload)

    def _validate_in_chunks(self, data: bytes | str) -> PayloadReport | None:
        """The exact path for a large payload, in bounded memory: its rows stay raw JSON, parsed a chunk at a time.

        None when the payload is not an object of JSON msgspec reads (NaN, a byte order
        mark, not JSON at all): the caller then parses it whole, which also says where.
        """
        raw_data = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        try:
            top = msgspec.json.decode(raw_data, type=dict[str, msgspec.Raw])
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        collect = gc.isenabled()
        if collect:
            gc.disable()  # millions of short-lived rows would trigger pointless collections
        try:
            payload: dict[str, Any] = {}
            for name, raw in top.items():
                fmt = self.formats.get(name)
                if fmt is not None and name in _ROWS_KEYS:
                    payload[name] = _rows_or_value(raw, _format_value_schema(fmt, name))
                elif fmt is not None and name == "dataframe_split" and bytes(memoryview(raw)[:1]) == b"{":
                    split = msgspec.json.decode(raw, type=dict[str, msgspec.Raw])
                    data_schema = _format_value_schema(fmt, name).get("properties", {}).get("data")
                    payload[name] = {
                        part: _rows_or_value(value, data_schema) if part == "data" else parse_json(memoryview(value))
                        for part, value in split.items()
                    }
                else:
                    payload[name] = parse_json(memoryview(raw))
            del top
            return self.validate(payload)
        except (PayloadDecodeError, msgspec.ValidationError, msgspec.DecodeError):
            return None
        finally:
            if collect:
                gc.enable()

    def validate(self, payload: object) -> PayloadReport:
        """Validate a parsed payload (dicts, lists, str, int, float, bool, None)."""
        sink = _Sink(self.max_errors)
        try:
            key = self._run(payload, sink)
        except RecursionError:
            return self._too_deep()
        problems = tuple(self._problem(entry, key, payload) for entry in sink.kept)
        return PayloadReport(
            ok=sink.errors == 0,
            model=self.model,
            format=key,
            problems=problems,
            total_errors=sink.errors,
            total_warnings=sink.warnings,
            counts=sink.counts,
            truncated=sink.errors + sink.warnings > len(problems),
        )

    # the walk --------------------------------------------------------------------------

    def _run(self, payload: Any, sink: _Sink) -> str | None:
        if not self.formats or "one-format" not in self.rules:
            key = self._key_of(payload)
            if self._fallback is not None:
                self._schema_fallback(self.request_schema, payload, sink)
            else:
                self._root(payload, _ROOT, sink)
            if key is not None and self.rules:
                self._structure(self.formats[key], payload, sink, check_schema=False)
            return key
        if not isinstance(payload, dict):
            sink.add("type", _ROOT, "object", payload, "a request is a JSON object")
            return None
        present = [k for k in FORMAT_KEYS if k in payload]
        accepted = ", ".join(self.formats)
        if len(present) != 1:
            found = (
                f"found {', '.join(present)}" if present else f"found keys: {', '.join(map(str, payload)) or 'none'}"
            )
            sink.add(
                "one-format",
                _ROOT,
                f"exactly one of {accepted}",
                None,
                f"expected exactly one of {accepted}; {found}",
                show_value=False,
            )
            return None
        key = present[0]
        if key not in self.formats:
            sink.add(
                "one-format",
                (_ROOT, key),
                f"one of {accepted}",
                None,
                f"this model does not accept {key}; it accepts {accepted}",
                show_value=False,
            )
            return None
        self._structure(self.formats[key], payload, sink, check_schema=True)
        return key

    def _key_of(self, payload: Any) -> str | None:
        if isinstance(payload, dict):
            present = [k for k in FORMAT_KEYS if k in payload and k in self.formats]
            if len(present) == 1:
                return present[0]
        return None

    def _structure(self, fmt: Mapping[str, Any], payload: dict[str, Any], sink: _Sink, *, check_schema: bool) -> None:
        key = fmt["key"]
        value = payload.get(key)
        branch_check = self._branches[key]
        rules = self.rules
        if key == "dataframe_split" and isinstance(value, dict):
            branch_check = self._split_rules(fmt, value, sink) or branch_check
        elif key in ("dataframe_records", "instances") and isinstance(value, list) and "unknown-column" in rules:
            self._unknown_row_columns(fmt, key, value, sink)
        elif key == "inputs" and isinstance(value, dict) and "unknown-column" in rules and fmt.get("columns"):
            known = {c["name"] for c in fmt["columns"]}
            for name in value:
                if name not in known:
                    sink.add(
                        "unknown-column",
                        ((_ROOT, key), name),
                        None,
                        None,
                        "not a column of this model; the server drops it",
                        severity="warning",
                        column=name,
                        show_value=False,
                    )
        if "empty-input" in rules:
            self._empty_input(fmt, key, value, sink)
        params = payload.get("params")
        if "unknown-param" in rules and isinstance(params, dict):
            declared = {p["name"] for p in fmt.get("params") or ()}
            for name in params:
                if name not in declared:
                    sink.add(
                        "unknown-param",
                        ((_ROOT, "params"), name),
                        None,
                        params[name],
                        "not a parameter of this model; the server drops it",
                        severity="warning",
                    )
        if check_schema:
            if self._fallback is not None:
                self._schema_fallback(fmt["schema"], payload, sink)
            else:
                branch_check(payload, _ROOT, sink)
        if "datetime-iso8601" in rules:
            self._datetime_columns(fmt, key, value, sink)

    def _split_rules(self, fmt: Mapping[str, Any], split: dict[str, Any], sink: _Sink) -> _Check | None:
        rules = self.rules
        split_path = (_ROOT, "dataframe_split")
        if "split-keys" in rules:
            for name in split:
                if name not in ("columns", "data", "index"):
                    sink.add(
                        "split-keys",
                        (split_path, name),
                        "columns, data, index",
                        None,
                        f"dataframe_split holds only columns, data and index, not {name!r}",
                        show_value=False,
                    )
            if "data" not in split:
                sink.add("split-keys", split_path, "data", None, "dataframe_split has no data", show_value=False)
            index = split.get("index")
            data_rows = split.get("data")
            if "index" in split and not isinstance(index, list):
                # pandas builds the DataFrame from index, columns and data: the server refuses a scalar index.
                sink.add("split-keys", (split_path, "index"), "an array of row labels", index, "index must be an array")
            elif isinstance(index, list) and isinstance(data_rows, list) and len(index) != len(data_rows):
                sink.add(
                    "split-keys",
                    (split_path, "index"),
                    f"{len(data_rows)} row labels",
                    None,
                    f"index has {len(index)} labels for {len(data_rows)} rows",
                    show_value=False,
                )
        model_columns = [c["name"] for c in fmt.get("columns") or ()]
        named = bool(fmt.get("named_columns", True))
        columns = split.get("columns")
        names: list[str] | None = None
        if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
            names = columns
        if names is not None and named:
            if "duplicate-column" in rules:
                seen: set[str] = set()
                for index, name in enumerate(names):
                    if name in seen:
                        sink.add(
                            "duplicate-column",
                            ((split_path, "columns"), index),
                            "each column once",
                            name,
                            "named more than once",
                            column=name,
                        )
                    seen.add(name)
            if "required-column" in rules:
                for column in fmt.get("columns") or ():
                    if column["required"] and column["name"] not in names:
                        sink.add(
                            "required-column",
                            (split_path, "columns"),
                            column["name"],
                            None,
                            "required column missing from columns",
                            column=column["name"],
                            show_value=False,
                        )
        if "columns" not in split and named and model_columns and "split-columns" in rules:
            self._split_without_columns(fmt, split, sink)
        data = split.get("data")
        width = len(columns) if isinstance(columns, list) else len(model_columns)
        if "row-width" in rules and isinstance(data, list) and width:
            data_path = (split_path, "data")
            for index, row in enumerate(data):
                if isinstance(row, list) and len(row) != width:
                    sink.add(
                        "row-width",
                        (data_path, index),
                        f"{width} values",
                        None,
                        f"has {len(row)} values for {width} columns",
                        show_value=False,
                    )
        if names is not None and named and "columns-by-name" in rules and names != model_columns[: len(names)]:
            return self._reordered_check(fmt, tuple(names))
        return None

    def _split_without_columns(self, fmt: Mapping[str, Any], split: dict[str, Any], sink: _Sink) -> None:
        """MLflow builds the DataFrame with columns 0, 1, ... and then looks for the model's names."""
        if "columns" in _format_value_schema(fmt, "dataframe_split").get("required", ()):
            return  # the schema's own `required` already says columns is missing
        required = [c["name"] for c in fmt.get("columns") or () if c["required"]]
        if required:
            shown = ", ".join(required[:8]) + (", ..." if len(required) > 8 else "")
            outcome = f"refuses the request: required column(s) {shown} missing"
        else:
            outcome = "drops every value as an unknown column"
        sink.add(
            "split-columns",
            (_ROOT, "dataframe_split"),
            "columns naming the row values",
            None,
            "dataframe_split has no columns; the server then numbers the row values 0, 1, ... instead of "
            f"reading them as this model's columns, and {outcome}",
            show_value=False,
        )

    def _empty_input(self, fmt: Mapping[str, Any], key: str, value: Any, sink: _Sink) -> None:
        """No rows at all: MLflow's server answers 400 (it finds none of the model's inputs)."""
        if key == "dataframe_split":
            # With columns the server accepts no rows (and predicts nothing); by position it cannot.
            if fmt.get("named_columns", True) or not isinstance(value, dict) or "columns" in value:
                return
            rows, path = value.get("data"), ((_ROOT, key), "data")
            schema = _format_value_schema(fmt, key).get("properties", {}).get("data", {})
        else:
            rows, path = value, (_ROOT, key)
            schema = _format_value_schema(fmt, key)
        if not isinstance(rows, list) or rows:
            return
        low = schema.get("minItems") if isinstance(schema, dict) else None
        if isinstance(low, int) and not isinstance(low, bool) and low >= 1:
            return  # the schema's own minItems already says there are too few rows
        sink.add(
            "empty-input",
            path,
            "at least one row",
            None,
            "no rows; the server refuses a request without any input",
            show_value=False,
        )

    def _reordered_check(self, fmt: Mapping[str, Any], names: tuple[str, ...]) -> _Check | None:
        cached = self._reordered.get(names)
        if cached is not None:
            return cached
        branch = fmt["schema"]
        try:
            data_schema = branch["properties"]["dataframe_split"]["properties"]["data"]
            prefix = data_schema["items"]["prefixItems"]
        except (KeyError, TypeError):
            return None
        by_name = {c["name"]: prefix[c["position"]] for c in fmt.get("columns") or () if c["position"] < len(prefix)}
        row = {**data_schema["items"], "prefixItems": [by_name.get(n, True) for n in names]}
        split_schema = branch["properties"]["dataframe_split"]
        reordered = {
            **branch,
            "properties": {
                **branch["properties"],
                "dataframe_split": {
                    **split_schema,
                    "properties": {**split_schema["properties"], "data": {**data_schema, "items": row}},
                },
            },
        }
        check = self._compiler.compile(reordered)
        if len(self._reordered) > 64:
            self._reordered.clear()
        self._reordered[names] = check
        return check

    def _unknown_row_columns(self, fmt: Mapping[str, Any], key: str, rows: list[Any], sink: _Sink) -> None:
        known = {c["name"] for c in fmt.get("columns") or ()}
        if not known:
            return
        first: dict[str, int] = {}
        seen_count: dict[str, int] = {}
        for index, row in enumerate(rows):
            if isinstance(row, dict):
                for name in row:
                    if name not in known:
                        if name not in first:
                            first[name] = index
                        seen_count[name] = seen_count.get(name, 0) + 1
        for name, index in first.items():
            sink.add(
                "unknown-column",
                (((_ROOT, key), index), name),
                None,
                None,
                f"not a column of this model; the server drops it ({_plural(seen_count[name], 'row')})",
                severity="warning",
                column=name,
                show_value=False,
            )

    def _datetime_columns(self, fmt: Mapping[str, Any], key: str, value: Any, sink: _Sink) -> None:
        """What MLflow 3.17 refuses in a datetime column, beyond what each value's ISO-8601 check sees.

        Its server reads a datetime column with pandas into datetime64[ns]: values with a
        "Z" or an offset cannot go in (timezone-aware), instants outside 1677-2262 do not
        fit, and the column is parsed in the form of its first value, so a row written in
        another form (without seconds, with a fraction, with " " for "T", a date alone)
        fails the whole request.
        """
        names = [c["name"] for c in fmt.get("columns") or () if str(c.get("type", "")).rstrip("?") == "datetime"]
        if not names:
            return
        for name in names:
            cells = self._column_cells(fmt, key, value, name)
            if cells is not None:
                self._datetime_column(name, cells, sink)

    def _column_cells(
        self, fmt: Mapping[str, Any], key: str, value: Any, name: str
    ) -> Iterable[tuple[int, Any, _Path]] | None:
        """(row, value, path) for each row holding column `name`, in the payload's own layout."""
        base = (_ROOT, key)
        if key == "dataframe_split":
            if not isinstance(value, dict) or not isinstance(value.get("data"), list):
                return None
            columns = value.get("columns")
            if isinstance(columns, list):
                if name not in columns:
                    return None
                position = columns.index(name)
            else:
                positions = [c["position"] for c in fmt.get("columns") or () if c["name"] == name]
                if not positions:
                    return None
                position = positions[0]
            data_path = (base, "data")
            return (
                (index, row[position], ((data_path, index), position))
                for index, row in enumerate(value["data"])
                if isinstance(row, list) and position < len(row)
            )
        if key in ("dataframe_records", "instances") and isinstance(value, list):
            return (
                (index, row[name], ((base, index), name))
                for index, row in enumerate(value)
                if isinstance(row, dict) and name in row
            )
        if key == "inputs" and isinstance(value, dict) and isinstance(value.get(name), list):
            column_path = (base, name)
            return ((index, item, (column_path, index)) for index, item in enumerate(value[name]))
        return None

    def _datetime_column(self, name: str, cells: Iterable[tuple[int, Any, _Path]], sink: _Sink) -> None:
        expected = "datetime (ISO-8601 text)"
        first: tuple[int, str, str] | None = None  # row, text and form of the column's first value
        other: tuple[int, str, _Path] | None = None  # the first row written in another form
        others = 0
        for row, text, path in cells:
            if not isinstance(text, str):
                continue
            parts = _ISO_PARTS.match(text)
            if parts is None or not _real_date(text):
                continue  # not ISO-8601 at all: the value's own check reports it
            if parts[4] is not None:
                sink.add(
                    "datetime-iso8601",
                    path,
                    "datetime without a UTC offset",
                    text,
                    "MLflow cannot put a timezone-aware value in a datetime column; "
                    "convert it to UTC and leave the offset out",
                    column=name,
                )
                continue
            if not _in_ns_range(parts):
                sink.add(
                    "datetime-iso8601",
                    path,
                    f"datetime from {_NS_FIRST} to {_NS_LAST}",
                    text,
                    "outside the range of the pandas datetime64[ns] a datetime column becomes",
                    column=name,
                )
                continue
            form = _datetime_form(parts)
            if first is None:
                first = (row, text, form)
            elif form != first[2]:
                others += 1
                if other is None:
                    other = (row, text, path)
        if other is not None and first is not None:
            row, text, path = other
            sink.add(
                "datetime-iso8601",
                path,
                f"{expected} written like row {first[0]} ({first[1]})",
                text,
                "pandas reads a datetime column in the form of its first value and refuses the request "
                f"when a row is written in another form ({_plural(others, 'row')} here); write every row alike",
                column=name,
            )

    def _schema_fallback(self, schema: Any, payload: Any, sink: _Sink) -> None:
        validator = self._fallback(schema)
        for error in validator.iter_errors(payload):
            code = re.sub(r"(?<!^)([A-Z])", r"-\1", str(error.validator)).lower().lstrip("$")
            path: _Path = _ROOT
            for part in error.absolute_path:
                path = (path, part)
            sink.add(code, path, None, error.instance, error.message.split("\n")[0][:200], show_value=False)

    # presenting ------------------------------------------------------------------------

    def _problem(self, entry: tuple[Any, ...], key: str | None, payload: Any) -> Problem:
        code, severity, path, expected, found, detail, column = entry
        parts = _path_parts(path)
        row: int | None = None
        located: str | None = None
        if key is not None and parts and parts[0] == key:
            row, located = self._locate(key, parts[1:], payload)
        missing = code in ("required", "dependent-required")
        # A missing property is a missing *column* only where a row (or the columnar inputs
        # object) is the object that lacks it; deeper down it is a field of a column's value.
        missing_column = missing and (
            (row is not None and located is None) or (key == "inputs" and parts == ["inputs"])
        )
        where_column = column if column is not None and (missing_column or not missing) else located
        path_text = _path_text(parts)
        if row is not None and where_column is not None:
            where = f"row {row}, column {where_column} ({path_text})"
        elif row is not None:
            where = f"row {row} ({path_text})"
        elif where_column is not None:
            where = f"column {where_column} ({path_text})"
        elif len(parts) == 2 and parts[0] == "params":
            where = f"param {parts[1]} ({path_text})"
        else:
            where = path_text
        if missing:
            text = "missing required column" if missing_column else f"missing required property {column!r}"
            if code == "dependent-required":
                text += f" ({detail})"
        elif found is not None and expected is not None:
            text = f"expected {expected}, got {found}" + (f": {detail}" if detail else "")
        else:
            text = detail or (f"expected {expected}" if expected else code)
        return Problem(code, severity, path_text, row, where_column, expected, found, f"{where}: {text}")

    def _locate(self, key: str, rest: list[Any], payload: Any) -> tuple[int | None, str | None]:
        """Row number and column name for a path below the format key."""
        if key == "dataframe_split":
            if len(rest) >= 2 and rest[0] == "data" and isinstance(rest[1], int):
                row = rest[1]
                if len(rest) >= 3 and isinstance(rest[2], int):
                    return row, self._split_column_name(rest[2], payload)
                return row, None
            if len(rest) == 2 and rest[0] == "columns" and isinstance(rest[1], int):
                try:
                    name = payload["dataframe_split"]["columns"][rest[1]]
                except (KeyError, IndexError, TypeError):
                    return None, None
                return None, name if isinstance(name, str) else None
            return None, None
        if key in ("dataframe_records", "instances"):
            if rest and isinstance(rest[0], int):
                column = rest[1] if len(rest) >= 2 and isinstance(rest[1], str) else None
                return rest[0], column
            return None, None
        if key == "inputs":
            if rest and isinstance(rest[0], str):
                input_row = rest[1] if len(rest) >= 2 and isinstance(rest[1], int) else None
                return input_row, rest[0]
            if rest and isinstance(rest[0], int):
                return rest[0], None
        return None, None

    def _split_column_name(self, position: int, payload: Any) -> str | None:
        try:
            columns = payload["dataframe_split"].get("columns")
        except (AttributeError, KeyError, TypeError):
            columns = None
        if isinstance(columns, list):
            if position < len(columns) and isinstance(columns[position], str):
                return str(columns[position])
            return None
        model_columns = self.formats["dataframe_split"].get("columns") or ()
        for column in model_columns:
            if column["position"] == position:
                return str(column["name"])
        return None
