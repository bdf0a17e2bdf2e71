"""The guide's Arrow type table is rendered from the code and covers every Arrow type family."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")

from schemakit.table.typetable import ARROW_TYPE_EXAMPLES, render_arrow_type_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: pa.types predicates that are not a type family (value tests, groupings of families).
NOT_FAMILIES = {"is_boolean_value", "is_float_value", "is_integer_value", "is_primitive", "is_nested", "is_temporal"}


def _renderer() -> Any:
    spec = importlib.util.spec_from_file_location("render_types", ROOT / "docs" / "render_types.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_type_table_in_the_guide_is_rendered_from_the_code() -> None:
    assert not _renderer().stale(), "the Arrow type table is stale: run `python docs/render_types.py`"


def test_a_stale_type_table_is_noticed() -> None:
    render = _renderer().render
    text = (ROOT / "docs" / "table.md").read_text()
    tampered = text.replace("| uint64 | as is | ✗ | ✓", "| uint64 | as is | ✓ | ✓")
    assert tampered != text
    assert render(tampered) == text


def test_every_arrow_type_family_has_a_row() -> None:
    examples = [make() for _, make in ARROW_TYPE_EXAMPLES]
    # Each family, with the types its row stands for (a row names several widths of one family).
    also = [
        pa.int8(), pa.uint8(), pa.float32(), pa.decimal32(9, 2), pa.decimal256(76, 2), pa.large_string(),
        pa.large_binary(), pa.binary(4), pa.date64(), pa.time32("s"), pa.large_list(pa.int8()),
        pa.list_(pa.int8(), 2), pa.large_list_view(pa.int8()), pa.dense_union([pa.field("a", pa.int8())]),
        pa.timestamp("ns"), pa.float32(), pa.int16(), pa.uint16(), pa.decimal128(5, 1),
    ]  # fmt: skip
    types = examples + also
    for name in dir(pa.types):
        if not name.startswith("is_") or name in NOT_FAMILIES:
            continue
        assert any(getattr(pa.types, name)(t) for t in types), f"no row of the type table is {name[3:]}"
    assert "| dense_union, sparse_union |" in render_arrow_type_table()
