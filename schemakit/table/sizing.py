"""Batch sizing: how many rows of a table fit in one request under the endpoint's size limit.

Each row's size is estimated as the JSON text a `dataframe_split` request carries for it
(numbers as they print, text with its quotes and escapes, binary as base64, nested values with their
brackets), column by column with pyarrow.compute and numpy, as batches stream by. The
advice is the largest rows-per-request under the limit for *any* run of rows: it is
derived from the largest row, so a batch job that cuts the table into chunks of that size
never sends a request the endpoint refuses for its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemakit.core.limits import request_limit
from schemakit.core.model import ServedModel
from schemakit.table.arrow import plain
from schemakit.table.report import BatchAdvice

__all__ = ["RowSizes", "advise_batch_size", "cell_sizes"]

_ISO_WIDTH = {"s": 21, "ms": 25, "us": 28, "ns": 31}
#: 10, 100, ..., 10**19: a magnitude's digit count is how many of these it reaches, plus one.
_POWERS = np.array([10**k for k in range(1, 20)], dtype=np.uint64)

#: Cell sizes: one number when every cell of the column has it, else one per cell.
Sizes = int | Any


def cell_sizes(arr: Any) -> Any:
    """The bytes each cell takes as JSON (a numpy int64 array; null is `null`)."""
    sizes = _sizes(plain(arr))
    return np.full(len(arr), sizes, dtype=np.int64) if isinstance(sizes, int) else sizes


def _sizes(arr: Any) -> Sizes:
    """`cell_sizes` of a plain array, from its buffers (offsets, min and max) wherever they tell the sizes:
    a column whose cells all take the same bytes is one number, not an array."""
    t = arr.type
    if pa.types.is_null(t):
        return 4
    sizes: Sizes
    if pa.types.is_boolean(t):
        trues = pc.sum(arr).as_py() or 0
        valid = len(arr) - arr.null_count
        sizes = 4 if trues == valid else 5 if trues == 0 else np.where(_bools(arr), 4, 5).astype(np.int64)
    elif pa.types.is_integer(t):
        sizes = _digits(arr)
    elif pa.types.is_floating(t):
        # The longest shortest-repr of a double ("-2.2250738585072014e-308"): a float32 prints as the double it is.
        sizes = 24
    elif pa.types.is_decimal(t):
        sizes = t.precision + 2
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        sizes = _lengths(arr) + 2 + _escapes(arr)
    elif pa.types.is_fixed_size_binary(t):
        sizes = (t.byte_width + 2) // 3 * 4 + 2
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        sizes = (_lengths(arr) + 2) // 3 * 4 + 2
    elif pa.types.is_timestamp(t):
        sizes = _ISO_WIDTH[t.unit] + 2 + (6 if t.tz else 0)
    elif pa.types.is_date(t):
        sizes = 12
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t) or pa.types.is_fixed_size_list(t):
        sizes = _lists(arr)
    elif pa.types.is_struct(t):
        sizes = 2 + max(t.num_fields - 1, 0)
        for index in range(t.num_fields):
            sizes = sizes + _sizes(plain(arr.field(index))) + len(t.field(index).name) + 3
    elif pa.types.is_duration(t) or pa.types.is_time(t):
        # As their count of units, quoted: an upper bound for any text form of them.
        sizes = _digits(arr.cast(pa.int32() if pa.types.is_time32(t) else pa.int64())) + 2
    else:
        sizes = _other_sizes(arr)
    if arr.null_count and not (isinstance(sizes, int) and sizes == 4):
        sizes = np.where(_bools(arr.is_null()), 4, sizes).astype(np.int64)
    return sizes


def _other_sizes(arr: Any) -> Any:
    """Cells of other types (intervals, unions) as orjson writes their Python values; 64 bytes each where
    Python cannot hold the value (a duration past timedelta's range inside a union, ...)."""
    import orjson

    try:
        return np.array([len(orjson.dumps(v, default=str)) for v in arr.to_pylist()], dtype=np.int64)
    except (OverflowError, ValueError, pa.ArrowException, orjson.JSONEncodeError):
        return np.full(len(arr), 64, dtype=np.int64)


def _offsets(arr: Any) -> Any:
    """The n+1 offsets of a string, binary, list or map array (its slice), as int64."""
    width = np.int64 if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type) else np.int32
    if pa.types.is_large_list(arr.type):
        width = np.int64
    buffer = arr.buffers()[1]
    count = arr.offset + len(arr) + 1
    if buffer is None or buffer.size < count * np.dtype(width).itemsize:  # an empty array may have none
        return np.zeros(len(arr) + 1, dtype=np.int64)
    return np.frombuffer(buffer, dtype=width, count=count)[arr.offset :].astype(np.int64)


def _lengths(arr: Any) -> Any:
    """Bytes of each text or binary cell (0 for a null): Arrow reads them off the offsets buffer."""
    return np.asarray(pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False), dtype=np.int64)


#: The bytes JSON writes beyond one for each byte of text: `\"`, `\\`, `\n` and the like take 2, other control
#: characters `\u00XX`, 6. (Non-ASCII text counts as its UTF-8 bytes, as orjson and `ensure_ascii=False` write it.)
_ESCAPE_EXTRA = np.zeros(256, dtype=np.uint8)
_ESCAPE_EXTRA[:32] = 5
_ESCAPE_EXTRA[[0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x22, 0x5C]] = 1


