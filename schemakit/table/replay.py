"""`replay`: check logged requests (an inference table's `request` column) against a schema.

Every logged JSON body goes through the payload engine (`schemakit.check`'s validator,
its fast path first), so a request counts as rejected exactly when `check` would
reject it. Rejections are grouped by rule and column, with the first examples; the
verdict that gates a deploy is how many requests that *succeeded* when they were
logged (status 200, when the table has a status column) the new schema would reject.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from schemakit._exceptions import SchemakitError, SourceError
from schemakit.check.validator import PayloadValidator, compile_validator
from schemakit.core.limits import request_limit
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.runtime.report import PayloadReport, plural
from schemakit.runtime.text import terminal
from schemakit.table.report import SCHEMA_VERSION
from schemakit.table.sources import DEFAULT_BATCH_ROWS, open_table

__all__ = ["ReplayGroup", "ReplayReport", "ReplayTally", "body_bytes", "logged_columns", "replay", "succeeded"]

_CACHE_ENTRIES = 65_536
#: A `dataframe_records` body, split around the text of its rows.
_RECORDS = re.compile(rb'\s*\{\s*"dataframe_records"\s*:\s*\[(.*)\]\s*\}\s*\Z', re.DOTALL)
#: Rows of logged requests checked as one payload, and its size cap.
_BUNDLE_ROWS = 2_048
_BUNDLE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ReplayGroup:
    """Requests rejected for one rule in one column: how many, and the first of them."""

    code: str
    column: str | None
    count: int
    rows: tuple[int, ...]
    messages: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "column": self.column,
            "count": self.count,
            "examples": [{"row": r, "message": m} for r, m in zip(self.rows, self.messages, strict=True)],
        }


@dataclass(frozen=True, slots=True)
class ReplayReport:
    source: str
    model: str
    engine: str
    total: int
    rejected: int
    #: Rejected requests that succeeded when logged (every rejected one without a status column).
    rejected_succeeded: int
    #: Rows without a body (null), not checked.
    skipped: int
    status_column: str | None
    groups: tuple[ReplayGroup, ...]

    @property
    def ok(self) -> bool:
        return self.rejected_succeeded == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "model": self.model,
            "engine": self.engine,
            "ok": self.ok,
            "requests": self.total,
            "rejected": self.rejected,
            "rejected_succeeded": self.rejected_succeeded,
            "skipped": self.skipped,
            "status_column": self.status_column,
            "groups": [g.to_json() for g in self.groups],
        }

    def summary(self) -> str:
        share = f" ({self.rejected / self.total:.2%})" if self.total else ""
        line = f"{self.rejected:,} of {self.total:,} logged requests{share} would be rejected by {self.model}"
        if self.status_column is not None:
            line += f"; {self.rejected_succeeded:,} of them succeeded when logged ({self.status_column} 200)"
        if self.skipped:
            line += f"; {plural(self.skipped, 'row')} without a request body skipped"
        return line

    def to_text(self) -> str:
        where = terminal(self.source)
        lines = []
        for group in self.groups:
            column = f" column {terminal(group.column)}:" if group.column else ""
            lines.append(f"{where}: [{group.code}]{column} {plural(group.count, 'request')}")
            lines.extend(
                f"{where}:   row {row}: {terminal(message)}"
                for row, message in zip(group.rows, group.messages, strict=True)
            )
        lines.append(f"{where}: {self.summary()}")
        return "\n".join(lines)


class ReplayTally:
    """Counts what the payload engine says about logged requests; partial tallies merge (Spark)."""

    def __init__(self, validator: PayloadValidator, max_examples: int = 5) -> None:
        self.validator = validator
        self.limit = request_limit(validator.model)
        self._bundle: list[tuple[int, bytes, bool, bytes]] = []
        self._bundle_bytes = 0
        self._bundles = validator.model.format("dataframe_records") is not None
        self.max_examples = max_examples
        self.total = 0
        self.rejected = 0
        self.rejected_succeeded = 0
        self.skipped = 0
        self.groups: dict[tuple[str, str | None], list[Any]] = {}
        self._cache: dict[bytes, PayloadReport] = {}

    def add(self, row: int, body: bytes | None, succeeded: bool) -> None:
        """Count one logged request; `dataframe_records` requests are checked many at a time (call `flush`).

        Rows of one-format record requests are checked as one payload: when that payload is
        valid every request in it is (each has rows, fits the size limit, and `check`'s rules
        look at each row alone, or across rows more strictly, as the datetime form rule does);
        when it is not, the bundle is halved until the rejected requests are found, and those
        are checked alone, so their reports are exactly `check`'s.
        """
        inner = self._records(body) if body is not None else None
        if inner is None:
            self.feed(row, body, succeeded)
            return
        assert body is not None
        self._bundle.append((row, body, succeeded, inner))
        self._bundle_bytes += len(inner)
        if len(self._bundle) >= _BUNDLE_ROWS or self._bundle_bytes >= _BUNDLE_BYTES:
            self.flush()

    def flush(self) -> None:
        bundle, self._bundle, self._bundle_bytes = self._bundle, [], 0
        self._settle(bundle)

    def _settle(self, bundle: list[tuple[int, bytes, bool, bytes]]) -> None:
        if not bundle:
            return
        if len(bundle) > 1:
            payload = b'{"dataframe_records":[' + b",".join(inner for *_, inner in bundle) + b"]}"
            if self.validator.validate_json(payload).ok:
                self.total += len(bundle)
                return
            half = len(bundle) // 2
            self._settle(bundle[:half])
            self._settle(bundle[half:])
            return
        row, body, succeeded, _ = bundle[0]
        self.feed(row, body, succeeded)

    def _records(self, body: bytes) -> bytes | None:
        if not self._bundles or len(body) > self.limit:
            return None
        match = _RECORDS.match(body)
        if match is None:
            return None
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        # One key, rows present: nothing a bundle could hide (a second key, an empty list, invalid JSON).
        if not isinstance(parsed, dict) or len(parsed) != 1:
            return None
        rows = parsed.get("dataframe_records")
        return match.group(1) if isinstance(rows, list) and rows else None

    def feed(self, row: int, body: bytes | None, succeeded: bool) -> None:
        """Check one logged request alone."""
        if body is None:
            self.skipped += 1
            return
        self.total += 1
        report = self._cache.get(body)
        if report is None:
            report = self.validator.validate_json(body)
            # Logs repeat requests: a verdict is reused while the cache is small.
            if len(self._cache) < _CACHE_ENTRIES:
                self._cache[body] = report
        if report.ok:
            return
        self.rejected += 1
        if succeeded:
            self.rejected_succeeded += 1
        seen: set[tuple[str, str | None]] = set()
        for problem in report.errors:
            key = (problem.code, problem.column)
            if key in seen:
                continue
            seen.add(key)
            group = self.groups.setdefault(key, [0, []])
            group[0] += 1
            # Bundled requests are settled later than the ones checked alone: keep the first rows.
            group[1] = sorted([*group[1], (row, problem.message)])[: self.max_examples]

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": [self.total, self.rejected, self.rejected_succeeded, self.skipped],
            "groups": [[code, column, n, examples] for (code, column), (n, examples) in self.groups.items()],
        }

    def merge_json(self, data: dict[str, Any]) -> None:
        total, rejected, succeeded, skipped = data["counts"]
        self.total += total
        self.rejected += rejected
        self.rejected_succeeded += succeeded
        self.skipped += skipped
        for code, column, n, examples in data["groups"]:
            group = self.groups.setdefault((code, column), [0, []])
            group[0] += n
            group[1] = sorted([*group[1], *(tuple(e) for e in examples)])[: self.max_examples]

    def report(self, source: str, engine: str, status_column: str | None) -> ReplayReport:
        self.flush()
        groups = sorted(
            (
                ReplayGroup(code, column, n, tuple(r for r, _ in ex), tuple(m for _, m in ex))
                for (code, column), (n, ex) in self.groups.items()
            ),
            key=lambda g: (-g.count, g.code, g.column or ""),
        )
        return ReplayReport(
            source,
            self.validator.model.name,
            engine,
            self.total,
            self.rejected,
            self.rejected_succeeded,
            self.skipped,
            status_column,
            tuple(groups),
        )


def body_bytes(value: Any) -> bytes | None:
    """A logged body as JSON bytes: text as it was logged, a parsed object written back as JSON."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return orjson.dumps(value)


