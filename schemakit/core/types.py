"""The one type table: JSON Schema <-> logical `Kind`, and what each Kind becomes in every target.

Every feature that needs to know what a `Kind` means (the resolver reading a schema, codegen
writing Python or TypeScript, the emulator inventing a value, `diff` judging a type change,
Arrow and Spark readers) looks it up here instead of writing its own if-ladder over `Kind`.
A new Kind, a new `format` alias or a new target is one edit in this module.

The tables are read-only mappings (`MappingProxyType`) so no caller can change them for everyone.
"""

from __future__ import annotations

import base64
import importlib
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from schemakit.core.model import DataType, JSONValue, Kind

#: A `pyarrow.DataType`: pyarrow is optional and untyped, so it is imported only when called.
ArrowType = Any

__all__ = [
    "ARROW_ACCEPTS",
    "ARROW_TYPE",
    "ArrowType",
    "BINARY_FORMATS",
    "DATETIME_FORMATS",
    "DIFF_WIDENINGS",
    "EMULATOR_VALUE",
    "ENUMERABLE_KINDS",
    "FLOAT_KINDS",
    "INTEGER_KINDS",
    "JSON_SCHEMA",
    "NUMBER_KINDS",
    "PYTHON_ANNOTATION",
    "PYTHON_JSON_ANNOTATION",
    "SCALAR_KINDS",
    "SPARK_TYPE",
    "TEXT_KINDS",
    "TYPESCRIPT_COMMENT",
    "TYPESCRIPT_TYPE",
    "ValueMaker",
    "Widening",
    "arrow_type",
    "is_binary_format",
    "is_datetime_format",
    "kind_of",
    "spark_type",
]

# -- JSON Schema -> Kind --------------------------------------------------------------------

#: `format` spellings of base64 text: OpenAPI says `byte`, MLflow and many documents `binary`.
BINARY_FORMATS: frozenset[str] = frozenset({"binary", "byte"})
#: `format` spellings of ISO-8601 instants: JSON Schema says `date-time`, MLflow `datetime`.
DATETIME_FORMATS: frozenset[str] = frozenset({"date-time", "datetime"})

INTEGER_KINDS: frozenset[Kind] = frozenset({Kind.INTEGER, Kind.LONG})
FLOAT_KINDS: frozenset[Kind] = frozenset({Kind.FLOAT, Kind.DOUBLE})
NUMBER_KINDS: frozenset[Kind] = INTEGER_KINDS | FLOAT_KINDS
#: Kinds whose JSON values are strings.
TEXT_KINDS: frozenset[Kind] = frozenset({Kind.STRING, Kind.BINARY, Kind.DATETIME})
#: Kinds with one JSON value per cell and no inner structure.
SCALAR_KINDS: frozenset[Kind] = NUMBER_KINDS | TEXT_KINDS | {Kind.BOOLEAN}
#: Kinds whose `enum` becomes a literal type in generated code.
ENUMERABLE_KINDS: frozenset[Kind] = frozenset({Kind.STRING, Kind.BOOLEAN}) | NUMBER_KINDS


def is_binary_format(fmt: object) -> bool:
    return isinstance(fmt, str) and fmt in BINARY_FORMATS


def is_datetime_format(fmt: object) -> bool:
    return isinstance(fmt, str) and fmt in DATETIME_FORMATS


_BY_JSON_TYPE: Mapping[str, Kind] = MappingProxyType(
    {
        "boolean": Kind.BOOLEAN,
        "null": Kind.NULL,
        "array": Kind.ARRAY,
        "object": Kind.OBJECT,
    }
)


def kind_of(json_type: object, fmt: object = None) -> Kind:
    """The Kind of a single JSON Schema `type` name with its `format` (ANY for anything else).

    `object` gives OBJECT: whether it is a MAP depends on `properties` and `additionalProperties`,
    which the resolver reads.
    """
    if json_type == "integer":
        return Kind.INTEGER if fmt == "int32" else Kind.LONG
    if json_type == "number":
        return Kind.FLOAT if fmt == "float" else Kind.DOUBLE
    if json_type == "string":
        if is_binary_format(fmt):
            return Kind.BINARY
        if is_datetime_format(fmt):
            return Kind.DATETIME
        return Kind.STRING
    return _BY_JSON_TYPE.get(json_type, Kind.ANY) if isinstance(json_type, str) else Kind.ANY