def _escapes(arr: Any) -> Sizes:
    """The bytes each text cell's escapes add, from one pass over the data buffer (0 when it has none)."""
    buffers = arr.buffers()
    data = buffers[2]
    if data is None or not len(arr) or buffers[1] is None:
        return 0
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    ends = np.frombuffer(buffers[1], dtype=width, count=arr.offset + len(arr) + 1)
    raw = np.frombuffer(data, dtype=np.uint8)[int(ends[arr.offset]) : int(ends[-1])]
    if not ((raw < 0x20).any() or (raw == 0x22).any() or (raw == 0x5C).any()):  # most text has nothing to escape
        return 0
    offsets = _offsets(arr)
    extra = _ESCAPE_EXTRA[raw]
    total = np.zeros(len(extra) + 1, dtype=np.int64)
    np.cumsum(extra, out=total[1:])
    return np.diff(total[offsets - offsets[0]])


def _digits(arr: Any) -> Sizes:
    """Characters of each integer as JSON prints it (sign and digits), exactly; one number when the
    smallest and the largest value have as many (then every value between them has)."""
    extremes = pc.min_max(arr)
    low, high = extremes["min"].as_py(), extremes["max"].as_py()
    if low is None:
        return 1
    if (low >= 0 or high < 0) and len(str(low)) == len(str(high)):
        return len(str(low))
    values = np.asarray(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False))
    if values.dtype.kind == "u":
        return np.searchsorted(_POWERS, values.astype(np.uint64), side="right").astype(np.int64) + 1
    values = values.astype(np.int64, copy=False)
    negative = values < 0
    magnitude = np.abs(values).view(np.uint64)  # the most negative int64 stays 2**63 as unsigned
    return np.searchsorted(_POWERS, magnitude, side="right").astype(np.int64) + 1 + negative


def _bools(arr: Any) -> Any:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _lists(arr: Any) -> Any:
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        offsets = np.arange(len(arr) + 1, dtype=np.int64) * size + arr.offset * size
    else:
        offsets = _offsets(arr)
    first, count = int(offsets[0]), int(offsets[-1] - offsets[0])
    counts = np.diff(offsets)
    if pa.types.is_map(arr.type):
        # "key":value for every entry.
        sums = _segment_sums(arr.keys.slice(first, count), offsets) + counts
        sums += _segment_sums(arr.items.slice(first, count), offsets)
    else:
        sums = _segment_sums(arr.values.slice(first, count), offsets)
    return sums + np.maximum(counts - 1, 0) + 2


def _segment_sums(child: Any, offsets: Any) -> Any:
    """Per list, the summed sizes of its items (`child` holds the items of the lists `offsets` delimit)."""
    child = plain(child)
    at = offsets - offsets[0]
    text = pa.types.is_string(child.type) or pa.types.is_large_string(child.type)
    if text and not child.null_count and isinstance(_escapes(child), int):
        # Text without nulls: its bytes per list straight from the offsets, and 2 quotes per item.
        inner = _offsets(child)
        return inner[at[1:]] - inner[at[:-1]] + 2 * np.diff(at)
    sizes = _sizes(child)
    if isinstance(sizes, int):
        return np.diff(at) * sizes
    total = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=total[1:])
    return np.diff(total[at])


class RowSizes:
    """The largest and the total JSON size of the rows seen so far, as `dataframe_split` rows."""

    def __init__(self) -> None:
        self.rows = 0
        self.total = 0
        self.largest = 0

    def feed(self, columns: Sequence[Any]) -> None:
        if not columns:
            return
        n = len(columns[0])
        if n == 0:
            return
        # "[" cells joined by "," "]" and the "," between rows.
        fixed = 2 + len(columns)
        varying = None
        for column in columns:
            sizes = _sizes(plain(column))
            if isinstance(sizes, int):
                fixed += sizes
            elif varying is None:
                varying = sizes.astype(np.int64, copy=True)
            else:
                varying += sizes
        self.rows += n
        self.total += fixed * n + (int(varying.sum()) if varying is not None else 0)
        self.largest = max(self.largest, fixed + (int(varying.max()) if varying is not None else 0))

    def advice(self, model: ServedModel, names: Sequence[str]) -> BatchAdvice | None:
        if not self.rows:
            return None
        return advise_batch_size(model, names, self.largest, self.total / self.rows)


def advise_batch_size(
    model: ServedModel, columns: Sequence[str], max_row_bytes: int, mean_row_bytes: float
) -> BatchAdvice:
    """The largest rows-per-request under the served model's request limit, for rows of at most `max_row_bytes`.

    `columns` are the names the request lists (they go once into each `dataframe_split` request).
    """
    import orjson

    limit = request_limit(model)
    envelope = len(orjson.dumps({"dataframe_split": {"columns": list(columns), "data": []}}))
    per_row = max(int(max_row_bytes), 1)
    rows = max((limit - envelope) // per_row, 0)
    return BatchAdvice(limit, int(max_row_bytes), float(mean_row_bytes), int(rows))
