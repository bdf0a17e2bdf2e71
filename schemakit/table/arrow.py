"""The Arrow engine: `check`'s rules applied column-wise to record batches with pyarrow.compute.

Each logical type (`Kind`) accepts some Arrow types as they are, some only after a
check of their values, and refuses the rest (`column-type`). What a value check is
mirrors what the value becomes in a request: an int64 in an `integer` (int32) column
is a range check, not a dtype refusal; a float64 in an integer column (what an integer
column with nulls becomes in pandas) is read as `check` reads a JSON number: 3.5 is a
type error, 1.0 a `float-for-integer` finding; text in a binary column must be base64,
text in a datetime column must pass the strict datetime rule, and so on down arrays,
structs and maps. Rows that fail carry their row number: `rows` travels beside every
array, through list flattening and struct filtering.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemakit.core.model import DataType, Kind
from schemakit.core.types import ARROW_ACCEPTS, FLOAT_KINDS, INTEGER_KINDS
from schemakit.runtime.jsonsem import INT32, INT64
from schemakit.runtime.report import describe_value
from schemakit.runtime.values import NS_FIRST, NS_LAST, is_base64
from schemakit.table.datetimes import check_datetime_texts
from schemakit.table.report import Findings
from schemakit.table.rules import INTEGER_NULL_MESSAGE, severity

__all__ = [
    "ValueChecker",
    "accepts",
    "cast_advice",
    "describe_cell",
    "ns_range",
    "plain",
    "plain_type",
    "temporal_ticks",
]

_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_DAY_NS = 86_400 * 10**9


def describe_cell(value: Any) -> str:
    """A value as the report shows it: `check`'s wording for JSON values, and Arrow's other values."""
    if isinstance(value, bytes):
        return f"{len(value):,} bytes"
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return f"{type(value).__name__} {value.isoformat()}"
    if isinstance(value, decimal.Decimal):
        return f"decimal {value}"
    return describe_value(value)


def plain(arr: Any) -> Any:
    """The array with encodings that do not change values removed, so the checks see one type per family.

    Dictionaries and run-end encoding are decoded, views become their large layouts, list views
    lists, extension types their storage (a UUID its canonical text, as a request carries it),
    float16 float32 and the narrow decimals decimal128: the values are the same, the request too.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    while True:
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.dictionary_decode()
        elif pa.types.is_run_end_encoded(t):
            arr = pc.run_end_decode(arr)
        elif isinstance(t, pa.BaseExtensionType):
            arr = _uuid_text(arr) if t.extension_name == "arrow.uuid" else arr.storage
        elif pa.types.is_string_view(t):
            # Through bytes: a cast to text would refuse invalid UTF-8, which the utf8 rule reports.
            arr = arr.cast(pa.large_binary()).view(pa.large_string())
        elif pa.types.is_binary_view(t):
            arr = arr.cast(pa.large_binary())
        elif pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
            arr = _from_list_view(arr)
        elif pa.types.is_float16(t):
            arr = arr.cast(pa.float32())
        elif pa.types.is_decimal32(t) or pa.types.is_decimal64(t):
            arr = arr.cast(pa.decimal128(t.precision, t.scale))
        else:
            return arr


def _uuid_text(arr: Any) -> Any:
    """UUIDs (16 bytes each) as their canonical lower-case text, vectorised."""
    storage = arr.storage
    n = len(storage)
    raw = np.frombuffer(storage.buffers()[1], dtype=np.uint8)[storage.offset * 16 : (storage.offset + n) * 16]
    raw = raw.reshape(n, 16)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    pairs = np.empty((n, 32), dtype=np.uint8)
    pairs[:, 0::2] = hexdigits[raw >> 4]
    pairs[:, 1::2] = hexdigits[raw & 15]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for start, stop, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, at : at + stop - start] = pairs[:, start:stop]
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 36).tobytes())
    validity = storage.buffers()[0] if storage.null_count else None
    if validity is not None and storage.offset:
        validity = pa.array(storage.is_valid()).buffers()[1]
    return pa.Array.from_buffers(pa.string(), n, [validity, offsets, pa.py_buffer(text.tobytes())], storage.null_count)