# -- Kind -> JSON Schema --------------------------------------------------------------------

#: The JSON Schema of a scalar Kind's values (what generated models validate against).
JSON_SCHEMA: Mapping[Kind, Mapping[str, str]] = MappingProxyType(
    {
        Kind.BOOLEAN: MappingProxyType({"type": "boolean"}),
        Kind.INTEGER: MappingProxyType({"type": "integer"}),
        Kind.LONG: MappingProxyType({"type": "integer"}),
        Kind.FLOAT: MappingProxyType({"type": "number"}),
        Kind.DOUBLE: MappingProxyType({"type": "number"}),
        Kind.STRING: MappingProxyType({"type": "string"}),
        Kind.BINARY: MappingProxyType({"type": "string", "format": "binary"}),
        Kind.DATETIME: MappingProxyType({"type": "string", "format": "date-time"}),
        Kind.NULL: MappingProxyType({"type": "null"}),
    }
)

# -- Kind -> target types -------------------------------------------------------------------

#: Python annotations of the scalar kinds, as generated objects hold them.
PYTHON_ANNOTATION: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.BOOLEAN: "bool",
        Kind.INTEGER: "int",
        Kind.LONG: "int",
        Kind.FLOAT: "float",
        Kind.DOUBLE: "float",
        Kind.STRING: "str",
        Kind.BINARY: "bytes",
        Kind.DATETIME: "datetime",
        Kind.NULL: "None",
        Kind.ANY: "Any",
    }
)
#: ... and as JSON carries them (binary as base64 text, datetimes as ISO-8601 text).
PYTHON_JSON_ANNOTATION: Mapping[Kind, str] = MappingProxyType(
    {**PYTHON_ANNOTATION, Kind.BINARY: "str", Kind.DATETIME: "str"}
)

#: TypeScript types of the scalar kinds' JSON values.
TYPESCRIPT_TYPE: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.BOOLEAN: "boolean",
        Kind.INTEGER: "number",
        Kind.LONG: "number",
        Kind.FLOAT: "number",
        Kind.DOUBLE: "number",
        Kind.STRING: "string",
        Kind.BINARY: "string",
        Kind.DATETIME: "string",
        Kind.NULL: "null",
        Kind.ANY: "unknown",
    }
)
#: What a TypeScript `string` holds when the Kind is not plain text.
TYPESCRIPT_COMMENT: Mapping[Kind, str] = MappingProxyType({Kind.BINARY: "base64", Kind.DATETIME: "ISO-8601"})

#: Spark SQL type names of the scalar kinds (as `DataType.simpleString()` writes them).
SPARK_TYPE: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.BOOLEAN: "boolean",
        Kind.INTEGER: "int",
        Kind.LONG: "bigint",
        Kind.FLOAT: "float",
        Kind.DOUBLE: "double",
        Kind.STRING: "string",
        Kind.BINARY: "binary",
        Kind.DATETIME: "timestamp",
        Kind.NULL: "void",
        # Spark has no "any": MLflow's spark_udf reads untyped columns as text.
        Kind.ANY: "string",
    }
)


def spark_type(dtype: DataType) -> str:
    """The Spark SQL type of a logical type: `array<double>`, `map<string,bigint>`, `struct<a:int>`."""
    kind = dtype.kind
    if kind is Kind.ARRAY:
        return f"array<{spark_type(dtype.items) if dtype.items is not None else 'string'}>"
    if kind is Kind.MAP:
        return f"map<string,{spark_type(dtype.items) if dtype.items is not None else 'string'}>"
    if kind is Kind.OBJECT:
        if not dtype.fields:
            return "map<string,string>"
        return "struct<" + ",".join(f"{f.name}:{spark_type(f.type)}" for f in dtype.fields) + ">"
    if kind is Kind.UNION:
        # Spark has no unions: one common type when the variants agree, else text.
        names = {spark_type(v) for v in dtype.variants if v.kind is not Kind.NULL}
        return names.pop() if len(names) == 1 else "string"
    return SPARK_TYPE[kind]


