"""`check_table`: a whole table against a served model, streamed in record batches.

The table-level rules (duplicate, missing and unknown columns, no rows) are decided from
the column names; the value rules run column by column on each batch (`ValueChecker`).
`TableChecker` is the part both engines share: the Arrow engine feeds it the batches of
a file, the Spark engine feeds one per partition and merges what they found.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from schemakit._exceptions import SchemakitError
from schemakit.core.model import Column, DataType, EndpointSchema, FormatKind, Kind, ServedModel
from schemakit.core.policy import acknowledge_errors, require_usable
from schemakit.table.arrow import ValueChecker, plain
from schemakit.table.report import Finding, Findings, TableReport
from schemakit.table.rules import severity
from schemakit.table.sizing import RowSizes
from schemakit.table.sources import DEFAULT_BATCH_ROWS, from_arrow, open_table

__all__ = [
    "TableChecker",
    "TablePlan",
    "check_table",
    "partition_types",
    "pick_model",
    "pick_served",
    "plan_table",
    "portable",
    "text_columns",
]

TEXT_KINDS_FOR_READERS = ("string", "binary", "datetime")


def pick_served(
    schema: EndpointSchema | ServedModel | str | os.PathLike[str], model: str | None, force: bool = False
) -> ServedModel:
    """The served model: `model` by name, or the only one; `schema` may be a source to load.

    A model from a document with errors is refused, as every feature refuses it, unless `force=True`.
    """
    served = _pick_served(schema, model)
    require_usable(served, force=force)
    return acknowledge_errors(served) if force else served


def _pick_served(schema: EndpointSchema | ServedModel | str | os.PathLike[str], model: str | None) -> ServedModel:
    if isinstance(schema, (str, os.PathLike)):
        from schemakit.core.resolve import load

        schema = load(os.fspath(schema))
    if isinstance(schema, ServedModel):
        return schema
    if model is not None:
        return schema.model(model)
    if len(schema.models) == 1:
        return schema.models[0]
    names = ", ".join(m.name for m in schema.models) or "none"
    raise SchemakitError(f"{schema.title or 'the endpoint'} serves several models ({names}); pass --model NAME")


def table_columns(served: ServedModel) -> tuple[Column, ...]:
    """The columns of the served model's dataframe and tensor formats (an object request has fields, not columns)."""
    merged: dict[str, Column] = {}
    for fmt in served.formats:
        if fmt.kind is FormatKind.OBJECT:
            continue
        for column in fmt.columns:
            seen = merged.get(column.name)
            if seen is None or (column.required and not seen.required):
                merged[column.name] = replace(
                    column, position=None, required=column.required or (seen is not None and seen.required)
                )
    return tuple(merged.values())


def pick_model(schema: EndpointSchema | ServedModel | str | os.PathLike[str], model: str | None) -> ServedModel:
    """The served model to check a table against: `pick_served`, and one that takes columns."""
    served = pick_served(schema, model)
    if not table_columns(served):
        formats = ", ".join(served.format_names) or "none"
        raise SchemakitError(
            f"served model {served.name!r} takes no columns (its formats: {formats}), so there is no table to check "
            "against it; check its requests with `schemakit check` or `schemakit replay`"
        )
    return served


def portable(dtype: DataType) -> DataType:
    """The type without its raw schema (read-only mappings do not pickle), for Spark's executors."""
    return replace(
        dtype,
        items=portable(dtype.items) if dtype.items is not None else None,
        fields=tuple(replace(f, type=portable(f.type)) for f in dtype.fields),
        variants=tuple(portable(v) for v in dtype.variants),
        prefix_items=tuple(portable(p) for p in dtype.prefix_items) if dtype.prefix_items is not None else None,
        schema={},
    )


@dataclass(frozen=True)
class TablePlan:
    """What to check in each batch: (position in the batch, model column), and the table-level findings."""

    checks: tuple[tuple[int, Column], ...]
    #: Positions of the columns a request carries (for the batch-size estimate).
    sent: tuple[int, ...]
    names: tuple[str, ...]
    table_findings: tuple[tuple[str, str, str], ...]


def plan_table(model: ServedModel, names: Sequence[str], selected: Sequence[str] | None = None) -> TablePlan:
    """Match the table's columns (all, or `selected`) to the model's; the table-level rules."""
    if selected:
        missing = [name for name in selected if name not in names]
        if missing:
            raise SchemakitError(f"--columns names {', '.join(map(repr, missing))}, which the table does not have")
    wanted = set(selected) if selected else None
    positions = [(i, name) for i, name in enumerate(names) if wanted is None or name in wanted]
    found: list[tuple[str, str, str]] = []
    seen = Counter(name for _, name in positions)
    for name, count in seen.items():
        if count > 1:
            found.append(
                (name, "duplicate-column", f"the table has {count} columns named {name!r}; the first is checked")
            )
    model_columns = {c.name: c for c in table_columns(model)}
    for column in model_columns.values():
        if column.required and column.name not in seen:
            found.append((column.name, "required-column", "a required column the table does not have"))
    checks: list[tuple[int, Column]] = []
    first: set[str] = set()
    for position, name in positions:
        if name in first:
            continue
        first.add(name)
        declared = model_columns.get(name)
        if declared is None:
            found.append((name, "unknown-column", "not a column of this model; the server drops it"))
        else:
            checks.append((position, replace(declared, type=portable(declared.type))))
    return TablePlan(tuple(checks), tuple(p for p, _ in positions), tuple(n for _, n in positions), tuple(found))


