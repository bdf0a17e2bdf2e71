"""Payloads generated from the model: valid ones that walk every edge, mutations that each break one rule.

Everything is read from the resolved model (`ServedModel`, `InputFormat`, `Column`, `DataType`),
never from the raw document. Each case is labelled by the engine (`schemakit.check_payload`'s
validator), not by what the generator meant: a value the generator thought valid but the engine
refuses is reported as invalid, with the rule the engine names. So the labels are the verdicts
`schemakit check` gives, and a probe compares a server against exactly those.

Generation is deterministic for a seed: the same model and seed give the same cases in the same order.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemakit.check.validator import PayloadValidator, compile_validator
from schemakit.core.limits import request_limit
from schemakit.core.model import (
    Column,
    DataType,
    FormatKind,
    InputFormat,
    JSONValue,
    Kind,
    Param,
    ServedModel,
)
from schemakit.runtime.jsonsem import INT32, INT64
from schemakit.runtime.values import is_iso8601

__all__ = [
    "DATETIME_FORMS",
    "Case",
    "bad_values",
    "build_payload",
    "edge_values",
    "encode",
    "generate_cases",
    "interleave",
    "sample_value",
    "spread",
    "tensor_row",
]

#: Every datetime form MLflow's scoring server reads (as `is_iso8601` accepts them), plus forms it refuses;
#: the generator keeps, for a column, the forms the engine accepts and uses the others as mutations.
DATETIME_FORMS: tuple[str, ...] = (
    "2024-01-31",
    "2024-02-29T12:34",
    "2024-03-01T12:34:56",
    "2024-03-01 12:34:56",
    "2024-03-01T12:34:56.5",
    "2024-03-01T12:34:56.123456789",
    "2024-03-01T12:34:56Z",
    "2024-03-01T12:34:56+05:30",
    "2024-03-01T12:34:56-0800",
    "1677-09-22T00:00:00",
    "2262-04-10T23:59:59",
)
_BAD_DATETIMES: tuple[str, ...] = ("01/02/2024", "2023-02-29", "2024-13-01T00:00:00", "yesterday")
_UNICODE = ("héllo wörld", "日本語のテキスト", "emoji 🙂👍", "Ελληνικά", "right-to-left עברית")
_LONG_STRING = 4096
_NON_BASE64 = "not base64!"
#: Sizes past these are not built (a document may say maxLength 2^70): such an edge is left out.
_MAX_TEXT = 1_000_000
_MAX_ITEMS = 10_000

Row = dict[str, JSONValue]


@dataclass(frozen=True)
class Case:
    """One generated request: what it tests, the body sent, and the engine's verdict on it."""

    model: str
    format: str
    #: What the case walks or breaks: `int_col: int64 maximum`, `mutation: int_col past int64`.
    label: str
    #: `valid` (an edge the schema allows) or `mutation` (meant to break exactly one rule).
    intent: str
    payload: JSONValue
    #: The engine's verdict: True when `check` accepts the payload (warnings allowed).
    valid: bool
    #: The error codes the engine gives (empty when valid), sorted; the first is the case's rule.
    rules: tuple[str, ...] = ()
    #: Warning codes the engine gives.
    warnings: tuple[str, ...] = ()
    body: bytes = field(default=b"", repr=False, compare=False)

    @property
    def rule(self) -> str | None:
        return self.rules[0] if self.rules else None

    @property
    def verdict(self) -> str:
        return "valid" if self.valid else "invalid"

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "format": self.format,
            "label": self.label,
            "intent": self.intent,
            "verdict": self.verdict,
            "rules": list(self.rules),
            "warnings": list(self.warnings),
        }