#: Names of the pyarrow type factories of the scalar kinds (`pyarrow.<name>()`).
_ARROW_FACTORIES: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.BOOLEAN: "bool_",
        Kind.INTEGER: "int32",
        Kind.LONG: "int64",
        Kind.FLOAT: "float32",
        Kind.DOUBLE: "float64",
        Kind.STRING: "string",
        Kind.BINARY: "binary",
        Kind.NULL: "null",
        Kind.ANY: "string",
    }
)


def _pyarrow() -> Any:
    return importlib.import_module("pyarrow")


def _arrow_scalar(kind: Kind) -> ArrowType:
    pa = _pyarrow()

    if kind is Kind.DATETIME:
        # MLflow's datetime columns are pandas datetime64[ns], UTC when zoned.
        return pa.timestamp("ns")
    factory: Callable[[], ArrowType] = getattr(pa, _ARROW_FACTORIES[kind])
    return factory()


def arrow_type(dtype: DataType) -> ArrowType:
    """The Arrow type of a logical type; imports pyarrow only when called."""
    pa = _pyarrow()

    kind = dtype.kind
    if kind is Kind.ARRAY:
        return pa.list_(arrow_type(dtype.items) if dtype.items is not None else pa.string())
    if kind is Kind.MAP:
        return pa.map_(pa.string(), arrow_type(dtype.items) if dtype.items is not None else pa.string())
    if kind is Kind.OBJECT:
        if not dtype.fields:
            return pa.map_(pa.string(), pa.string())
        return pa.struct([pa.field(f.name, arrow_type(f.type), nullable=not f.required) for f in dtype.fields])
    if kind is Kind.UNION:
        types = {arrow_type(v) for v in dtype.variants if v.kind is not Kind.NULL}
        return types.pop() if len(types) == 1 else pa.string()
    return _arrow_scalar(kind)


#: Kind -> the pyarrow type of a scalar Kind, looked up lazily (`ARROW_TYPE[Kind.LONG]()`).
ARROW_TYPE: Mapping[Kind, Callable[[], ArrowType]] = MappingProxyType(
    {kind: partial(_arrow_scalar, kind) for kind in (*_ARROW_FACTORIES, Kind.DATETIME)}
)


def _arrow_family(*names: str) -> Callable[[ArrowType], bool]:
    """A test on an Arrow type: is it one of pyarrow's `types.is_<name>` families?"""

    def holds(arrow: ArrowType) -> bool:
        tests = _pyarrow().types
        return any(bool(getattr(tests, f"is_{name}")(arrow)) for name in names if hasattr(tests, f"is_{name}"))

    return holds


_ARROW_TEXT = ("string", "large_string", "string_view")
_ARROW_BYTES = ("binary", "large_binary", "fixed_size_binary", "binary_view")
_ARROW_NUMBERS = _arrow_family("integer", "floating", "decimal")

#: Kind -> which Arrow column types can hold its values, as they are or after a value check
#: (int64 data in an `integer` column needs a range check, text in a datetime column the datetime
#: rule). `check-table` reads it; a Kind without an entry accepts no Arrow type but null.
ARROW_ACCEPTS: Mapping[Kind, Callable[[ArrowType], bool]] = MappingProxyType(
    {
        Kind.BOOLEAN: _arrow_family("boolean"),
        Kind.INTEGER: _ARROW_NUMBERS,
        Kind.LONG: _ARROW_NUMBERS,
        Kind.FLOAT: _ARROW_NUMBERS,
        Kind.DOUBLE: _ARROW_NUMBERS,
        Kind.STRING: _arrow_family(*_ARROW_TEXT, *_ARROW_BYTES),
        Kind.BINARY: _arrow_family(*_ARROW_TEXT, *_ARROW_BYTES),
        Kind.DATETIME: _arrow_family("timestamp", "date", *_ARROW_TEXT),
        Kind.ARRAY: _arrow_family("list", "large_list", "fixed_size_list", "list_view"),
        Kind.MAP: _arrow_family("struct", "map"),
        Kind.OBJECT: _arrow_family("struct", "map"),
    }
)