class TableChecker:
    """Checks record batches against a plan; what it finds accumulates in `findings`."""

    def __init__(self, plan: TablePlan, max_rows: int = 5, *, sizes: bool = True) -> None:
        self.plan = plan
        self.findings = Findings(max_rows)
        self.values = ValueChecker(self.findings)
        self.sizes = RowSizes() if sizes else None
        self.rows = 0

    def feed(self, batch: Any, first_row: int | None = None, row_ids: Any = None) -> None:
        """Check one batch; its rows are numbered from `first_row` (default: after the rows seen), or by `row_ids`."""
        n = batch.num_rows
        if row_ids is None:
            start = self.rows if first_row is None else first_row
            row_ids = pa.array(np.arange(start, start + n, dtype=np.int64))
        decoded: dict[int, Any] = {}

        def plain_column(position: int) -> Any:
            # Dictionaries, views and run-ends decoded once per batch, for the checks and the sizing both.
            if position not in decoded:
                decoded[position] = plain(batch.column(position))
            return decoded[position]

        for position, column in self.plan.checks:
            raw_type = batch.schema.field(position).type
            self.values.check(column.type, plain_column(position), row_ids, column.name, column=True, raw_type=raw_type)
        if self.sizes is not None:
            self.sizes.feed([plain_column(p) for p in self.plan.sent])
        self.rows += n

    def to_json(self) -> dict[str, Any]:
        sizes = self.sizes
        return {
            "rows": self.rows,
            "findings": self.findings.to_json(),
            "sizes": [sizes.rows, sizes.total, sizes.largest] if sizes is not None else None,
        }

    def merge_json(self, data: dict[str, Any]) -> None:
        self.rows += int(data["rows"])
        self.findings.merge(Findings.from_json(data["findings"]))
        if self.sizes is not None and data["sizes"] is not None:
            rows, total, largest = data["sizes"]
            self.sizes.rows += rows
            self.sizes.total += total
            self.sizes.largest = max(self.sizes.largest, largest)

    def report(self, model: ServedModel, source: str, engine: str, row_numbers: str) -> TableReport:
        findings = self.findings.finish(severity("datetime-iso8601"))
        for column, code, message in self.plan.table_findings:
            count = self.rows if code in ("required-column", "unknown-column") else 0
            findings.append(Finding(column, code, severity(code), message, count))
        if self.rows == 0:
            findings.append(Finding("", "empty-input", severity("empty-input"), "the table has no rows", 0))
        advice = self.sizes.advice(model, self.plan.names) if self.sizes is not None else None
        return TableReport(
            source, model.name, engine, self.rows, self.plan.names, TableReport.ordered(findings), advice, row_numbers
        )


def partition_types(model: ServedModel) -> dict[str, Any]:
    """The Arrow types of the model's scalar columns, for the values of Hive partition columns."""
    from schemakit.core.types import arrow_type

    wanted = (Kind.BOOLEAN, Kind.INTEGER, Kind.LONG, Kind.FLOAT, Kind.DOUBLE, Kind.STRING)
    return {c.name: arrow_type(c.type) for c in table_columns(model) if c.type.kind in wanted}


def text_columns(model: ServedModel) -> list[str]:
    """Columns that CSV and JSON readers must leave as text (they would infer timestamps leniently)."""
    return [c.name for c in table_columns(model) if c.type.kind.value in TEXT_KINDS_FOR_READERS]


def check_table(
    table: str | os.PathLike[str] | Any,
    schema: EndpointSchema | ServedModel | str | os.PathLike[str],
    *,
    model: str | None = None,
    columns: Sequence[str] | None = None,
    max_rows_per_finding: int = 5,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> TableReport:
    """Check a table against a served model: a path (Parquet, CSV, JSON Lines, Arrow IPC/Feather file,
    folder or glob; a Delta table) or data in memory (a pyarrow Table or RecordBatchReader, a pandas
    or polars DataFrame, a DuckDB relation: anything with `__arrow_c_stream__`).

    Rows are numbered from 0 in the table's order (files of a folder by path). Memory is
    bounded by `batch_rows`, not the size of the table.
    """
    served = pick_model(schema, model)
    if isinstance(table, (str, os.PathLike)):
        source = open_table(table, text_columns=text_columns(served), column_types=partition_types(served))
        where = os.fspath(table)
    else:
        where = f"<{type(table).__module__.split('.')[0]}.{type(table).__name__}>"
        source = from_arrow(table, where)
    names = list(source.schema.names)
    plan = plan_table(served, names, columns)
    checker = TableChecker(plan, max_rows_per_finding)
    unique = len(set(names)) == len(names)
    project = [names[p] for p in plan.sent] if unique and columns else None
    if project is not None:
        plan = replace(plan, checks=_renumber(plan.checks, project), sent=tuple(range(len(project))))
        checker.plan = plan
    for batch in source.batches(batch_rows, project):
        checker.feed(batch)
    return checker.report(served, where, "arrow", "position in the table, from 0")


def _renumber(checks: Sequence[tuple[int, Column]], project: Sequence[str]) -> tuple[tuple[int, Column], ...]:
    return tuple((project.index(column.name), column) for _, column in checks)
