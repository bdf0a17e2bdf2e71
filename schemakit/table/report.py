"""What `check-table` finds, per column and rule: counts, the first rows, and the report both engines return.

The Arrow engine and the Spark engine fill the same `Findings`: a partition (or a run of
record batches) adds what it found, and partial `Findings` merge, keeping every count and
the first rows by row number. The report renders as text and as JSON; every text that
came from the table is escaped for the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemakit.runtime.report import describe_value, plural, shorten
from schemakit.runtime.text import terminal

__all__ = [
    "SCHEMA_VERSION",
    "BatchAdvice",
    "Finding",
    "Findings",
    "TableReport",
]

#: Version of the JSON report's layout; bumped when a field changes meaning or goes away.
SCHEMA_VERSION = 1

#: (column path, rule code, what was expected): one finding.
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken in one column: how many rows, and the first of them with their values.

    `column` is the column's path (`location.lat`, `tags[]`, `counts{}`), empty for a finding
    about the whole table. Rows count from 0 in the table's order (see docs/table.md).
    """

    column: str
    code: str
    severity: str
    message: str
    count: int
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column or None,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "count": self.count,
            "rows": list(self.rows),
            "values": list(self.values),
        }

    def to_text(self) -> str:
        where = f"column {terminal(self.column)}: " if self.column else ""
        head = f"{self.severity} [{self.code}] {where}{terminal(self.message)}"
        if not self.rows:
            return head + (f" ({plural(self.count, 'row')})" if self.count else "")
        firsts = ", ".join(f"{row} ({terminal(value)})" for row, value in zip(self.rows, self.values, strict=True))
        more = ", ..." if self.count > len(self.rows) else ""
        return f"{head}: {plural(self.count, 'row')}; row {firsts}{more}"


@dataclass(slots=True)
class _Tally:
    severity: str
    count: int = 0
    samples: list[tuple[int, str]] = field(default_factory=list)