# -- Kind -> emulator values ----------------------------------------------------------------

#: Makes a deterministic JSON value for a type from 16 seed bytes.
ValueMaker = Callable[[bytes, DataType], JSONValue]


def _finite(value: int | float) -> float:
    # A bound beyond float range (an integer of hundreds of digits) is as good as unbounded here.
    try:
        return float(value)
    except OverflowError:
        return sys.float_info.max if value > 0 else -sys.float_info.max


def _integer_value(seed: bytes, dtype: DataType) -> JSONValue:
    lo: int | None = None
    if dtype.minimum is not None:
        lo = math.ceil(dtype.minimum)
    elif dtype.exclusive_minimum is not None:
        lo = math.floor(dtype.exclusive_minimum) + 1
    hi: int | None = None
    if dtype.maximum is not None:
        hi = math.floor(dtype.maximum)
    elif dtype.exclusive_maximum is not None:
        hi = math.ceil(dtype.exclusive_maximum) - 1
    low = lo if lo is not None else (0 if hi is None or hi >= 0 else hi - 1000)
    high = hi if hi is not None else low + 1000
    high = max(high, low)
    return low + int.from_bytes(seed[:4], "big") % (high - low + 1)


def _number_value(seed: bytes, dtype: DataType) -> JSONValue:
    fraction = int.from_bytes(seed[:4], "big") / 2**32
    low = dtype.minimum if dtype.minimum is not None else dtype.exclusive_minimum
    high = dtype.maximum if dtype.maximum is not None else dtype.exclusive_maximum
    if low is None and high is None:
        return round(fraction * 100.0, 2)
    lo = _finite(low) if low is not None else _finite(high or 0) - 100.0
    hi = _finite(high) if high is not None else lo + 100.0
    # Strictly inside the bounds, so exclusive bounds hold too.
    weight = 0.1 + 0.8 * fraction
    return lo * (1 - weight) + hi * weight  # not lo + (hi - lo) * weight: hi - lo can overflow


def _string_value(seed: bytes, dtype: DataType) -> JSONValue:
    text = f"value-{seed.hex()[:8]}"
    if dtype.min_length is not None and len(text) < dtype.min_length:
        text += "x" * (dtype.min_length - len(text))
    if dtype.max_length is not None:
        text = text[: dtype.max_length]
    return text


def _datetime_value(seed: bytes, dtype: DataType) -> JSONValue:
    return f"2024-01-{1 + seed[0] % 28:02d}T{seed[1] % 24:02d}:{seed[2] % 60:02d}:{seed[3] % 60:02d}Z"


#: Kind -> a deterministic value within the type's bounds, for the scalar kinds.
EMULATOR_VALUE: Mapping[Kind, ValueMaker] = MappingProxyType(
    {
        Kind.BOOLEAN: lambda seed, _t: bool(seed[0] & 1),
        Kind.INTEGER: _integer_value,
        Kind.LONG: _integer_value,
        Kind.FLOAT: _number_value,
        Kind.DOUBLE: _number_value,
        Kind.STRING: _string_value,
        Kind.BINARY: lambda seed, _t: base64.b64encode(seed[:6]).decode(),
        Kind.DATETIME: _datetime_value,
        Kind.NULL: lambda _seed, _t: None,
    }
)

# -- Kind changes in diff -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Widening:
    """A kind change every old request value survives; `loss` says what precision is lost, if any."""

    loss: str | None = None


#: (old kind, new kind) of a request type -> the change is compatible (old values still accepted).
DIFF_WIDENINGS: Mapping[tuple[Kind, Kind], Widening] = MappingProxyType(
    {
        (Kind.INTEGER, Kind.LONG): Widening(),
        (Kind.INTEGER, Kind.DOUBLE): Widening(),
        (Kind.FLOAT, Kind.DOUBLE): Widening(),
        (Kind.INTEGER, Kind.FLOAT): Widening("integers above 2^24 lose precision"),
        (Kind.LONG, Kind.DOUBLE): Widening("integers above 2^53 lose precision"),
        (Kind.LONG, Kind.FLOAT): Widening("integers above 2^24 lose precision"),
    }
)
