"""The batch-size estimate, read off Arrow buffers, is each cell's exact JSON length where JSON has one form."""

from __future__ import annotations

import random
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
orjson = pytest.importorskip("orjson")

from schemakit.table.sizing import RowSizes, cell_sizes  # noqa: E402


def _json(value: Any, t: Any) -> Any:
    """The value as a request carries it (a map is an object)."""
    if value is None:
        return None
    if pa.types.is_map(t):
        return {k: _json(v, t.item_type) for k, v in value}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [_json(v, t.value_type) for v in value]
    if pa.types.is_struct(t):
        return {t.field(i).name: _json(value[t.field(i).name], t.field(i).type) for i in range(t.num_fields)}
    return value


def _arrays() -> dict[str, Any]:
    r = random.Random(5)
    n = 200

    def some(make: Any) -> list[Any]:
        return [None if r.random() < 0.2 else make() for _ in range(n)]

    def text() -> str:
        # Plain letters and non-ASCII, or JSON's escapes: quotes, backslashes, control characters.
        alphabet = "ab\u00e9\U0001f600 " if r.random() < 0.5 else 'a"\\\n\t\x01\x1f/'
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, 6)))

    def items(make: Any) -> Any:
        return lambda: [make() for _ in range(r.randint(0, 4))]

    edges = [0, 9, 10, -1, -10, 10**15 - 1, 10**15, -(10**15), 2**63 - 1, -(2**63), 10**18, 10**18 - 1]
    return {
        "int64": pa.array(some(lambda: r.randint(-(2**63), 2**63 - 1)), pa.int64()),
        "int64 edges": pa.array([*edges, None], pa.int64()),
        "int32 one width": pa.array(some(lambda: r.randint(100, 999)), pa.int32()),
        "int8": pa.array(some(lambda: r.randint(-128, 127)), pa.int8()),
        "uint64": pa.array(some(lambda: r.randint(0, 2**64 - 1)), pa.uint64()),
        "all null int": pa.array([None] * 4, pa.int64()),
        "bool": pa.array(some(lambda: r.random() < 0.5)),
        "bool all true": pa.array([True, None, True]),
        "string": pa.array(some(text)),
        "large string": pa.array(some(text), pa.large_string()),
        "dictionary": pa.array(some(text)).dictionary_encode(),
        "list of text": pa.array(some(items(text)), pa.list_(pa.string())),
        "list of plain text": pa.array(some(items(lambda: "ab" * r.randint(0, 3))), pa.list_(pa.string())),
        "list of text with nulls": pa.array(
            some(items(lambda: None if r.random() < 0.3 else "x")), pa.list_(pa.string())
        ),
        "large list of int": pa.array(some(items(lambda: r.randint(-1000, 10**6))), pa.large_list(pa.int64())),
        "list of lists": pa.array(some(items(items(lambda: r.randint(0, 99)))), pa.list_(pa.list_(pa.int16()))),
        "fixed size list": pa.array(some(lambda: [r.randint(0, 10**9), 7]), pa.list_(pa.int64(), 2)),
        "map": pa.array(
            some(lambda: [(f"k{i}{text()}", r.randint(-5, 5000)) for i in range(r.randint(0, 3))]),
            pa.map_(pa.string(), pa.int64()),
        ),
        "struct": pa.array(some(lambda: {"a": r.randint(0, 10**6), "bb": None if r.random() < 0.3 else text()})),
        "empty list": pa.array([], pa.list_(pa.string())),
        "null": pa.nulls(3),
    }


@pytest.mark.parametrize(("name", "arr"), list(_arrays().items()))
def test_cell_sizes_are_the_json_length(name: str, arr: Any) -> None:
    for part in (arr, arr.slice(3), arr.slice(5, 7)):  # slices: buffers with an offset
        sizes = cell_sizes(part)
        decoded = part.dictionary_decode() if pa.types.is_dictionary(part.type) else part
        truth = [len(orjson.dumps(_json(v, decoded.type))) for v in decoded.to_pylist()]
        assert sizes.tolist() == truth, name


def test_row_sizes_add_the_separators() -> None:
    columns = [pa.array([1, 22, None]), pa.array(["a", "bb", "c"]), pa.array([1.5, 2.5, 3.5])]
    sizes = RowSizes()
    sizes.feed(columns)
    rows = [[1, "a", 1.5], [22, "bb", 2.5], [None, "c", 3.5]]
    # A double counts as its longest form (24 bytes); a row is "[...]" and the "," after it.
    exact = [len(orjson.dumps(row)) + 1 - len(orjson.dumps(row[2])) + 24 for row in rows]
    assert (sizes.rows, sizes.total, sizes.largest) == (3, sum(exact), max(exact))