def _from_list_view(arr: Any) -> Any:
    """A list view as the list it stands for (pyarrow's own cast writes invalid arrays)."""
    n = len(arr)
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    starts = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)[:n]
    sizes = np.where(valid, np.asarray(arr.sizes.to_numpy(zero_copy_only=False), dtype=np.int64)[:n], 0)
    ends = np.concatenate(([0], np.cumsum(sizes)))
    index = np.arange(int(ends[-1]), dtype=np.int64) - np.repeat(ends[:-1] - starts, sizes)
    values = arr.values.take(pa.array(index))
    large = pa.types.is_large_list_view(arr.type)
    offsets = pa.array(ends, pa.int64() if large else pa.int32())
    cls = pa.LargeListArray if large else pa.ListArray
    mask = pa.array(~valid) if not valid.all() else None
    return cls.from_arrays(
        offsets, values, type=(pa.large_list if large else pa.list_)(arr.type.value_field), mask=mask
    )


def _is_text(t: Any) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _is_bytes(t: Any) -> bool:
    return bool(pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t))


def _is_list(t: Any) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t))


def _is_number(t: Any) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def accepts(dtype: DataType, t: Any) -> bool:
    """Whether a column of Arrow type `t` can hold the logical type's values (perhaps after a value check)."""
    t = plain_type(t)
    if pa.types.is_null(t) or dtype.kind is Kind.ANY:
        return True
    if dtype.kind is Kind.UNION:
        return any(accepts(v, t) for v in dtype.variants)
    holds = ARROW_ACCEPTS.get(dtype.kind)
    return holds is not None and holds(t)


def plain_type(t: Any) -> Any:
    """The type `plain` makes of an array of type `t` (the encoding removed, the values' type kept)."""
    while True:
        if pa.types.is_dictionary(t) or pa.types.is_run_end_encoded(t):
            t = t.value_type
        elif isinstance(t, pa.BaseExtensionType):
            t = pa.string() if t.extension_name == "arrow.uuid" else t.storage_type
        elif pa.types.is_string_view(t):
            return pa.large_string()
        elif pa.types.is_binary_view(t):
            return pa.large_binary()
        elif pa.types.is_list_view(t):
            return pa.list_(t.value_field)
        elif pa.types.is_large_list_view(t):
            return pa.large_list(t.value_field)
        elif pa.types.is_float16(t):
            return pa.float32()
        elif pa.types.is_decimal32(t) or pa.types.is_decimal64(t):
            return pa.decimal128(t.precision, t.scale)
        else:
            return t


def _false_for_null(mask: Any) -> Any:
    return pc.fill_null(mask, False) if mask.null_count else mask


