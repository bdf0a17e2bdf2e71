"""What a check finds: `Problem`, `PayloadReport`, and the sinks that collect problems while walking.

Errors always come before warnings in a report: a sink keeps up to `limit` of each,
and the report lists the errors first, so a warning can never push an error out of
the listing or hide it behind "... and N more".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .jsonsem import HugeInt
from .text import terminal

__all__ = [
    "ROOT",
    "Path",
    "PayloadReport",
    "Problem",
    "RuleBuffer",
    "Sink",
    "describe_value",
    "path_parts",
    "path_text",
    "plural",
    "shorten",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload (or worth a warning): where, what was expected, what was found."""

    code: str
    severity: str  # "error" or "warning"
    path: str  # JSONPath-like: $.dataframe_split.data[3][1]
    row: int | None
    column: str | None
    expected: str | None
    found: str | None
    message: str
    #: Where in the payload's text, 1-based, when the text itself is the problem (`invalid-json`).
    line: int | None = None
    col: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "row": self.row,
            "column": self.column,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }
        if self.line is not None:
            data.update(line=self.line, col=self.col)
        return data

    def __str__(self) -> str:
        return f"{self.severity} [{self.code}] {self.message}"


@dataclass(frozen=True)
class PayloadReport:
    """Every problem found (up to the limit), errors first, with totals that count all of them."""

    ok: bool
    model: str
    format: str | None
    problems: tuple[Problem, ...]
    total_errors: int
    total_warnings: int
    #: Problems per code, counting those beyond the limit too.
    counts: Mapping[str, int] = field(default_factory=dict)
    #: True when more problems were found than `problems` holds.
    truncated: bool = False

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "model": self.model,
            "format": self.format,
            "total_errors": self.total_errors,
            "total_warnings": self.total_warnings,
            "counts": dict(sorted(self.counts.items())),
            "truncated": self.truncated,
            "problems": [p.to_json() for p in self.problems],
        }

    def summary(self) -> str:
        """One line: the verdict and the problem counts per code."""
        fmt = f" ({self.format})" if self.format else ""
        verdict = "valid" if self.ok else "invalid"
        head = (
            f"{verdict} for {self.model}{fmt}: {plural(self.total_errors, 'error')}, "
            f"{plural(self.total_warnings, 'warning')}"
        )
        if self.counts:
            head += " (" + ", ".join(f"{code}: {n:,}" for code, n in sorted(self.counts.items())) + ")"
        return head

    def to_text(self, max_problems: int = 5) -> str:
        """A compact message: the summary, the first few problems (errors first), how many more there are."""
        lines = [self.summary()]
        shown = ordered(self.problems)[:max_problems]
        lines.extend(f"- {p.severity} [{p.code}] {p.message}" for p in shown)
        hidden = self.total_errors + self.total_warnings - len(shown)
        if hidden > 0:
            hidden_errors = self.total_errors - sum(1 for p in shown if p.severity == "error")
            more = f" ({plural(hidden_errors, 'error')})" if 0 < hidden_errors < hidden else ""
            lines.append(f"- ... and {hidden:,} more{more}")
        # Messages quote the payload (keys, values): its control and bidi characters are shown as
        # escapes, so the text is safe in a terminal, a log line or an error body.
        return "\n".join(terminal(line) for line in lines)


def ordered(problems: Sequence[Problem]) -> tuple[Problem, ...]:
    """Errors first, then warnings, each in the order found."""
    return tuple(p for p in problems if p.severity == "error") + tuple(p for p in problems if p.severity != "error")


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


# A path is a linked list of (parent, key) pairs, built cheaply while walking and
# turned into text only for the problems that are kept.
Path = Any
ROOT: Path = None


class Sink:
    """Collects problems: keeps the first `limit` errors and the first `limit` warnings, counts every one."""

    __slots__ = ("counts", "errors", "kept_errors", "kept_warnings", "limit", "verdict_only", "warnings")

    def __init__(self, limit: int, verdict_only: bool = False) -> None:
        self.limit = limit
        self.verdict_only = verdict_only
        self.kept_errors: list[tuple[Any, ...]] = []
        self.kept_warnings: list[tuple[Any, ...]] = []
        self.counts: dict[str, int] = {}
        self.errors = 0
        self.warnings = 0

    @property
    def kept(self) -> list[tuple[Any, ...]]:
        """The problems to show, errors first, at most `limit` in all."""
        return (self.kept_errors + self.kept_warnings)[: self.limit]

    def add(
        self,
        code: str,
        path: Path,
        expected: str | None,
        value: Any,
        detail: str | None = None,
        *,
        severity: str = "error",
        column: str | None = None,
        show_value: bool = True,
    ) -> None:
        if severity == "error":
            self.errors += 1
            kept = self.kept_errors
        else:
            self.warnings += 1
            kept = self.kept_warnings
        if self.verdict_only:
            return
        self.counts[code] = self.counts.get(code, 0) + 1
        if len(kept) < self.limit:
            found = describe_value(value) if show_value else None
            kept.append((code, severity, path, expected, found, detail, column))

    def merge(self, other: Sink) -> None:
        self.errors += other.errors
        self.warnings += other.warnings
        if self.verdict_only:
            return
        for code, n in other.counts.items():
            self.counts[code] = self.counts.get(code, 0) + n
        for mine, theirs in ((self.kept_errors, other.kept_errors), (self.kept_warnings, other.kept_warnings)):
            room = self.limit - len(mine)
            if room > 0:
                mine.extend(theirs[:room])


class RuleBuffer(Sink):
    """A branch's sink: schema errors decide the branch, rule problems wait for the branch to be chosen."""

    __slots__ = ("rules",)

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.rules = Sink(limit)


def rule_sink(sink: Sink) -> Sink:
    """Where serving-rule problems go: a branch's buffer keeps them until the branch is chosen."""
    return sink.rules if isinstance(sink, RuleBuffer) else sink


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"integer {_int_text(value)}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value in (math.inf, -math.inf):
            return "Infinity" if value > 0 else "-Infinity"
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {shorten(value)}"
    if isinstance(value, list):
        return f"array of {len(value):,} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        keys = ", ".join(shorten(str(k), 20) for k in list(value)[:3])
        more = ", ..." if len(value) > 3 else ""
        return f"object {{{keys}{more}}}" if value else "empty object"
    return f"{type(value).__name__} (not a JSON value)"


def _int_text(value: int) -> str:
    # str() refuses integers of more than 4,300 digits (CPython's guard against quadratic
    # conversion), and a payload may hold one: such integers are described by their size.
    if isinstance(value, HugeInt):
        return f"{value.text[:20]}...({value.digits:,} digits)"
    if value.bit_length() > 4000:
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"of about {digits:,} digits"
    if abs(value) < 10**40:
        return str(value)
    text = str(value)
    return f"{text[:20]}...({len(text.lstrip('-'))} digits)"


def shorten(text: str, limit: int = 40) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted if len(quoted) <= limit else quoted[: limit - 4] + '..."'


def path_parts(path: Path) -> list[Any]:
    parts: list[Any] = []
    while path is not None:
        path, key = path
        parts.append(key)
    parts.reverse()
    return parts


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def path_text(parts: Sequence[Any]) -> str:
    out = ["$"]
    for key in parts:
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif _IDENT.match(key):
            out.append(f".{key}")
        else:
            out.append(f"[{json.dumps(key, ensure_ascii=False)}]")
    return "".join(out)
