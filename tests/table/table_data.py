"""Tables of the all-types model (samples/all-types.json), built column-wise so a million rows take a second."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ALL_TYPES = "samples/all-types.json"


def _lists(values: pa.Array, per_row: int, n: int) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * per_row), values)


def _text(choices: np.ndarray, n: int) -> pa.Array:
    """n strings cycling through `choices`, without a Python object per row."""
    indices = pa.array((np.arange(n) % len(choices)).astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(choices))).dictionary_decode()


def all_types_table(n: int, *, seed: int = 7) -> pa.Table:
    """A clean table: every column of the all-types model, every value one `check` accepts."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 365 * 86400, n)
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    created = pc.strftime(pa.array(start + seconds, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
    labels = np.array(["alpha", "beta", "gamma", "delta"])
    categories = np.array(["news", "sports", "weather"])
    blobs = _text(labels, n).cast(pa.binary())
    location = pa.StructArray.from_arrays(
        [pa.array(rng.uniform(-90, 90, n)), pa.array(rng.uniform(-180, 180, n)), _text(labels, n)],
        names=["lat", "lon", "name"],
    )
    counts = pa.MapArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32) * 2),
        _text(np.array(["a", "b"]), 2 * n),
        pa.array(rng.integers(0, 1000, 2 * n)),
    )
    matrix_rows = _lists(pa.array(rng.normal(size=4 * n)), 2, 2 * n)
    # No nulls: MLflow refuses a null in an integer column, optional or not (`integer-null`).
    rating = pa.array(rng.integers(1, 6, n))
    nickname = pc.if_else(pa.array(np.arange(n) % 7 == 0), pa.scalar(None, pa.string()), _text(labels, n))
    return pa.table(
        {
            "flag": pa.array(np.arange(n) % 2 == 0),
            "small_int": pa.array(rng.integers(-1000, 1000, n), pa.int64()),
            "big_int": pa.array(rng.integers(-(2**62), 2**62, n), pa.int64()),
            "ratio": pa.array(rng.random(n).astype(np.float32)),
            "score": pa.array(rng.normal(size=n)),
            "label": _text(labels, n),
            "category": _text(categories, n),
            "blob": blobs,
            "created_at": created,
            "tags": _lists(_text(labels[:2], 2 * n), 2, n),
            "matrix": _lists(matrix_rows, 2, n),
            "location": location,
            "counts": counts,
            "extra": _text(np.array(["{}"]), n),
            "nickname": nickname,
            "rating": rating,
        }
    )


def with_defects(table: pa.Table) -> pa.Table:
    """The done-when defects: an out-of-range `integer` at row 10, NaN in a `double` at row 20, null `string` at 30."""
    small = table.column("small_int").to_numpy().copy()
    small[10] = 2**40
    score = table.column("score").to_numpy().copy()
    score[20] = np.nan
    label = table.column("label").combine_chunks()
    mask = np.zeros(len(table), dtype=bool)
    mask[30] = True
    table = table.set_column(table.schema.get_field_index("small_int"), "small_int", pa.array(small))
    table = table.set_column(table.schema.get_field_index("score"), "score", pa.array(score))
    labels = pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), label)
    return table.set_column(table.schema.get_field_index("label"), "label", labels)