def encode(payload: JSONValue) -> bytes:
    """The request body for a payload: UTF-8 JSON as clients send it (NaN written as the server reads it)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=True, separators=(",", ":")).encode("utf-8")


# -- values -----------------------------------------------------------------------------------------------


def _number_range(t: DataType) -> tuple[float, float]:
    lo: float = -math.inf
    hi: float = math.inf
    if t.kind is Kind.INTEGER:
        lo, hi = INT32
    elif t.kind is Kind.LONG:
        lo, hi = INT64
    if isinstance(t.minimum, (int, float)):
        lo = max(lo, t.minimum)
    if isinstance(t.maximum, (int, float)):
        hi = min(hi, t.maximum)
    if isinstance(t.exclusive_minimum, (int, float)):
        step = 1 if t.is_integer else abs(t.exclusive_minimum) * 1e-9 + 1e-9
        lo = max(lo, t.exclusive_minimum + step)
    if isinstance(t.exclusive_maximum, (int, float)):
        step = 1 if t.is_integer else abs(t.exclusive_maximum) * 1e-9 + 1e-9
        hi = min(hi, t.exclusive_maximum - step)
    return lo, hi


def _ints(t: DataType) -> list[tuple[str, int]]:
    lo, hi = _number_range(t)
    low, high = math.ceil(lo), math.floor(hi)
    picks = [("zero", 0), ("one", 1), ("minus one", -1), ("minimum", low), ("maximum", high)]
    if t.kind is Kind.INTEGER and (low, high) == INT32:
        picks[3:] = [("int32 minimum", low), ("int32 maximum", high)]
    elif t.kind is Kind.LONG and (low, high) == INT64:
        picks[3:] = [("int64 minimum", low), ("int64 maximum", high)]
    step = t.multiple_of
    out = []
    for label, value in picks:
        if not low <= value <= high:
            continue
        if isinstance(step, int) and step > 0 and value % step:
            value -= value % step
            if value < low:
                continue
        out.append((label, value))
    return out


def _floats(t: DataType) -> list[tuple[str, float | int]]:
    lo, hi = _number_range(t)
    top = 3.4028234663852886e38 if t.kind is Kind.FLOAT else 1.7976931348623157e308
    picks: list[tuple[str, float | int]] = [
        ("zero", 0.0),
        ("whole double", 1.0),
        ("fractional double", 0.5),
        ("negative fraction", -2.25),
        ("integer for a double", 3),
        ("smallest subnormal", 5e-324 if t.kind is Kind.DOUBLE else 1.401298464324817e-45),
        ("largest finite", min(top, hi)),
        ("most negative finite", max(-top, lo)),
        ("minimum", lo),
        ("maximum", hi),
    ]
    out = []
    seen: set[float] = set()
    for label, value in picks:
        if not math.isfinite(value) or not lo <= value <= hi or float(value) in seen:
            continue
        if isinstance(t.multiple_of, (int, float)) and t.multiple_of > 0:
            try:
                quotient = value / t.multiple_of
                if quotient != int(quotient):
                    continue
            except (OverflowError, ValueError):
                continue
        seen.add(float(value))
        out.append((label, value))
    if not out and math.isfinite(lo):
        out.append(("minimum", lo))
    return out


def _matches(t: DataType, text: str) -> bool:
    if t.min_length is not None and len(text) < t.min_length:
        return False
    if t.max_length is not None and len(text) > t.max_length:
        return False
    if t.pattern is not None:
        try:
            return re.search(t.pattern, text) is not None
        except (re.error, RecursionError):
            return False
    return True


def _strings(t: DataType, rng: random.Random) -> list[tuple[str, str]]:
    long_size = t.max_length if t.max_length is not None and t.max_length <= _MAX_TEXT else _LONG_STRING
    filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(min(long_size, 64)))
    long_text = (filler * (long_size // max(1, len(filler)) + 1))[:long_size]
    picks = [
        ("plain text", "example"),
        ("empty string", ""),
        ("one character", "a"),
        ("long string", long_text),
        ("unicode", rng.choice(_UNICODE)),
        ("quotes and escapes", 'a "quoted"\\ line\nbreak\ttab'),
        ("digits as text", "42"),
    ]
    if t.min_length is not None and t.min_length <= _MAX_TEXT:
        picks.append(("shortest allowed", "x" * t.min_length))
    out = [(label, text) for label, text in picks if _matches(t, text)]
    return out


def edge_values(t: DataType, rng: random.Random | None = None, depth: int = 0) -> list[tuple[str, JSONValue]]:
    """Valid values of a type that walk its edges, each with a short label (the engine has the last word)."""
    rng = rng or random.Random(0)  # noqa: S311 - test data, not secrets
    out: list[tuple[str, JSONValue]] = []
    if t.enum is not None:
        out = [(f"enum member {json.dumps(v, ensure_ascii=False)[:30]}", v) for v in t.enum[:12]]
    elif t.kind is Kind.BOOLEAN:
        out = [("true", True), ("false", False)]
    elif t.is_integer:
        out = list(_ints(t))
        first = out[0][1] if out else None
        if isinstance(first, int):
            out.append(("whole double for an integer", float(first)))
    elif t.is_number:
        out = list(_floats(t))
    elif t.kind is Kind.STRING:
        out = list(_strings(t, rng))
    elif t.kind is Kind.BINARY:
        out = [("base64", "aGVsbG8gd29ybGQ="), ("empty base64", ""), ("base64 of bytes", "AP8Q/w==")]
    elif t.kind is Kind.DATETIME:
        out = [(f"datetime {form}", form) for form in DATETIME_FORMS if is_iso8601(form)]
    elif t.kind is Kind.ARRAY:
        out = _arrays(t, rng, depth)
    elif t.kind is Kind.MAP:
        inner = sample_value(t.items, rng, depth + 1) if t.items is not None else 1
        out = [("one entry", {"k": inner}), ("empty map", {}), ("unicode key", {"clé ✓": inner})]
    elif t.kind is Kind.OBJECT:
        out = _objects(t, rng, depth)
    elif t.kind is Kind.UNION:
        for variant in t.variants:
            for label, value in edge_values(variant, rng, depth + 1)[:3]:
                out.append((f"{variant.display()} {label}", value))
    elif t.kind is Kind.NULL:
        out = [("null", None)]
    else:  # ANY
        out = [("any: number", 1), ("any: text", "text"), ("any: list", [1, "a"]), ("any: object", {"k": [1.5]})]
    if t.nullable and not any(v is None for _, v in out):
        out.append(("null", None))
    return out


def _arrays(t: DataType, rng: random.Random, depth: int) -> list[tuple[str, JSONValue]]:
    if t.prefix_items:
        row = [sample_value(p, rng, depth + 1) for p in t.prefix_items]
        return [("tuple", row)]
    item = sample_value(t.items, rng, depth + 1) if t.items is not None else 1
    low = t.min_items or 0
    high = t.max_items if t.max_items is not None else max(low, 3)
    if t.shape and len(t.shape) > 1 and t.shape[1] > 0:
        low = high = t.shape[1]
    if low > _MAX_ITEMS:
        return []
    high = min(high, _MAX_ITEMS)
    # The first edge is the column's ordinary value in every other case: a non-empty one where allowed.
    out: list[tuple[str, JSONValue]] = [("shortest array", [item] * max(low, 1) if high >= 1 else [])]
    if low == 0:
        out.append(("empty array", []))
    if high > max(low, 1):
        out.append(("longest array" if t.max_items is not None else "several items", [item] * high))
    if t.items is not None and depth < 3:
        edges = [v for _, v in edge_values(t.items, rng, depth + 1)]
        if edges and low <= min(len(edges), high) and len(edges) <= high:
            out.append(("edge items", edges))
    return out


def _objects(t: DataType, rng: random.Random, depth: int) -> list[tuple[str, JSONValue]]:
    if not t.fields:
        return [("empty object", {}), ("object", {"k": 1})]
    full = {f.name: sample_value(f.type, rng, depth + 1) for f in t.fields}
    required = {f.name: full[f.name] for f in t.fields if f.required}
    out: list[tuple[str, JSONValue]] = [("every field", full)]
    if required != full:
        out.append(("required fields only", required))
    return out


def sample_value(t: DataType | None, rng: random.Random | None = None, depth: int = 0) -> JSONValue:
    """One ordinary valid value of a type (the first of its edges that is not null)."""
    if t is None:
        return 1
    if depth > 6:
        return None if t.nullable else _shallow(t)
    for _, value in edge_values(t, rng, depth):
        if value is not None or t.kind is Kind.NULL:
            return value
    return None


def _shallow(t: DataType) -> JSONValue:
    shallow: dict[Kind, JSONValue] = {
        Kind.ARRAY: [],
        Kind.MAP: {},
        Kind.OBJECT: {},
        Kind.STRING: "x",
        Kind.BOOLEAN: True,
    }
    return shallow.get(t.kind, 0)


_Bad = list[tuple[str, JSONValue]]


def _bad_enum(t: DataType, rng: random.Random) -> _Bad:
    enum = t.enum or ()
    if any(isinstance(v, str) for v in enum) or not enum:
        return [("not an enum member", "not-a-member-" + str(rng.randrange(1000)))]
    ints = [int(v) for v in enum if isinstance(v, int)]
    return [("not an enum member", max(ints) + 1)] if ints else []


def _bad_integer(t: DataType, rng: random.Random) -> _Bad:
    lo, hi = _number_range(t)
    full = INT32 if t.kind is Kind.INTEGER else INT64
    width = "int32" if t.kind is Kind.INTEGER else "int64"
    out: _Bad = []
    if hi == full[1]:
        out.append((f"past {width} maximum", full[1] + 1))
    elif math.isfinite(hi):
        out.append(("above the maximum", math.floor(hi) + 1))
    if lo == full[0]:
        out.append((f"below {width} minimum", full[0] - 1))
    elif math.isfinite(lo):
        out.append(("below the minimum", math.ceil(lo) - 1))
    return [*out, ("fractional number for an integer", 1.5), ("integer as text", "7"), ("boolean for a number", True)]


def _bad_number(t: DataType, rng: random.Random) -> _Bad:
    lo, hi = _number_range(t)
    out: _Bad = []
    if math.isfinite(hi):
        out.append(("above the maximum", hi + 1))
    if math.isfinite(lo):
        out.append(("below the minimum", lo - 1))
    return [*out, ("NaN", math.nan), ("number as text", "1.5"), ("boolean for a number", False)]


def _bad_string(t: DataType, rng: random.Random) -> _Bad:
    out: _Bad = [("number for a string", 42)]
    if t.max_length is not None and t.max_length < _MAX_TEXT:
        out.append(("longer than maxLength", "x" * (t.max_length + 1)))
    if t.min_length and t.min_length <= _MAX_TEXT:
        out.append(("shorter than minLength", "x" * (t.min_length - 1)))
    if t.pattern is not None:
        for text in ("", "\u0000", "!!", "zz zz"):
            if not _matches(t, text) and (t.min_length is None or len(text) >= t.min_length):
                out.append(("not matching the pattern", text))
                break
    return out


def _bad_binary(t: DataType, rng: random.Random) -> _Bad:
    return [("text that is not base64", _NON_BASE64), ("number for binary", 3)]


def _bad_datetime(t: DataType, rng: random.Random) -> _Bad:
    return [*((f"datetime {text}", text) for text in _BAD_DATETIMES), ("number for a datetime", 1700000000)]


def _bad_boolean(t: DataType, rng: random.Random) -> _Bad:
    return [("boolean as text", "true"), ("number for a boolean", 1)]


def _bad_array(t: DataType, rng: random.Random) -> _Bad:
    out: _Bad = [("scalar for an array", "not a list")]
    if t.items is not None:
        out += [(f"item: {label}", [value]) for label, value in bad_values(t.items, rng)[:2]]
    # Each size mutation draws its own sample, in this order, so a seed gives the same cases.
    if t.max_items is not None and t.max_items < _MAX_ITEMS:
        item = sample_value(t.items, rng) if t.items is not None else 1
        out.append(("more than maxItems", [item] * (t.max_items + 1)))
    if t.min_items and t.min_items <= _MAX_ITEMS:
        item = sample_value(t.items, rng) if t.items is not None else 1
        out.append(("fewer than minItems", [item] * (t.min_items - 1)))
    return out


def _bad_map(t: DataType, rng: random.Random) -> _Bad:
    out: _Bad = [("list for a map", [1])]
    if t.items is not None:
        out += [(f"value: {label}", {"k": value}) for label, value in bad_values(t.items, rng)[:1]]
    return out


def _bad_object(t: DataType, rng: random.Random) -> _Bad:
    out: _Bad = [("list for an object", [1])]
    every: Row = {f.name: sample_value(f.type, rng) for f in t.fields}
    required = next((f for f in t.fields if f.required), None)
    if required is not None:
        out.append((f"missing field {required.name}", {k: v for k, v in every.items() if k != required.name}))
    for f in t.fields:
        out += [(f"field {f.name}: {label}", {**every, f.name: value}) for label, value in bad_values(f.type, rng)[:1]]
    return out


def _bad_union(t: DataType, rng: random.Random) -> _Bad:
    return [("object for a union", {"unexpected": True})]


#: The mutations of each kind, one small function a kind (as jsonschema keeps a function a keyword).
_BAD_BY_KIND: dict[Kind, Callable[[DataType, random.Random], _Bad]] = {
    Kind.INTEGER: _bad_integer,
    Kind.LONG: _bad_integer,
    Kind.FLOAT: _bad_number,
    Kind.DOUBLE: _bad_number,
    Kind.STRING: _bad_string,
    Kind.BINARY: _bad_binary,
    Kind.DATETIME: _bad_datetime,
    Kind.BOOLEAN: _bad_boolean,
    Kind.ARRAY: _bad_array,
    Kind.MAP: _bad_map,
    Kind.OBJECT: _bad_object,
    Kind.UNION: _bad_union,
}


def bad_values(t: DataType, rng: random.Random | None = None) -> list[tuple[str, JSONValue]]:
    """Values that break one rule of a type, each labelled with what it breaks."""
    rng = rng or random.Random(0)  # noqa: S311 - test data, not secrets
    out: _Bad = []
    if not t.nullable and t.kind not in (Kind.ANY, Kind.NULL):
        out.append(("null where not nullable", None))
    if t.enum is not None:
        return out + _bad_enum(t, rng)
    mutate = _BAD_BY_KIND.get(t.kind)
    return out + mutate(t, rng) if mutate is not None else out


# -- payloads ---------------------------------------------------------------------------------------------


def tensor_row(t: DataType, value: JSONValue) -> JSONValue:
    """One row of a tensor (shape without its first dimension), filled with `value`."""
    shape = tuple(t.shape or (-1,))[1:]
    row: JSONValue = value
    for size in reversed(shape):
        row = [row] * (min(size, _MAX_ITEMS) if size > 0 else 2)
    return row


def build_payload(
    fmt: InputFormat,
    rows: Sequence[Row] | None = None,
    params: Mapping[str, JSONValue] | None = None,
    *,
    tensor_rows: Sequence[JSONValue] | None = None,
) -> dict[str, JSONValue]:
    """A request of one format from rows of {column: value} (or tensor rows), with params beside it."""
    payload: dict[str, JSONValue]
    if fmt.kind is FormatKind.OBJECT:
        payload = dict(rows[0]) if rows else {}
        return payload
    key = fmt.kind.value
    if fmt.tensor is not None:
        payload = {key: list(tensor_rows or [])}
    else:
        rows = list(rows or [])
        if fmt.kind is FormatKind.DATAFRAME_SPLIT:
            ordered = sorted(fmt.columns, key=lambda c: c.position if c.position is not None else 0)
            names = [c.name for c in ordered if any(c.name in r for r in rows)]
            split: dict[str, JSONValue] = {"data": [[r.get(n) for n in names] for r in rows]}
            if fmt.named_columns:
                split = {"columns": list(names), **split}
            payload = {key: split}
        elif fmt.kind is FormatKind.INPUTS:
            names = [c.name for c in fmt.columns if any(c.name in r for r in rows)]
            payload = {key: {n: [r.get(n) for r in rows] for n in names}}
        else:
            payload = {key: [dict(r) for r in rows]}
    if params:
        payload["params"] = dict(params)
    return payload


class _Builder:
    """Generates the cases of one format and labels each with the engine."""

    def __init__(
        self,
        model: ServedModel,
        fmt: InputFormat,
        validator: PayloadValidator,
        rng: random.Random,
        stream: bool = False,
    ) -> None:
        self.stream = stream
        self.model = model
        self.fmt = fmt
        self.validator = validator
        self.rng = rng
        self.cases: list[Case] = []
        self.seen: set[bytes] = set()
        self.columns = self._columns()

    def _columns(self) -> tuple[Column, ...]:
        columns = list(self.fmt.columns)
        if self.fmt.kind is FormatKind.OBJECT and not self.stream:
            # Streaming answers are server-sent events, not the JSON body the response schema describes.
            columns = [c for c in columns if c.name != "stream"]
        return tuple(columns)

    def _needed(self, column: Column) -> bool:
        required = self.fmt.request.required_field if self.fmt.request is not None else None
        return column.required or column.name == required or self.fmt.kind is FormatKind.DATAFRAME_SPLIT

    def base_row(self, *, everything: bool = True) -> Row:
        return {c.name: sample_value(c.type, self.rng) for c in self.columns if everything or self._needed(c)}

    def add(self, label: str, intent: str, payload: JSONValue, body: bytes | None = None) -> None:
        data = body if body is not None else encode(payload)
        if data in self.seen:
            return
        self.seen.add(data)
        report = self.validator.validate_json(data)
        if intent == "valid" and not report.ok:
            # An edge the engine refuses (a zone on a datetime column, 1.0 for an integer param) breaks
            # a rule: it is a mutation, labelled with the rule the engine names.
            intent = "mutation"
        errors = tuple(sorted({p.code for p in report.errors}))
        warnings = tuple(sorted({p.code for p in report.warnings}))
        self.cases.append(
            Case(self.model.name, self.fmt.kind.value, label, intent, payload, report.ok, errors, warnings, data)
        )

    def payload(self, rows: Sequence[Row], params: Mapping[str, JSONValue] | None = None) -> dict[str, JSONValue]:
        if self.fmt.tensor is not None:
            value = sample_value(self.fmt.tensor, self.rng)
            return build_payload(self.fmt, params=params, tensor_rows=[tensor_row(self.fmt.tensor, value)] * len(rows))
        return build_payload(self.fmt, rows, params)

    def generate(self, *, large: bool = False) -> list[Case]:
        fmt = self.fmt
        base = self.base_row()
        self.add("one row, every column", "valid", self.payload([base]))
        if fmt.kind is not FormatKind.OBJECT:
            self.add("one row, required columns only", "valid", self.payload([self.base_row(everything=False)]))
            self.add("many rows", "valid", self._many_rows())
        if fmt.tensor is not None:
            self._tensor_cases()
        else:
            self._column_cases(base)
        self._param_cases(base)
        self._structure_mutations(base)
        if large and fmt.kind is not FormatKind.OBJECT:
            self._size_cases(base)
        return self.cases

    def _many_rows(self) -> JSONValue:
        if self.fmt.tensor is not None:
            edges = [v for _, v in edge_values(self.fmt.tensor, self.rng) if v is not None]
            tensors = [tensor_row(self.fmt.tensor, self.rng.choice(edges)) for _ in range(5)]
            return build_payload(self.fmt, tensor_rows=tensors)
        # No null in an integer column: the server's DataFrame makes it NaN and refuses it (`integer-null`).
        choices = {
            c.name: [v for _, v in edge_values(c.type, self.rng) if v is not None or not c.type.is_integer] or [None]
            for c in self.columns
        }
        # pandas reads a datetime column in the form of its first value: one form per column and payload.
        fixed = {c.name: self.rng.choice(choices[c.name]) for c in self.columns if c.type.kind is Kind.DATETIME}
        rows: list[Row] = []
        for _ in range(25):
            rows.append({n: fixed[n] if n in fixed else self.rng.choice(values) for n, values in choices.items()})
        return build_payload(self.fmt, rows)

    def _tensor_cases(self) -> None:
        tensor = self.fmt.tensor
        assert tensor is not None
        for label, value in edge_values(tensor, self.rng):
            self.add(f"tensor: {label}", "valid", build_payload(self.fmt, tensor_rows=[tensor_row(tensor, value)]))
        for label, value in bad_values(tensor, self.rng):
            self.add(f"tensor: {label}", "mutation", build_payload(self.fmt, tensor_rows=[tensor_row(tensor, value)]))
        good = tensor_row(tensor, sample_value(tensor, self.rng))
        if isinstance(good, list) and good:
            self.add("tensor: a row one item short", "mutation", build_payload(self.fmt, tensor_rows=[good[:-1]]))

    def _column_cases(self, base: Row) -> None:
        for column in self.columns:
            for label, value in edge_values(column.type, self.rng):
                self.add(f"{column.name}: {label}", "valid", self.payload([{**base, column.name: value}]))
        for column in self.columns:
            for label, value in bad_values(column.type, self.rng):
                self.add(f"mutation: {column.name}: {label}", "mutation", self.payload([{**base, column.name: value}]))
            if self._needed(column) and self.fmt.kind is not FormatKind.DATAFRAME_SPLIT:
                row = {k: v for k, v in base.items() if k != column.name}
                self.add(f"mutation: required {column.name} missing", "mutation", self.payload([row]))

    def _param_cases(self, base: Row) -> None:
        if not self.fmt.params or self.fmt.kind is FormatKind.OBJECT:
            return
        rows = [base]
        for param in self.fmt.params:
            for label, value in _param_edges(param, self.rng):
                self.add(f"param {param.name}: {label}", "valid", self.payload(rows, {param.name: value}))
        for param in self.fmt.params:
            for label, value in _param_bad(param, self.rng):
                self.add(f"mutation: param {param.name}: {label}", "mutation", self.payload(rows, {param.name: value}))
        every = {p.name: _param_sample(p, self.rng) for p in self.fmt.params}
        self.add("every param", "valid", self.payload(rows, every))

    def _structure_mutations(self, base: Row) -> None:
        fmt = self.fmt
        if fmt.kind is FormatKind.OBJECT:
            self.add("mutation: not an object", "mutation", [base])
            self.add("mutation: not JSON", "mutation", None, body=b"{not json")
            return
        good = self.payload([base])
        assert isinstance(good, dict)
        self.add("mutation: no format key", "mutation", {k: v for k, v in good.items() if k != fmt.kind.value})
        self.add("mutation: not JSON", "mutation", None, body=encode(good)[:-1])
        self.add("mutation: no rows", "mutation", self.payload([]) if fmt.tensor is None else {fmt.kind.value: []})
        other = next((f for f in self.model.formats if f.kind is not fmt.kind and f.key is not None), None)
        key = other.kind.value if other is not None else "instances"
        if key != fmt.kind.value:
            self.add(f"mutation: a second format key ({key})", "mutation", {**good, key: good[fmt.kind.value]})
        if fmt.kind is FormatKind.DATAFRAME_SPLIT and fmt.tensor is None:
            split = good[fmt.kind.value]
            assert isinstance(split, dict)
            data = split.get("data")
            if isinstance(data, list) and data and isinstance(data[0], list) and data[0]:
                short: dict[str, JSONValue] = {**split, "data": [data[0][:-1]]}
                self.add("mutation: a row one value short", "mutation", {**good, fmt.kind.value: short})
            if fmt.named_columns and "columns" in split:
                positional = {k: v for k, v in split.items() if k != "columns"}
                self.add("positional rows (no columns list)", "valid", {**good, fmt.kind.value: positional})
            columns = split.get("columns")
            if isinstance(columns, list) and columns and isinstance(data, list) and data and isinstance(data[0], list):
                twice: dict[str, JSONValue] = {"columns": [*columns, columns[0]], "data": [[*data[0], data[0][0]]]}
                self.add("mutation: a column named twice", "mutation", {**good, fmt.kind.value: twice})
        if self.model.params or fmt.params:
            self.add("mutation: params not an object", "mutation", {**good, "params": ["x"]})
        self.add("unknown param", "valid", {**good, "params": {"schemakit_probe_unknown": 1}})

    def _size_cases(self, base: Row) -> None:
        limit = request_limit(self.model)
        one = len(encode(self.payload([base])))
        per_row = max(1, len(encode(self.payload([base, base]))) - one)
        under = max(1, (limit - one - 4096) // per_row)
        self.add(f"about {limit // (1024 * 1024)} MB, just under the limit", "valid", self.payload([base] * under))
        over = (limit - one) // per_row + 2
        self.add(f"just over the {limit // (1024 * 1024)} MB limit", "mutation", self.payload([base] * over))


def _param_type(param: Param) -> DataType:
    if param.shape and param.type.kind is not Kind.ARRAY:
        return DataType(Kind.ARRAY, items=param.type)
    return param.type


def _param_edges(param: Param, rng: random.Random) -> list[tuple[str, JSONValue]]:
    return edge_values(_param_type(param), rng)


def _param_bad(param: Param, rng: random.Random) -> list[tuple[str, JSONValue]]:
    return bad_values(_param_type(param), rng)


def _param_sample(param: Param, rng: random.Random) -> JSONValue:
    if param.has_default:
        return param.default
    return sample_value(_param_type(param), rng)


def generate_cases(
    model: ServedModel,
    *,
    seed: int = 0,
    formats: Sequence[str] | None = None,
    large: bool = False,
    validator: PayloadValidator | None = None,
    stream: bool = False,
) -> list[Case]:
    """Every case of a served model: for each format, valid edges first, then mutations, engine-labelled.

    `large` adds two payloads at the endpoint's size limit (just under and just over: 4 or 16 MB);
    `stream` lets object requests set `stream` (whose answers are events, not the 200 body).
    The same model and seed always give the same cases in the same order.
    """
    checker = validator or compile_validator(model)
    out: list[Case] = []
    for index, fmt in enumerate(model.formats):
        if formats and fmt.kind.value not in formats:
            continue
        rng = random.Random(f"{seed}:{model.name}:{index}")  # noqa: S311 - deterministic test data
        out += _Builder(model, fmt, checker, rng, stream).generate(large=large)
    return out


def interleave(groups: Sequence[Sequence[Case]]) -> Iterator[Case]:
    """Round-robin over groups, so a small budget reaches every served model and format."""
    longest = max((len(g) for g in groups), default=0)
    for i in range(longest):
        for group in groups:
            if i < len(group):
                yield group[i]


def spread(cases: Sequence[Case]) -> list[Case]:
    """Valid cases and mutations alternated (each in generated order), so any prefix tests both."""
    valid = [c for c in cases if c.intent == "valid"]
    mutations = [c for c in cases if c.intent != "valid"]
    return list(interleave([valid, mutations]))