def succeeded(status: Any) -> bool:
    try:
        return int(status) == 200
    except (TypeError, ValueError):
        return False


def _json_lines(path: Path, column: str, status_column: str | None) -> Iterator[tuple[Any, Any]]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise SourceError(f"{path}:{number}: not a JSON line ({exc})") from None
            if not isinstance(record, dict):
                raise SourceError(f"{path}:{number}: a JSON line that is not an object")
            yield record.get(column), record.get(status_column) if status_column is not None else 200


def logged_columns(
    table: str, column: str, status_column: str | None, status_explicit: bool, batch_rows: int
) -> tuple[str | None, Iterator[tuple[Any, Any]]]:
    """The status column's name (None without one) and the (body, status) pairs of a request log, in table order."""
    path = Path(table)
    if path.is_file() and path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        # Parsed by Arrow, a body logged as an object would lose its exact JSON: lines are read as they are.
        with path.open("rb") as head:
            first = orjson.loads(head.readline() or b"{}")
        if not isinstance(first, dict) or column not in first:
            raise SchemakitError(f"{table}: no column {column!r} (pass --column NAME)")
        status = _status_name(status_column, status_explicit, set(first), table)
        return status, _json_lines(path, column, status)
    source = open_table(table)
    names = set(source.schema.names)
    if column not in names:
        raise SchemakitError(f"{table}: no column {column!r} (pass --column NAME)")
    status = _status_name(status_column, status_explicit, names, table)

    def rows() -> Iterator[tuple[Any, Any]]:
        for batch in source.batches(batch_rows, [column] if status is None else [column, status]):
            bodies = batch.column(0).to_pylist()
            statuses: Iterable[Any] = batch.column(1).to_pylist() if status is not None else [200] * len(bodies)
            yield from zip(bodies, statuses, strict=True)

    return status, rows()


def _status_name(status_column: str | None, explicit: bool, names: set[str], table: str) -> str | None:
    if status_column is None or status_column in names:
        return status_column
    if explicit:
        raise SchemakitError(f"{table}: no status column {status_column!r}")
    return None


def replay(
    table: str | os.PathLike[str],
    schema: EndpointSchema | ServedModel | str | os.PathLike[str],
    *,
    model: str | None = None,
    column: str = "request",
    status_column: str | None = "status_code",
    status_explicit: bool = False,
    max_examples: int = 5,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> ReplayReport:
    """Check every logged request body in `table[column]` against the served model.

    Without the status column (and `status_explicit` false), every logged request counts
    as one that succeeded. Rows are numbered from 0 in the table's order.
    """
    from schemakit.table.engine import pick_served

    served = pick_served(schema, model)
    status, rows = logged_columns(os.fspath(table), column, status_column, status_explicit, batch_rows)
    tally = ReplayTally(compile_validator(served), max_examples)
    for row, (body, code) in enumerate(rows):
        tally.add(row, body_bytes(body), succeeded(code))
    tally.flush()
    return tally.report(os.fspath(table), "arrow", status)