class ValueChecker:
    """Checks arrays against logical types, adding what it finds to `findings`."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings

    # -- reporting --------------------------------------------------------------------------

    def hit(
        self, path: str, code: str, message: str, mask: Any, arr: Any, rows: Any, *, level: str | None = None
    ) -> int:
        """Report the rows where `mask` is true (nulls in the mask count as false); `level` overrides the severity."""
        mask = _false_for_null(mask)
        count = pc.sum(mask).as_py() or 0
        if count:
            key = (path, code, message)
            need = self.findings.room(key)
            samples: list[tuple[int, str]] = []
            if need > 0:
                index = pc.indices_nonzero(mask).slice(0, need)
                samples = [
                    (row, describe_cell(value))
                    for row, value in zip(rows.take(index).to_pylist(), _values(arr.take(index)), strict=True)
                ]
            self.findings.add(key, level or severity(code), count, samples)
        return int(count)

    def column_type(self, dtype: DataType, arr: Any, rows: Any, path: str, raw_type: Any = None) -> None:
        t = raw_type if raw_type is not None else arr.type
        self.hit(
            path,
            "column-type",
            f"expected {dtype.display()}, but the table column is {t}: {cast_advice(dtype, t)}",
            arr.is_valid(),
            arr,
            rows,
        )

    # -- dispatch ---------------------------------------------------------------------------

    def check(
        self, dtype: DataType, arr: Any, rows: Any, path: str, *, column: bool = False, raw_type: Any = None
    ) -> None:
        """Check `arr` against `dtype`; `column` when it is a whole table column (not a nested value).

        `raw_type`: the type as stored when `arr` was already made `plain` (messages name what the table holds)."""
        raw_type = arr.type if raw_type is None else raw_type
        arr = plain(arr)
        if dtype.kind is Kind.UNION:
            chosen = _variant(dtype, arr.type)
            if chosen is None:
                self.column_type(dtype, arr, rows, path, raw_type)
                return
            dtype = chosen
        if arr.null_count and not dtype.nullable and dtype.kind is not Kind.ANY:
            self.hit(path, "type", f"expected {dtype.display()}, got null", arr.is_null(), arr, rows)
        if column and arr.null_count and dtype.nullable and dtype.kind in INTEGER_KINDS:
            # A null where the type has none is a `type` finding already, as `check` gives it.
            self.hit(path, "integer-null", INTEGER_NULL_MESSAGE, arr.is_null(), arr, rows)
        t = arr.type
        if pa.types.is_null(t) or dtype.kind is Kind.ANY or arr.null_count == len(arr):
            return
        if not accepts(dtype, t):
            self.column_type(dtype, arr, rows, path, raw_type)
            return
        kind = dtype.kind
        if kind in INTEGER_KINDS:
            self._integers(dtype, arr, rows, path, column)
        elif kind in FLOAT_KINDS:
            self._floats(dtype, arr, rows, path)
        elif kind is Kind.STRING:
            self._strings(dtype, arr, rows, path)
        elif kind is Kind.BINARY:
            _binary(self, dtype, arr, rows, path)
        elif kind is Kind.DATETIME:
            _datetimes(self, dtype, arr, rows, path)
        elif kind is Kind.ARRAY:
            self._arrays(dtype, arr, rows, path)
        elif kind is Kind.MAP:
            self._maps(dtype, arr, rows, path)
        elif kind is Kind.OBJECT:
            self._objects(dtype, arr, rows, path)
        if dtype.enum is not None and kind in (*INTEGER_KINDS, *FLOAT_KINDS, Kind.STRING, Kind.BOOLEAN):
            _enum(self, dtype, arr, rows, path)

    # -- numbers ----------------------------------------------------------------------------

    def _integers(self, dtype: DataType, arr: Any, rows: Any, path: str, column: bool = False) -> None:
        t = arr.type
        bits = "int32" if dtype.kind is Kind.INTEGER else "int64"
        low, high = INT32 if dtype.kind is Kind.INTEGER else INT64
        range_message = f"expected {dtype.display()} ({bits}): outside the {bits} range"
        if pa.types.is_integer(t):
            width = t.bit_width
            t_low, t_high = (
                (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if pa.types.is_signed_integer(t) else (0, 2**width - 1)
            )
            masks = []
            if t_low < low:
                masks.append(pc.less(arr, pa.scalar(low, t)))
            if t_high > high:
                masks.append(pc.greater(arr, pa.scalar(high, t)))
            if masks:
                self.hit(path, "int-range", range_message, _any(masks), arr, rows)
            _bounds(self, dtype, arr, arr, rows, path)
            return
        if pa.types.is_decimal(t) and t.scale <= 0:
            # A decimal without a fraction is written as an integer, and compared exactly, as `check` compares
            # an integer (a float64 cannot tell 2**63 - 1 from 2**63). With a fraction it is written as a
            # number with a point, which JSON readers (and `check`) read as the double it rounds to: below.
            whole = arr.is_valid()
            edge = pa.decimal256(40, 0) if pa.types.is_decimal256(t) else pa.decimal128(20, 0)
            inside = pc.and_(
                pc.greater_equal(arr, pa.scalar(decimal.Decimal(low), edge)),
                pc.less_equal(arr, pa.scalar(decimal.Decimal(high), edge)),
            )
            values = arr.cast(pa.float64())
        else:
            values = arr.cast(pa.float64()) if not pa.types.is_float64(t) else arr
            whole = pc.and_(pc.is_finite(values), pc.equal(values, pc.floor(values)))
            # high + 1 is a power of two, exact as a double: `check` compares a float with the int exactly.
            inside = pc.and_(pc.greater_equal(values, float(low)), pc.less(values, float(high + 1)))
        whole = _false_for_null(whole)
        self.hit(
            path,
            "type",
            f"expected {dtype.display()}, got a number with a fraction",
            pc.and_(arr.is_valid(), pc.invert(whole)),
            arr,
            rows,
        )
        self.hit(path, "int-range", range_message, pc.and_(whole, pc.invert(inside)), arr, rows)
        if not (pa.types.is_decimal(t) and t.scale <= 0):  # a decimal without a fraction is written as an integer
            if column:
                message = (
                    f"expected {dtype.display()}, got a whole-number float (the table column is {t}; an integer "
                    "column with nulls becomes float64 in pandas): MLflow reads 1.0 as 1, but send integers"
                )
                level = None
            else:
                # As `check`: only a dataframe cell is converted by the server; nested, 1.0 is refused.
                message = (
                    f"expected {dtype.display()}, got a whole-number float (the table column is {t}): "
                    "the server refuses it inside a value: send integers"
                )
                level = "error"
            finite = _false_for_null(pc.is_finite(values))
            self.hit(path, "float-for-integer", message, pc.and_(whole, finite), arr, rows, level=level)
        _bounds(self, dtype, values, arr, rows, path)

    def _floats(self, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
        values = arr.cast(pa.float64()) if pa.types.is_decimal(arr.type) or pa.types.is_float32(arr.type) else arr
        failed = _bounds(self, dtype, values, arr, rows, path)
        if pa.types.is_floating(arr.type):
            # As in `check`: a value outside a bound is reported for the bound alone.
            bad = pc.invert(pc.is_finite(values))
            self.hit(
                path,
                "non-finite",
                f"expected {dtype.display()}: NaN and Infinity are not valid JSON",
                bad if failed is None else pc.and_(bad, pc.invert(failed)),
                arr,
                rows,
            )

    # -- text -------------------------------------------------------------------------------

    def _text(self, arr: Any, rows: Any, path: str) -> Any | None:
        """The array as valid UTF-8 text, or None when some rows are not (reported as `utf8`)."""
        t = arr.type
        try:
            if _is_text(t):
                arr.validate(full=True)
                return arr
            return arr.cast(pa.large_string())
        except pa.ArrowInvalid:
            if _is_text(t):
                raw = arr.view(pa.large_binary() if pa.types.is_large_string(t) else pa.binary())
            else:
                raw = arr.cast(pa.large_binary())
            bad = [not _utf8(v) for v in raw.to_pylist()]
            self.hit(path, "utf8", "expected UTF-8 text", pa.array(bad, pa.bool_()), raw, rows)
            return None

    def _strings(self, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
        text = self._text(arr, rows, path)
        if text is None:
            return
        if dtype.min_length is not None or dtype.max_length is not None:
            lengths = pc.utf8_length(text)
            if dtype.min_length is not None:
                self.hit(
                    path,
                    "min-length",
                    f"expected text of at least {dtype.min_length} characters",
                    pc.less(lengths, dtype.min_length),
                    text,
                    rows,
                )
            if dtype.max_length is not None:
                self.hit(
                    path,
                    "max-length",
                    f"expected text of at most {dtype.max_length} characters",
                    pc.greater(lengths, dtype.max_length),
                    text,
                    rows,
                )
        if dtype.pattern is not None:
            try:
                mask = pc.invert(pc.match_substring_regex(text, dtype.pattern))
                message = f"expected text matching {json.dumps(dtype.pattern)}"
            except pa.ArrowInvalid:
                # RE2 refuses what cannot be matched in linear time: as `check`, no text is checked against it.
                mask = text.is_valid()
                message = (
                    f"the document's pattern {json.dumps(dtype.pattern)} cannot be matched safely (RE2 refuses it)"
                )
            self.hit(path, "pattern", message, mask, text, rows)

    # -- nested -----------------------------------------------------------------------------

    def _arrays(self, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
        if dtype.min_items is not None or dtype.max_items is not None:
            lengths = pc.list_value_length(arr)
            if dtype.min_items is not None:
                self.hit(
                    path,
                    "min-items",
                    f"expected at least {dtype.min_items} items",
                    pc.less(lengths, dtype.min_items),
                    arr,
                    rows,
                )
            if dtype.max_items is not None:
                self.hit(
                    path,
                    "max-items",
                    f"expected at most {dtype.max_items} items",
                    pc.greater(lengths, dtype.max_items),
                    arr,
                    rows,
                )
        if dtype.items is None:
            return
        values, parents = _children(arr, arr.values)
        if len(values):
            self.check(dtype.items, values, rows.take(parents), f"{path}[]")

    def _maps(self, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
        if dtype.items is None:
            return
        if pa.types.is_map(arr.type):
            values, parents = _children(arr, arr.items)
            if len(values):
                self.check(dtype.items, values, rows.take(parents), f"{path}{{}}")
            return
        arr, rows = _valid_rows(arr, rows)
        for index in range(arr.type.num_fields):
            # A struct read from JSON Lines has a field for every key any row has: a null is a key
            # the row does not have (maps whose keys differ per row).
            values, at = _valid_rows(arr.field(index), rows)
            self.check(dtype.items, values, at, f"{path}.{arr.type.field(index).name}")

    def _objects(self, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
        if not dtype.fields or not pa.types.is_struct(arr.type):
            return  # a map where fields are declared: the keys differ per row, left to `check`
        arr, rows = _valid_rows(arr, rows)
        for column in dtype.fields:
            index = arr.type.get_field_index(column.name)
            if index < 0:
                if column.required:
                    self.hit(
                        path,
                        "required",
                        f"expected an object with the required field {json.dumps(column.name)}",
                        arr.is_valid(),
                        arr,
                        rows,
                    )
                continue
            # A null field is a null value, as a request built from the row carries it (`check` refuses it
            # where the field's type has no null, optional or not).
            self.check(column.type, arr.field(index), rows, f"{path}.{column.name}")


def temporal_ticks(arr: Any) -> tuple[Any, int]:
    """A timestamp or date column as whole ticks (numpy int64, nulls as 0) and nanoseconds per tick.

    The one conversion for every unit: a date64 with a fraction of a day is the day it falls
    on (what it becomes in pandas and in a request), a date32 a count of days.
    """
    t = arr.type
    if pa.types.is_timestamp(t):
        storage, per = arr.cast(pa.int64()), _NS_PER[t.unit]
    elif pa.types.is_date32(t):
        storage, per = arr.cast(pa.int32()).cast(pa.int64()), _DAY_NS
    elif pa.types.is_date64(t):
        millis = np.asarray(pc.fill_null(arr.cast(pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        return np.floor_divide(millis, 86_400_000), _DAY_NS
    else:
        raise TypeError(f"not a timestamp or date: {t}")
    return np.asarray(pc.fill_null(storage, 0).to_numpy(zero_copy_only=False), dtype=np.int64), per


def ns_range(per: int) -> tuple[int, int]:
    """The ticks (of `per` nanoseconds) from NS_FIRST (-2**63 ns, as `check` counts it) to NS_LAST (2**63 - 1 ns)."""
    return -(2**63 // per), (2**63 - 1) // per


def cast_advice(dtype: DataType, t: Any) -> str:
    """What to cast a refused column type to, in one phrase."""
    target = _cast_target(dtype)
    if pa.types.is_time(t):
        if dtype.kind is Kind.DATETIME:
            return f"a time of day is not a datetime; combine it with a date into {target}"
        return f"cast it to {target}"
    if pa.types.is_duration(t):
        return f"a duration has no JSON form MLflow reads; cast it to int64 (a count of {t.unit}) or {target}"
    if pa.types.is_interval(t):
        return f"an interval has no JSON form MLflow reads; cast it to {target}"
    if pa.types.is_union(t):
        return f"a union column holds several types; cast it to {target}"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return f"write it as ISO-8601 text or cast it to {target}"
    if dtype.kind is Kind.DATETIME and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return (
            "numbers are not datetimes (MLflow would read them as nanoseconds since 1970; pandas' to_json writes "
            f"epoch milliseconds unless date_format='iso'); write ISO-8601 text or cast it to {target}"
        )
    return f"cast it to {target}"


def _cast_target(dtype: DataType) -> str:
    from schemakit.core.types import arrow_type

    if dtype.kind is Kind.UNION:
        variants = [v for v in dtype.variants if v.kind is not Kind.NULL]
        dtype = variants[0] if len(variants) == 1 else dtype
    try:
        return str(arrow_type(dtype))
    except (KeyError, TypeError):
        return "string"


def _binary(checker: ValueChecker, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
    """Text in a binary column must be base64 (bytes are encoded by the request writer)."""
    if not _is_text(arr.type):
        return  # bytes: the request writer base64-encodes them
    if checker._text(arr, rows, path) is None:
        return
    maybe = pc.and_(arr.is_valid(), pc.invert(_false_for_null(pc.match_substring_regex(arr, _BASE64))))
    if not pc.any(maybe).as_py():
        return
    index = pc.indices_nonzero(maybe)
    confirmed = [not is_base64(text) for text in arr.take(index).to_pylist()]
    checker.hit(
        path,
        "binary-base64",
        "expected binary (base64 text)",
        pa.array(confirmed, pa.bool_()),
        arr.take(index),
        rows.take(index),
    )


def _datetimes(checker: ValueChecker, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
    """Datetime text by `check`'s strict rule; native timestamps zone-free and inside datetime64[ns]."""
    t = arr.type
    code = "datetime-iso8601"
    if _is_text(t):
        text = checker._text(arr, rows, path)
        if text is not None:
            check_datetime_texts(text, rows, path, checker.findings, severity(code))
        return
    if pa.types.is_timestamp(t) and t.tz is not None:
        checker.hit(
            path,
            code,
            f"expected datetime without a UTC offset, but the table column is {t}: MLflow cannot put a "
            "timezone-aware value in a datetime column; convert to UTC and drop the zone",
            arr.is_valid(),
            arr,
            rows,
        )
        return
    ticks, per = temporal_ticks(arr)
    low, high = ns_range(per)
    out = (ticks < low) | (ticks > high)
    if arr.null_count:
        out &= np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if out.any():
        checker.hit(
            path,
            code,
            f"expected datetime from {NS_FIRST} to {NS_LAST} (the range of pandas datetime64[ns])",
            pa.array(out),
            arr,
            rows,
        )


