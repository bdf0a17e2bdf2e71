"""The Arrow type table of the guide (docs/table.md), rendered from the code that decides.

One row per Arrow type (every family pyarrow has, each encoding), one column per logical
type: whether `check-table` takes the column (its values then checked by that type's rules)
or refuses it (`column-type`, with what to cast it to), and what the column is read as
first (`plain`: a dictionary as its values, a UUID as its text, ...). The cells come from
`accepts`, `plain_type` and `cast_advice`, so the table cannot drift from the checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from schemakit.core.model import DataType, Kind
from schemakit.table.arrow import accepts, plain_type

__all__ = ["ARROW_TYPE_EXAMPLES", "KINDS", "render_arrow_type_table"]

#: The logical types of the table's columns, in the order of the guide.
KINDS: tuple[Kind, ...] = (
    Kind.BOOLEAN,
    Kind.INTEGER,
    Kind.LONG,
    Kind.FLOAT,
    Kind.DOUBLE,
    Kind.STRING,
    Kind.BINARY,
    Kind.DATETIME,
    Kind.ARRAY,
    Kind.MAP,
    Kind.OBJECT,
    Kind.ANY,
)


def _examples() -> list[tuple[str, Callable[[], Any]]]:
    string = pa.string
    return [
        ("null", pa.null),
        ("bool", pa.bool_),
        ("int8, int16, int32", pa.int32),
        ("int64", pa.int64),
        ("uint8, uint16, uint32", pa.uint32),
        ("uint64", pa.uint64),
        ("float16", pa.float16),
        ("float32, float64", pa.float64),
        ("decimal32, decimal64", lambda: pa.decimal64(18, 2)),
        ("decimal128, decimal256", lambda: pa.decimal128(38, 2)),
        ("string, large_string", string),
        ("string_view", pa.string_view),
        ("binary, large_binary, fixed_size_binary", pa.binary),
        ("binary_view", pa.binary_view),
        ("date32, date64", pa.date32),
        ("timestamp (s, ms, us, ns)", lambda: pa.timestamp("us")),
        ("timestamp with a zone", lambda: pa.timestamp("us", "UTC")),
        ("time32, time64", lambda: pa.time64("us")),
        ("duration", lambda: pa.duration("us")),
        ("interval (month_day_nano, ...)", pa.month_day_nano_interval),
        ("list, large_list, fixed_size_list", lambda: pa.list_(pa.int64())),
        ("list_view, large_list_view", lambda: pa.list_view(pa.int64())),
        ("struct", lambda: pa.struct([("a", pa.int64())])),
        ("map", lambda: pa.map_(string(), pa.int64())),
        ("dictionary", lambda: pa.dictionary(pa.int32(), string())),
        ("run_end_encoded", lambda: pa.run_end_encoded(pa.int32(), string())),
        ("extension arrow.uuid (DuckDB UUID)", pa.uuid),
        ("extension arrow.json (DuckDB JSON)", pa.json_),
        ("dense_union, sparse_union", lambda: pa.sparse_union([pa.field("a", pa.int64())])),
    ]


#: (row label, a representative pyarrow type) for every Arrow type family.
ARROW_TYPE_EXAMPLES: list[tuple[str, Callable[[], Any]]] = _examples()


def render_arrow_type_table() -> str:
    """The Markdown table: ✓ checked by that logical type's rules, ✗ refused (`column-type`)."""
    header = "| Arrow type | read as | " + " | ".join(f"`{k.value}`" for k in KINDS) + " |"
    lines = [header, "| --- | --- | " + " | ".join("---" for _ in KINDS) + " |"]
    for label, make in ARROW_TYPE_EXAMPLES:
        t = make()
        read_as = plain_type(t)
        shown = "as is" if read_as == t else f"`{read_as}`"
        cells = ["✓" if accepts(DataType(kind), t) else "✗" for kind in KINDS]
        lines.append(f"| {label} | {shown} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
