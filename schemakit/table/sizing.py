"""Batch sizing: how many rows of a table fit in one request under the endpoint's size limit.

Each row's size is estimated as the JSON text a `dataframe_split` request carries for it
(numbers as they print, text with its quotes, binary as base64, nested values with their
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


def _ints(values: Any) -> Any:
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def cell_sizes(arr: Any) -> Any:
    """The bytes each cell takes as JSON (a numpy int64 array; null is `null`)."""
    arr = plain(arr)
    t = arr.type
    n = len(arr)
    if pa.types.is_null(t):
        return np.full(n, 4, dtype=np.int64)
    if pa.types.is_boolean(t):
        sizes = np.where(_bools(arr), 4, 5).astype(np.int64)
    elif pa.types.is_integer(t):
        sizes = _digits(arr)
    elif pa.types.is_floating(t):
        # The longest shortest-repr of a double ("-2.2250738585072014e-308"): a float32 prints as the double it is.
        sizes = np.full(n, 24, dtype=np.int64)
    elif pa.types.is_decimal(t):
        sizes = np.full(n, t.precision + 2, dtype=np.int64)
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        sizes = _ints(pc.binary_length(arr)) + 2
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        raw = _ints(pc.binary_length(arr.cast(pa.large_binary())))
        sizes = (raw + 2) // 3 * 4 + 2
    elif pa.types.is_timestamp(t):
        sizes = np.full(n, _ISO_WIDTH[t.unit] + 2 + (6 if t.tz else 0), dtype=np.int64)
    elif pa.types.is_date(t):
        sizes = np.full(n, 12, dtype=np.int64)
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t) or pa.types.is_fixed_size_list(t):
        sizes = _lists(arr)
    elif pa.types.is_struct(t):
        sizes = np.full(n, 2 + max(t.num_fields - 1, 0), dtype=np.int64)
        for index in range(t.num_fields):
            sizes += cell_sizes(arr.field(index)) + len(t.field(index).name) + 3
    elif pa.types.is_duration(t) or pa.types.is_time(t):
        # As their count of units, quoted: an upper bound for any text form of them.
        sizes = _digits(arr.cast(pa.int32() if pa.types.is_time32(t) else pa.int64())) + 2
    else:
        sizes = _other_sizes(arr)
    if arr.null_count:
        sizes = np.where(_bools(arr.is_null()), 4, sizes)
    return sizes


def _other_sizes(arr: Any) -> Any:
    """Cells of other types (intervals, unions) as orjson writes their Python values; 64 bytes each where
    Python cannot hold the value (a duration past timedelta's range inside a union, ...)."""
    import orjson

    try:
        return np.array([len(orjson.dumps(v, default=str)) for v in arr.to_pylist()], dtype=np.int64)
    except (OverflowError, ValueError, pa.ArrowException, orjson.JSONEncodeError):
        return np.full(len(arr), 64, dtype=np.int64)


def _digits(arr: Any) -> Any:
    values = np.asarray(pc.fill_null(arr, 0).to_numpy(zero_copy_only=False))
    magnitude = np.abs(values.astype(np.float64))
    # log10 of a float is within one digit at the top of the int64 range: round up there, never down.
    digits = np.floor(np.log10(np.maximum(magnitude, 1.0))).astype(np.int64) + 1
    return digits + (values < 0) + (magnitude >= 1e15)


def _bools(arr: Any) -> Any:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _lists(arr: Any) -> Any:
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        offsets = np.arange(len(arr) + 1, dtype=np.int64) * size + arr.offset * size
    else:
        offsets = np.asarray(arr.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    first, count = int(offsets[0]), int(offsets[-1] - offsets[0])
    if pa.types.is_map(arr.type):
        # "key":value for every entry.
        child = cell_sizes(arr.keys.slice(first, count)) + 1 + cell_sizes(arr.items.slice(first, count))
    else:
        child = cell_sizes(arr.values.slice(first, count))
    return _sum_by_offsets(child, offsets)


def _sum_by_offsets(child: Any, offsets: Any) -> Any:
    counts = np.diff(offsets)
    if len(child) and child.min() == child.max():
        sums = counts * int(child[0])
    else:
        total = np.concatenate(([0], np.cumsum(child, dtype=np.int64)))
        sums = np.diff(total[offsets - offsets[0]])
    return sums + np.maximum(counts - 1, 0) + 2


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
        sizes = np.full(n, 2 + len(columns), dtype=np.int64)
        for column in columns:
            sizes += cell_sizes(column)
        self.rows += n
        self.total += int(sizes.sum())
        self.largest = max(self.largest, int(sizes.max()))

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