class Findings:
    """Counts and first rows per (column, rule, expectation), filled batch by batch and mergeable.

    Besides ordinary findings it keeps, per datetime text column, how many rows are written in
    each form and the first rows of each: which form is the column's "first" is known only when
    every partition has been seen, so the form rule is decided in `finish`.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._tallies: dict[Key, _Tally] = {}
        #: column path -> form -> tally (severity unused), rows are that form's first rows.
        self.forms: dict[str, dict[str, _Tally]] = {}

    def room(self, key: Key) -> int:
        tally = self._tallies.get(key)
        return self.max_rows if tally is None else self.max_rows - len(tally.samples)

    def add(self, key: Key, severity: str, count: int, samples: Iterable[tuple[int, str]] = ()) -> None:
        if count <= 0:
            return
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally(severity)
        tally.count += count
        _keep_first(tally, samples, self.max_rows)

    def add_form(self, column: str, form: str, count: int, samples: Iterable[tuple[int, str]]) -> None:
        if count <= 0:
            return
        tally = self.forms.setdefault(column, {}).setdefault(form, _Tally(""))
        tally.count += count
        # One more than shown: the first row of a form may be the column's reference row.
        _keep_first(tally, samples, self.max_rows + 1)

    def form_room(self, column: str, form: str) -> int:
        tally = self.forms.get(column, {}).get(form)
        return self.max_rows + 1 - (len(tally.samples) if tally is not None else 0)

    def merge(self, other: Findings) -> None:
        for key, tally in other._tallies.items():
            self.add(key, tally.severity, tally.count, tally.samples)
        for column, forms in other.forms.items():
            for form, tally in forms.items():
                self.add_form(column, form, tally.count, tally.samples)

    def finish(self, severity: str) -> list[Finding]:
        """The findings, the datetime form rule decided: every row not in the form of the column's first row."""
        out = [
            Finding(column, code, tally.severity, message, tally.count, *_split(tally.samples))
            for (column, code, message), tally in self._tallies.items()
        ]
        for column, forms in self.forms.items():
            if len(forms) < 2:
                continue
            first_form = min(forms, key=lambda form: forms[form].samples[0][0])
            first_row, first_text = forms[first_form].samples[0]
            others = [t for f, t in forms.items() if f != first_form]
            samples = [(r, describe_value(v)) for r, v in sorted(s for t in others for s in t.samples)[: self.max_rows]]
            out.append(
                Finding(
                    column,
                    "datetime-iso8601",
                    severity,
                    f"expected datetime (ISO-8601 text) written like row {first_row} ({shorten(first_text)}): pandas reads "
                    "a datetime column in the form of its first value and refuses a request with a row in another",
                    sum(t.count for t in others),
                    *_split(samples),
                )
            )
        return out

    def to_json(self) -> dict[str, Any]:
        """A partial result as JSON (what a Spark partition sends back to the driver)."""
        return {
            "max_rows": self.max_rows,
            "tallies": [[list(key), t.severity, t.count, t.samples] for key, t in self._tallies.items()],
            "forms": {c: {f: [t.count, t.samples] for f, t in forms.items()} for c, forms in self.forms.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Findings:
        findings = cls(int(data["max_rows"]))
        for key, severity, count, samples in data["tallies"]:
            findings.add((key[0], key[1], key[2]), severity, count, [(int(r), str(v)) for r, v in samples])
        for column, forms in data["forms"].items():
            for form, (count, samples) in forms.items():
                findings.add_form(column, form, count, [(int(r), str(v)) for r, v in samples])
        return findings


def _keep_first(tally: _Tally, samples: Iterable[tuple[int, str]], limit: int) -> None:
    new = list(samples)
    if not new:
        return
    if tally.samples and new[0][0] < tally.samples[-1][0]:
        tally.samples = sorted([*tally.samples, *new])[:limit]
    else:
        tally.samples.extend(new[: max(0, limit - len(tally.samples))])


def _split(samples: list[tuple[int, str]]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    return tuple(r for r, _ in samples), tuple(v for _, v in samples)


@dataclass(frozen=True, slots=True)
class BatchAdvice:
    """How many rows fit in one request under the endpoint's size limit, from the rows' JSON size."""

    limit_bytes: int
    max_row_bytes: int
    mean_row_bytes: float
    #: The largest rows-per-request that stays under the limit for any run of rows (from the largest row).
    rows_per_request: int

    def to_json(self) -> dict[str, Any]:
        return {
            "limit_bytes": self.limit_bytes,
            "max_row_bytes": self.max_row_bytes,
            "mean_row_bytes": round(self.mean_row_bytes, 1),
            "rows_per_request": self.rows_per_request,
        }

    def to_text(self) -> str:
        return (
            f"batch size: at most {self.rows_per_request:,} rows per request stay under the "
            f"{self.limit_bytes // (1024 * 1024)} MB request limit (largest row {self.max_row_bytes:,} bytes "
            f"as JSON, mean {self.mean_row_bytes:,.0f})"
        )


_SEVERITY_ORDER = {"error": 0, "warning": 1}


def line_start(text: str) -> str:
    """Text that begins an output line: never a GitHub workflow command (`::error ...`), whatever a path says."""
    return "\\u003a" + text[1:] if text.startswith(":") else text


@dataclass(frozen=True, slots=True)
class TableReport:
    """A table checked against a served model: every finding, errors first, and the batch-size advice."""

    source: str
    model: str
    engine: str
    rows: int
    columns: tuple[str, ...]
    findings: tuple[Finding, ...]
    advice: BatchAdvice | None = None
    #: What the row numbers mean for this engine (see docs/table.md).
    row_numbers: str = "position in the table, from 0"

    @staticmethod
    def ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
        return tuple(
            sorted(
                findings,
                key=lambda f: (_SEVERITY_ORDER.get(f.severity, 2), f.rows[0] if f.rows else -1, f.column, f.code),
            )
        )

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        verdict = "ok" if self.ok else "invalid"
        bad_rows = sum(f.count for f in self.errors)
        return (
            f"{verdict} for {terminal(self.model)}: {plural(self.rows, 'row')} checked ({self.engine}), "
            f"{plural(len(self.errors), 'error')} ({plural(bad_rows, 'failing value')}), "
            f"{plural(len(self.warnings), 'warning')}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "model": self.model,
            "engine": self.engine,
            "ok": self.ok,
            "rows": self.rows,
            "row_numbers": self.row_numbers,
            "columns": list(self.columns),
            "total_errors": len(self.errors),
            "total_warnings": len(self.warnings),
            "findings": [f.to_json() for f in self.findings],
            "batch_size": self.advice.to_json() if self.advice is not None else None,
        }

    def to_text(self) -> str:
        where = line_start(terminal(self.source))
        lines = [f"{where}: {f.to_text()}" for f in self.findings]
        if self.advice is not None:
            lines.append(f"{where}: {self.advice.to_text()}")
        lines.append(f"{where}: {self.summary()}")
        return "\n".join(lines)
