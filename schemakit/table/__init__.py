"""Whole tables and logged traffic: check a dataset against an endpoint's schema, replay inference logs.

- `check_table(table, schema)`: a Parquet, CSV, JSON Lines or Arrow IPC file, folder or glob,
  a Delta table, or data in memory (pyarrow, pandas, polars, DuckDB), column by column
  with pyarrow.compute, in record batches;
- `replay(table, schema)`: every logged request body through the payload engine;
- `advise_batch_size(...)`: the largest rows-per-request under the endpoint's limit.

Needs pyarrow and deltalake (`pip install schemakit[tables]`); Spark lives in `schemakit.spark`.
"""

from __future__ import annotations

from schemakit.table.engine import check_table
from schemakit.table.replay import ReplayGroup, ReplayReport, replay
from schemakit.table.report import SCHEMA_VERSION, BatchAdvice, Finding, TableReport
from schemakit.table.rules import TABLE_RULES
from schemakit.table.sizing import advise_batch_size
from schemakit.table.sources import from_arrow, open_table

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
