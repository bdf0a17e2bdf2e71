"""Whole tables and logged traffic: check a dataset against an endpoint's schema, replay inference logs.

- `check_table(table, schema)`: a Parquet, CSV, JSON Lines or Arrow IPC file, folder or glob,
  a Delta table, or data in memory (pyarrow, pandas, polars, DuckDB), column by column
  with pyarrow.compute, in record batches;
- `replay(table, schema)`: every logged request body through the payload engine;
- `advise_batch_size(...)`: the largest rows-per-request under the endpoint's limit.

Needs pyarrow and deltalake (`pip install schemakit[tables]`); Spark lives in `schemakit.spark`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemakit.table.engine import check_table as check_table
    from schemakit.table.replayer import ReplayGroup as ReplayGroup
    from schemakit.table.replayer import ReplayReport as ReplayReport
    from schemakit.table.replayer import replay as replay
    from schemakit.table.report import SCHEMA_VERSION as SCHEMA_VERSION
    from schemakit.table.report import BatchAdvice as BatchAdvice
    from schemakit.table.report import Finding as Finding
    from schemakit.table.report import TableReport as TableReport
    from schemakit.table.rules import TABLE_RULES as TABLE_RULES
    from schemakit.table.sizing import advise_batch_size as advise_batch_size
    from schemakit.table.sources import from_arrow as from_arrow
    from schemakit.table.sources import open_table as open_table

#: Imported on first use: `import schemakit.table.rules` (the rule table, for docs and `--list-rules`)
#: must not pull in the engine and pyarrow.
_LAZY = {
    "SCHEMA_VERSION": "schemakit.table.report",
    "TABLE_RULES": "schemakit.table.rules",
    "BatchAdvice": "schemakit.table.report",
    "Finding": "schemakit.table.report",
    "ReplayGroup": "schemakit.table.replayer",
    "ReplayReport": "schemakit.table.replayer",
    "TableReport": "schemakit.table.report",
    "advise_batch_size": "schemakit.table.sizing",
    "check_table": "schemakit.table.engine",
    "from_arrow": "schemakit.table.sources",
    "open_table": "schemakit.table.sources",
    "replay": "schemakit.table.replayer",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'schemakit.table' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "SCHEMA_VERSION",
    "TABLE_RULES",
    "BatchAdvice",
    "Finding",
    "ReplayGroup",
    "ReplayReport",
    "TableReport",
    "advise_batch_size",
    "check_table",
    "from_arrow",
    "open_table",
    "replay",
]