def _bounds(checker: ValueChecker, dtype: DataType, values: Any, arr: Any, rows: Any, path: str) -> Any:
    """The schema's bounds, compared as `check` compares (a NaN fails every bound); the rows failing any."""
    checks = (
        ("minimum", dtype.minimum, pc.greater_equal, ">="),
        ("maximum", dtype.maximum, pc.less_equal, "<="),
        ("exclusive-minimum", dtype.exclusive_minimum, pc.greater, ">"),
        ("exclusive-maximum", dtype.exclusive_maximum, pc.less, "<"),
    )
    failed = None
    for code, bound, holds, sign in checks:
        if bound is None:
            continue
        try:
            inside = holds(values, pa.scalar(bound).cast(values.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
            inside = holds(values.cast(pa.float64()), float(bound))
        mask = pc.and_(arr.is_valid(), pc.invert(_false_for_null(inside)))
        checker.hit(path, code, f"expected {dtype.display()} {sign} {bound}", mask, arr, rows)
        failed = mask if failed is None else pc.or_(failed, mask)
    return failed


def _enum(checker: ValueChecker, dtype: DataType, arr: Any, rows: Any, path: str) -> None:
    allowed = [v for v in dtype.enum or () if v is not None and _same_family(v, arr.type)]
    try:
        value_set = pa.array(allowed, type=arr.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return
    shown = ", ".join(json.dumps(v) for v in (dtype.enum or ())[:10])
    mask = pc.and_(arr.is_valid(), pc.invert(pc.is_in(arr, value_set=value_set)))
    checker.hit(path, "enum", f"expected one of {shown}", mask, arr, rows)


def _children(arr: Any, child: Any) -> tuple[Any, Any]:
    """The values of a list (or map) array and, for each, the index of its list.

    Computed from the offsets: `pyarrow.compute.list_parent_indices` aborts the process on map arrays.
    """
    n = len(arr)
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        values = child.slice(arr.offset * size, n * size)
        return values, pa.array(np.repeat(np.arange(n, dtype=np.int64), size))
    offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    start = int(offsets[0])
    values = child.slice(start, int(offsets[-1]) - start)
    return values, pa.array(np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets)))


def _any(masks: list[Any]) -> Any:
    out = masks[0]
    for mask in masks[1:]:
        out = pc.or_(out, mask)
    return out


def _valid_rows(arr: Any, rows: Any) -> tuple[Any, Any]:
    if not arr.null_count:
        return arr, rows
    valid = arr.is_valid()
    return arr.filter(valid), rows.filter(valid)


def _variant(dtype: DataType, t: Any) -> DataType | None:
    nullable = dtype.nullable or any(v.kind is Kind.NULL for v in dtype.variants)
    for variant in dtype.variants:
        if variant.kind is not Kind.NULL and accepts(variant, t):
            return variant if variant.nullable or not nullable else _with_null(variant)
    return None


def _with_null(dtype: DataType) -> DataType:
    from dataclasses import replace

    return replace(dtype, nullable=True)


def _same_family(value: object, t: Any) -> bool:
    if pa.types.is_boolean(t):
        return isinstance(value, bool)
    if pa.types.is_integer(t):
        return isinstance(value, int) and not isinstance(value, bool)
    if pa.types.is_floating(t):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _utf8(value: bytes | None) -> bool:
    if value is None:
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _values(arr: Any) -> list[Any]:
    try:
        return list(arr.to_pylist())
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError, OverflowError):
        # Bad UTF-8, dates past Python's year 9999: the report shows the raw values instead.
        try:
            return list(arr.cast(pa.int64()).to_pylist()) if pa.types.is_temporal(arr.type) else [None] * len(arr)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return [None] * len(arr)
