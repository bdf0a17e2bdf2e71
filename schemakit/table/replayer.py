"""`replay`: check logged requests (an inference table's `request` column) against a schema.

Every logged JSON body goes through the payload engine (`schemakit.check`'s validator,
its fast path first), so a request counts as rejected exactly when `check` would
reject it. Each request is checked against the served model that answered it (the
table says which: `served_entity_id` in the AI Gateway layout, `request_metadata` in the
legacy one), or against one named model. Rejections are grouped by served model, rule and
column, and by caller and day, with the first examples; the verdict that gates a deploy is
how many requests that *succeeded* when they were logged (status 200, when the table has a
status column) the schema would reject. Rows without a logged body (too large to log, or
null) are counted as unlogged, rows a served model of the schema cannot be found for as
unrouted, values that cannot be read as unreadable: each reported, none checked.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from schemakit._exceptions import SchemakitError
from schemakit.check.validator import PayloadValidator, compile_validator
from schemakit.core.limits import request_limit
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.runtime.report import PayloadReport, plural
from schemakit.runtime.text import terminal
from schemakit.table.inference import (
    CLEAN,
    COUNTS,
    UNREADABLE,
    Layout,
    body_bytes,
    day_of,
    read_inference_table,
    served_key,
    succeeded,
    unlogged_reason,
    weight_of,
)
from schemakit.table.report import SCHEMA_VERSION
from schemakit.table.sources import DEFAULT_BATCH_ROWS

__all__ = [
    "Broken",
    "CallerReport",
    "ReplayGroup",
    "ReplayReport",
    "ReplayTally",
    "Router",
    "Traffic",
    "assemble",
    "body_bytes",
    "caller_of",
    "logged_columns",
    "replay",
    "run_traffic",
    "succeeded",
]

_CACHE_ENTRIES = 65_536
#: A `dataframe_records` body, split around the text of its rows.
_RECORDS = re.compile(rb'\s*\{\s*"dataframe_records"\s*:\s*\[(.*)\]\s*\}\s*\Z', re.DOTALL)
#: Rows of logged requests checked as one payload, and its size cap.
_BUNDLE_ROWS = 2_048
_BUNDLE_BYTES = 1 << 20
#: Callers and days are the table's text: bounded, so a hostile table cannot grow the report without end.
_MAX_CALLERS = 10_000
_OTHER_CALLERS = "(other callers)"
#: (caller, day) cells, and distinct unrouted entities, kept before the rest are lumped together.
_MAX_CELLS = 100_000
_MAX_UNROUTED = 100
_OTHER_UNROUTED = "(other served entities)"
_EXAMPLES = 5
#: Callers listed by name in the text report (all of them are in the JSON).
_LISTED_CALLERS = 50


@dataclass(frozen=True, slots=True)
class ReplayGroup:
    """Requests rejected for one rule in one column: how many, and the first of them."""

    code: str
    column: str | None
    count: int
    rows: tuple[int, ...]
    messages: tuple[str, ...]
    #: The served model whose schema rejected them (None when only one model is involved).
    model: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "code": self.code,
            "column": self.column,
            "count": self.count,
            "examples": [{"row": r, "message": m} for r, m in zip(self.rows, self.messages, strict=True)],
        }

    def text_lines(self, where: str, indent: str = "") -> list[str]:
        model = f" {terminal(self.model)}" if self.model else ""
        column = f" column {terminal(self.column)}:" if self.column else ""
        lines = [f"{where}: {indent}[{self.code}]{model}{column} {plural(self.count, 'request')}"]
        lines.extend(
            f"{where}: {indent}  row {row}: {terminal(message)}"
            for row, message in zip(self.rows, self.messages, strict=True)
        )
        return lines


@dataclass(frozen=True, slots=True)
class CallerReport:
    """One caller's traffic: requests per day, how many the schema would break, and why."""

    caller: str | None
    requests: int
    rejected: int
    #: Rejected requests that succeeded when logged (and that the baseline accepts, in a gate).
    breaking: int
    #: Rejected, but rejected by the live schema too (a gate's baseline): not caused by the change.
    already_rejected: int
    unlogged: int
    unrouted: int
    estimated_requests: float
    estimated_breaking: float
    #: (day, requests, breaking), days in order; None for rows without a day.
    days: tuple[tuple[str | None, int, int], ...]
    groups: tuple[ReplayGroup, ...]

    @property
    def name(self) -> str:
        return self.caller if self.caller is not None else "(unknown caller)"

    def breaking_days(self, escape: Callable[[str], str], limit: int = 14) -> list[str]:
        """`2026-03-01: 10` for each day with breaking requests (the first `limit` days, then how many more)."""
        days = [f"{escape(d or '(no day)')}: {b:,}" for d, _, b in self.days if b]
        return days[:limit] + ([f"{len(days) - limit:,} more days"] if len(days) > limit else [])

    def to_json(self) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "requests": self.requests,
            "rejected": self.rejected,
            "breaking": self.breaking,
            "already_rejected": self.already_rejected,
            "unlogged": self.unlogged,
            "unrouted": self.unrouted,
            "estimated_requests": round(self.estimated_requests, 1),
            "estimated_breaking": round(self.estimated_breaking, 1),
            "days": [{"day": d, "requests": n, "breaking": b} for d, n, b in self.days],
            "groups": [g.to_json() for g in self.groups],
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
    #: Rows without a logged request body (null, or over the logging limit), not checked.
    skipped: int
    status_column: str | None
    groups: tuple[ReplayGroup, ...]
    layout: str = "plain"
    #: Why bodies were not logged: logging error code (or NOT_LOGGED) -> rows.
    unlogged: Mapping[str, int] = field(default_factory=dict)
    #: Rows whose served model the schema does not have: what the row named -> rows.
    unrouted: Mapping[str, int] = field(default_factory=dict)
    #: Rows whose values could not be read (a line that is not JSON, a value out of range).
    unreadable: int = 0
    #: The first unreadable rows: (row, line number in a JSON Lines file, else None).
    unreadable_rows: tuple[tuple[int, int | None], ...] = ()
    #: Served model -> (requests, rejected, rejected_succeeded).
    models: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    callers: tuple[CallerReport, ...] = ()
    #: The table's sampling_fraction applied: (estimated requests, estimated rejected that succeeded).
    estimated: tuple[float, float] | None = None
    already_rejected: int = 0

    @property
    def ok(self) -> bool:
        return self.rejected_succeeded == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "model": self.model,
            "engine": self.engine,
            "layout": self.layout,
            "ok": self.ok,
            "requests": self.total,
            "rejected": self.rejected,
            "rejected_succeeded": self.rejected_succeeded,
            "skipped": self.skipped,
            "unlogged": dict(self.unlogged),
            "unrouted": dict(self.unrouted),
            "unreadable": self.unreadable,
            "unreadable_rows": [{"row": r, "line": n} for r, n in self.unreadable_rows],
            "status_column": self.status_column,
            "estimated": (
                None
                if self.estimated is None
                else {"requests": round(self.estimated[0], 1), "rejected_succeeded": round(self.estimated[1], 1)}
            ),
            "models": {
                name: {"requests": n, "rejected": r, "rejected_succeeded": s} for name, (n, r, s) in self.models.items()
            },
            "groups": [g.to_json() for g in self.groups],
            "callers": [c.to_json() for c in self.callers],
        }

    def summary(self) -> str:
        share = f" ({self.rejected / self.total:.2%})" if self.total else ""
        model = terminal(self.model)
        line = f"{self.rejected:,} of {self.total:,} logged requests{share} would be rejected by {model}"
        if self.status_column is not None:
            line += f"; {self.rejected_succeeded:,} of them succeeded when logged ({terminal(self.status_column)} 200)"
        if self.estimated is not None:
            line += (
                f"; sampled: about {self.estimated[0]:,.0f} requests in all,"
                f" about {self.estimated[1]:,.0f} of them would break"
            )
        if self.skipped:
            reasons = ", ".join(f"{terminal(k)}: {n:,}" for k, n in sorted(self.unlogged.items()))
            line += f"; {plural(self.skipped, 'request')} not logged ({reasons}), not checked"
        if self.unrouted:
            line += f"; {plural(sum(self.unrouted.values()), 'request')} served by a model SPEC does not name"
        if self.unreadable:
            first = ", ".join(f"row {r}" + (f" at line {n}" if n is not None else "") for r, n in self.unreadable_rows)
            line += f"; {plural(self.unreadable, 'row')} unreadable" + (f" ({first})" if first else "")
        return line

    def to_text(self) -> str:
        where = terminal(self.source)
        lines = []
        for group in self.groups:
            lines.extend(group.text_lines(where))
        if len(self.callers) > 1 or any(c.caller is not None for c in self.callers):
            rejected = [caller for caller in self.callers if caller.rejected]
            for caller in rejected[:_LISTED_CALLERS]:
                lines.append(
                    f"{where}: caller {terminal(caller.name)}: {caller.breaking:,} of"
                    f" {plural(caller.requests, 'request')} would break"
                    + "".join(f"; {day}" for day in caller.breaking_days(terminal))
                )
            if len(rejected) > _LISTED_CALLERS:
                more = len(rejected) - _LISTED_CALLERS
                lines.append(f"{where}: {plural(more, 'more caller')} with rejected requests (see --format json)")
        for key, count in sorted(self.unrouted.items()):
            lines.append(
                f"{where}: warning: {plural(count, 'request')} served by {terminal(key)}, which SPEC does not name"
                " (pass --served-entity ID=NAME or --served-entities FILE, or --model NAME)"
            )
        lines.append(f"{where}: {self.summary()}")
        return "\n".join(lines)


def caller_of(requester: Any, client_request_id: Any, prefixes: tuple[str, ...] | None) -> str | None:
    """Who sent a request: the requester, or (with `prefixes`) the client_request_id prefix it starts with.

    With an empty tuple of prefixes, the client_request_id up to its first ':' names the caller.
    """
    if prefixes is None:
        return requester if isinstance(requester, str) else None if requester is None else str(requester)
    if not isinstance(client_request_id, str):
        return None
    for prefix in prefixes:
        if client_request_id.startswith(prefix):
            return prefix
    if prefixes:
        return _OTHER_CALLERS
    return client_request_id.partition(":")[0]


class Traffic:
    """Per caller and day: requests, estimates and what broke; shared by every model's tally, and mergeable."""

    def __init__(self, max_examples: int = 5) -> None:
        self.max_examples = max_examples
        #: (caller, day) -> [requests, weight, breaking, weight of breaking]
        self.cells: dict[tuple[str | None, str | None], list[Any]] = {}
        #: caller -> [rejected, already rejected, unlogged, unrouted]
        self.extra: dict[str | None, list[int]] = {}
        #: caller -> (model, code, column) -> [count, examples]
        self.groups: dict[str | None, dict[tuple[str | None, str, str | None], list[Any]]] = {}
        self.sampled = False

    def caller(self, caller: str | None) -> str | None:
        if caller is not None and len(self.extra) >= _MAX_CALLERS and caller not in self.extra:
            return _OTHER_CALLERS
        return caller

    def count(self, caller: str | None, day: str | None, weight: float, n: int = 1) -> None:
        """Count `n` requests of a caller on a day (a negative `n` takes back what a bulk count over-counted)."""
        cell = self.cells.get((caller, day))
        if cell is None:
            caller = self.caller(caller)
            if len(self.cells) >= _MAX_CELLS:
                day = None
            self.extra.setdefault(caller, [0, 0, 0, 0])
            cell = self.cells.setdefault((caller, day), [0, 0.0, 0, 0.0])
        cell[0] += n
        cell[1] += weight * n
        if weight != 1.0:
            self.sampled = True

    def note(self, caller: str | None, kind: int) -> None:
        """Count a rejected (0), already rejected (1), unlogged (2) or unrouted (3) request of a caller."""
        self.extra.setdefault(self.caller(caller), [0, 0, 0, 0])[kind] += 1

    def broke(self, caller: str | None, day: str | None, weight: float) -> None:
        key = (self.caller(caller), day)
        if key not in self.cells and len(self.cells) >= _MAX_CELLS:
            key = (key[0], None)
        cell = self.cells.setdefault(key, [0, 0.0, 0, 0.0])
        cell[2] += 1
        cell[3] += weight

    def example(self, caller: str | None, key: tuple[str | None, str, str | None], row: int, message: str) -> None:
        group = self.groups.setdefault(self.caller(caller), {}).setdefault(key, [0, []])
        group[0] += 1
        group[1] = sorted([*group[1], (row, message)])[: self.max_examples]

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [[c, d, *v] for (c, d), v in self.cells.items()],
            "extra": [[c, *v] for c, v in self.extra.items()],
            "groups": [[c, list(k), n, ex] for c, g in self.groups.items() for k, (n, ex) in g.items()],
            "sampled": self.sampled,
        }

    def merge_json(self, data: dict[str, Any]) -> None:
        for caller, day, *values in data["cells"]:
            cell = self.cells.setdefault((caller, day), [0, 0.0, 0, 0.0])
            for i, v in enumerate(values):
                cell[i] += v
        for caller, *values in data["extra"]:
            extra = self.extra.setdefault(caller, [0, 0, 0, 0])
            for i, v in enumerate(values):
                extra[i] += v
        for caller, key, n, examples in data["groups"]:
            group = self.groups.setdefault(caller, {}).setdefault((key[0], key[1], key[2]), [0, []])
            group[0] += n
            group[1] = sorted([*group[1], *(tuple(e) for e in examples)])[: self.max_examples]
        self.sampled = self.sampled or bool(data["sampled"])

    def callers(self) -> tuple[CallerReport, ...]:
        per: dict[str | None, list[tuple[str | None, list[Any]]]] = {}
        for (caller, day), cell in self.cells.items():
            per.setdefault(caller, []).append((day, cell))
        out = []
        for caller in set(per) | set(self.extra):
            days = sorted(per.get(caller, []), key=lambda item: (item[0] is None, item[0] or ""))
            rejected, already, unlogged, unrouted = self.extra.get(caller, [0, 0, 0, 0])
            groups = _groups(self.groups.get(caller, {}))
            out.append(
                CallerReport(
                    caller,
                    sum(c[0] for _, c in days),
                    rejected,
                    sum(c[2] for _, c in days),
                    already,
                    unlogged,
                    unrouted,
                    sum(c[1] for _, c in days),
                    sum(c[3] for _, c in days),
                    tuple((d, c[0], c[2]) for d, c in days),
                    groups,
                )
            )
        return tuple(sorted(out, key=lambda c: (-c.breaking, -c.requests, c.caller is None, c.caller or "")))


def _groups(groups: Mapping[tuple[str | None, str, str | None], list[Any]]) -> tuple[ReplayGroup, ...]:
    return tuple(
        sorted(
            (
                ReplayGroup(code, column, n, tuple(r for r, _ in ex), tuple(m for _, m in ex), model)
                for (model, code, column), (n, ex) in groups.items()
            ),
            key=lambda g: (-g.count, g.model or "", g.code, g.column or ""),
        )
    )


#: A bundled request: (row, body, succeeded, rows' text, caller, day, weight).
_Pending = tuple[int, bytes, bool, bytes, str | None, str | None, float]


class ReplayTally:
    """Counts what the payload engine says about logged requests to one served model; partial tallies merge.

    With a `baseline` validator (the live schema, in a gate), a rejected request counts as
    breaking only when the baseline accepts it: what the live schema already refuses is not
    the candidate's doing, and is counted as `already_rejected`.
    """

    def __init__(
        self,
        validator: PayloadValidator,
        max_examples: int = 5,
        *,
        baseline: PayloadValidator | None = None,
        traffic: Traffic | None = None,
        label: str | None = None,
    ) -> None:
        self.validator = validator
        self.baseline = baseline
        self.label = label
        self.limit = request_limit(validator.model)
        self._bundle: list[_Pending] = []
        self._bundle_bytes = 0
        self._bundles = validator.model.format("dataframe_records") is not None
        self.max_examples = max_examples
        self.traffic = traffic if traffic is not None else Traffic(max_examples)
        self.total = 0
        self.rejected = 0
        self.rejected_succeeded = 0
        self.already_rejected = 0
        self.skipped = 0
        self.unreadable = 0
        self._plain = 0
        self.groups: dict[tuple[str, str | None], list[Any]] = {}
        self._cache: dict[bytes, PayloadReport] = {}
        self._baseline_cache: dict[bytes, bool] = {}
        #: Names of the columns and fields new rejections were about (for a gate's "exercised" question).
        self.touched: set[str] = set()

    def add(
        self,
        row: int,
        body: bytes | None,
        succeeded: bool,
        caller: str | None = None,
        day: str | None = None,
        weight: float = 1.0,
        *,
        counted: bool = False,
    ) -> None:
        """Count one logged request; `dataframe_records` requests are checked many at a time (call `flush`).

        `counted`: the request is already in the traffic's per-caller counts (counted in bulk).

        Rows of one-format record requests are checked as one payload: when that payload is
        valid every request in it is (each has rows, fits the size limit, and `check`'s rules
        look at each row alone, or across rows more strictly, as the datetime form rule does);
        when it is not, the bundle is halved until the rejected requests are found, and those
        are checked alone, so their reports are exactly `check`'s.
        """
        if body is None:
            self.skipped += 1
            self.traffic.note(caller, 2)
            return
        if body is UNREADABLE:
            self.unreadable += 1
            return
        self.total += 1
        if counted:
            pass
        elif caller is None and day is None and weight == 1.0:
            self._plain += 1  # a table without callers, days or sampling: counted once, at the end
        else:
            self.traffic.count(caller, day, weight)
        inner = self._records(body)
        if inner is None:
            self.feed(row, body, succeeded, caller, day, weight)
            return
        self._bundle.append((row, body, succeeded, inner, caller, day, weight))
        self._bundle_bytes += len(inner)
        if len(self._bundle) >= _BUNDLE_ROWS or self._bundle_bytes >= _BUNDLE_BYTES:
            self.flush()

    def flush(self) -> None:
        bundle, self._bundle, self._bundle_bytes = self._bundle, [], 0
        self._settle(bundle)
        if self._plain:
            cell = self.traffic.cells.get((None, None))
            if cell is None:
                self.traffic.count(None, None, 1.0)
                self._plain -= 1
                cell = self.traffic.cells[(None, None)]
            cell[0] += self._plain
            cell[1] += self._plain
            self._plain = 0

    def _settle(self, bundle: list[_Pending]) -> None:
        if not bundle:
            return
        if len(bundle) > 1:
            payload = b'{"dataframe_records":[' + b",".join(item[3] for item in bundle) + b"]}"
            if self.validator.validate_json(payload).ok:
                return
            half = len(bundle) // 2
            self._settle(bundle[:half])
            self._settle(bundle[half:])
            return
        row, body, ok, _, caller, day, weight = bundle[0]
        self.feed(row, body, ok, caller, day, weight)

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

    def _accepted_by_baseline(self, body: bytes) -> bool:
        assert self.baseline is not None
        verdict = self._baseline_cache.get(body)
        if verdict is None:
            verdict = self.baseline.validate_json(body).ok
            if len(self._baseline_cache) < _CACHE_ENTRIES:
                self._baseline_cache[body] = verdict
        return verdict

    def feed(
        self,
        row: int,
        body: bytes,
        succeeded: bool,
        caller: str | None = None,
        day: str | None = None,
        weight: float = 1.0,
    ) -> None:
        """Check one (already counted) logged request alone."""
        report = self._cache.get(body)
        if report is None:
            report = self.validator.validate_json(body)
            # Logs repeat requests: a verdict is reused while the cache is small.
            if len(self._cache) < _CACHE_ENTRIES:
                self._cache[body] = report
        if report.ok:
            return
        self.rejected += 1
        self.traffic.note(caller, 0)
        if self.baseline is not None and not self._accepted_by_baseline(body):
            self.already_rejected += 1
            self.traffic.note(caller, 1)
            return
        if succeeded:
            self.rejected_succeeded += 1
            self.traffic.broke(caller, day, weight)
        seen: set[tuple[str, str | None]] = set()
        for problem in report.errors:
            key = (problem.code, problem.column)
            if key in seen:
                continue
            seen.add(key)
            if len(self.touched) < _CACHE_ENTRIES:
                self.touched.add(problem.column or problem.path)
            group = self.groups.setdefault(key, [0, []])
            group[0] += 1
            # Bundled requests are settled later than the ones checked alone: keep the first rows.
            group[1] = sorted([*group[1], (row, problem.message)])[: self.max_examples]
            if succeeded:
                self.traffic.example(caller, (self.label, *key), row, problem.message)

    def to_json(self) -> dict[str, Any]:
        self.flush()
        return {
            "counts": [
                self.total,
                self.rejected,
                self.rejected_succeeded,
                self.skipped,
                self.already_rejected,
                self.unreadable,
            ],
            "groups": [[code, column, n, examples] for (code, column), (n, examples) in self.groups.items()],
            "traffic": self.traffic.to_json(),
        }

    def merge_json(self, data: dict[str, Any]) -> None:
        total, rejected, succeeded, skipped, *more = data["counts"]
        self.total += total
        self.rejected += rejected
        self.rejected_succeeded += succeeded
        self.skipped += skipped
        if more:
            self.already_rejected += more[0]
            self.unreadable += more[1]
        for code, column, n, examples in data["groups"]:
            group = self.groups.setdefault((code, column), [0, []])
            group[0] += n
            group[1] = sorted([*group[1], *(tuple(e) for e in examples)])[: self.max_examples]
        if "traffic" in data:
            self.traffic.merge_json(data["traffic"])

    def report(self, source: str, engine: str, status_column: str | None) -> ReplayReport:
        self.flush()
        return ReplayReport(
            source,
            self.validator.model.name,
            engine,
            self.total,
            self.rejected,
            self.rejected_succeeded,
            self.skipped,
            status_column,
            _groups({(None, code, column): v for (code, column), v in self.groups.items()}),
            already_rejected=self.already_rejected,
            unreadable=self.unreadable,
        )


# -- routing ------------------------------------------------------------------------------


class Router:
    """Which served model answered a logged request: from its entity id or its model name and version.

    `entities` maps served-entity ids (AI Gateway) or `NAME-VERSION` (legacy metadata) to served
    model names. A legacy row names a registered model and version; its served model is found
    as `NAME-VERSION` (the platform's default served-model name), then with the catalog and
    schema dropped (`main.ads.ranker` -> `ranker-3`), then as the name alone. With one served
    model in the schema, every row goes to it.
    """

    def __init__(self, names: tuple[str, ...], entities: Mapping[str, str] | None = None) -> None:
        self.names = names
        self.entities = dict(entities or {})
        self._known = set(names)
        self._cache: dict[Any, tuple[str | None, str]] = {}

    def resolve(self, key: str | tuple[str, str] | None) -> tuple[str | None, str]:
        """(served model name or None, what the row named)."""
        hit = self._cache.get(key)
        if hit is None:
            hit = self._resolve(key)
            if len(self._cache) < _CACHE_ENTRIES:
                self._cache[key] = hit
        return hit

    def _resolve(self, key: str | tuple[str, str] | None) -> tuple[str | None, str]:
        if key is None:
            label = "(no served entity)"
            return (self.names[0] if len(self.names) == 1 else None), label
        if isinstance(key, str):
            candidates = [self.entities.get(key), key]
            label = f"entity {key}"
        else:
            name, version = key
            short = name.rsplit(".", 1)[-1]
            dashed = f"{name}-{version}" if version else name
            label = f"model {name} version {version}" if version else f"model {name}"
            candidates = [
                self.entities.get(dashed),
                self.entities.get(f"{name}/{version}"),
                dashed,
                f"{short}-{version}" if version else short,
                name,
                short,
            ]
        for candidate in candidates:
            if candidate is not None and candidate in self._known:
                return candidate, label
        mapped = candidates[0] if isinstance(key, str) else candidates[0] or candidates[1]
        if mapped is not None:
            # Mapped (--served-entity) to a name SPEC does not serve: say which.
            return None, f"{label} ({mapped})"
        if len(self.names) == 1 and not self.entities:
            return self.names[0], label
        return None, label


def _load(schema: EndpointSchema | ServedModel | str | os.PathLike[str]) -> EndpointSchema | ServedModel:
    if isinstance(schema, (str, os.PathLike)):
        from schemakit.core.resolve import load

        return load(os.fspath(schema))
    return schema


@dataclass
class Broken:
    """Where a gate sends the requests of a served model the candidate no longer has: each one breaks."""

    model: str
    rule: str
    message: str
    total: int = 0
    breaking: int = 0


@dataclass
class _Run:
    """One pass over an inference table: a tally per target, the traffic, what was not checked."""

    traffic: Traffic
    layout: Layout
    unlogged: dict[str, int] = field(default_factory=dict)
    unrouted: dict[str, int] = field(default_factory=dict)
    unreadable: int = 0
    unreadable_rows: list[int] = field(default_factory=list)
    #: JSON Lines: row -> line number, for the first rows that are not JSON objects.
    lines: dict[int, int] = field(default_factory=dict)


def run_traffic(
    table: str | os.PathLike[str],
    target: Callable[[str | None, str], ReplayTally | Broken | None],
    router: Router | None,
    *,
    traffic: Traffic,
    column_map: Mapping[str, str] | None = None,
    status_explicit: bool = False,
    caller_prefixes: tuple[str, ...] | None = None,
    caller_by: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    ignore_status: bool = False,
) -> _Run:
    """Read an inference table and feed each row to the tally `target(served model, label)` names.

    `router` None sends every row to `target(None, ...)` (one named model); rows the router
    cannot place go to `target(None, label)` too, which may return None to count them unrouted.
    """
    by = caller_by or ("client_request_id" if caller_prefixes is not None else "requester")
    if by == "client_request_id" and caller_prefixes is None:
        caller_prefixes = ()
    if by not in ("requester", "client_request_id", "none"):
        raise SchemakitError(f"--caller {by!r}: one of requester, client_request_id, none")

    def needed(layout: Layout) -> set[str]:
        roles = {"request", "sampling_fraction", "logging_error_codes"}
        if not ignore_status:
            roles.add("status")
        if router is not None:
            roles |= {"served_entity", "request_metadata", "model_name", "model_version"}
        if by != "none":
            roles.add(by)
        # The day column when there is one; else the request time, which says the day too.
        roles.add("day" if "day" in layout.columns else "time")
        return roles

    rows = read_inference_table(
        table, column_map=column_map, status_explicit=status_explicit, batch_rows=batch_rows, needed=needed
    )
    run = _Run(traffic, rows.layout)
    replay = _Replay(run, target, router, by, caller_prefixes if by == "client_request_id" else None, ignore_status)
    replay.single = _single_target(table, target, router, rows.layout)
    with contextlib.closing(_collected(rows.batches)) as batches:
        for batch in batches:
            replay.batch(batch)
    run.lines = dict(rows.unreadable_lines)
    return run


def _single_target(
    table: str | os.PathLike[str],
    target: Callable[[str | None, str], ReplayTally | Broken | None],
    router: Router | None,
    layout: Layout,
) -> ReplayTally | Broken | None:
    """The one tally every row goes to when there is nothing to route by; None to route each row."""
    has = layout.columns
    if router is None:
        return target(None, "")
    if "served_entity" in has or "request_metadata" in has or "model_name" in has or "model_version" in has:
        return None
    if len(router.names) != 1:
        raise SchemakitError(
            f"{os.fspath(table)}: the table does not say which served model answered each request"
            f" and SPEC serves several ({', '.join(router.names)}); pass --model NAME"
            " (or --column-map served_entity=COLUMN)"
        )
    return target(router.names[0], "")


_Route = tuple[ReplayTally | Broken | None, str]


class _Replay:
    """The state of one pass over a table's batches: routes and days already resolved, the row number."""

    def __init__(
        self,
        run: _Run,
        target: Callable[[str | None, str], ReplayTally | Broken | None],
        router: Router | None,
        by: str,
        prefixes: tuple[str, ...] | None,
        ignore_status: bool,
    ) -> None:
        has = run.layout.columns
        self.run = run
        self.traffic = run.traffic
        self.target = target
        self.router = router
        self.by = by
        self.prefixes = prefixes
        self.ignore_status = ignore_status
        self.single: ReplayTally | Broken | None = None
        self.by_metadata = "request_metadata" in has or "model_name" in has or "model_version" in has
        self.routes: dict[Any, _Route] = {}
        self.days_seen: dict[Any, str | None] = {}
        self.row = 0

    def _callers(self, batch: Mapping[str, Any], clean: Any, nothing: list[Any]) -> list[Any]:
        by = self.by
        if by == "requester" and "requester" in batch:
            callers: list[Any] = batch["requester"]
            if "requester" not in clean:
                callers = [c if c is None or type(c) is str else str(c) for c in callers]
            return callers
        if by == "client_request_id" and "client_request_id" in batch:
            prefixes = self.prefixes
            return [caller_of(None, c, prefixes) for c in batch["client_request_id"]]
        return nothing

    def _count_bulk(self, batch: Mapping[str, Any], callers: list[Any], stamps: list[Any], uniform: float) -> None:
        """Requests counted per (caller, day) for the whole batch at once."""
        counted = batch.get(COUNTS) if self.by == "requester" else None
        if counted is None:
            counted = [(*key, c) for key, c in Counter(zip(callers, stamps, strict=True)).items()]
        traffic = self.traffic
        for who, when, count in counted:
            traffic.count(who, when, uniform, count)

    def _entity_routes(self, entities: list[Any]) -> dict[Any, _Route]:
        """Served entities are few: each distinct one routed once per batch."""
        router = self.router
        assert router is not None
        by_entity: dict[Any, _Route] = {}
        for entity in set(entities):
            served, label = router.resolve(served_key(entity, None))
            by_entity[entity] = (self.target(served, label), label)
        return by_entity

    def _resolve(self, entity: Any, metadata: Any, name: Any, version: Any) -> _Route:
        router = self.router
        assert router is not None
        served, label = router.resolve(served_key(entity, metadata, name, version))
        route = (self.target(served, label), label)
        if not self.by_metadata and type(entity) is str and len(self.routes) < _CACHE_ENTRIES:
            self.routes[entity] = route
        return route

    def _day(self, stamp: Any) -> str | None:
        day = day_of(stamp, None)
        if len(self.days_seen) < 4096:
            # An unhashable value (a list logged as a date) is not kept.
            with contextlib.suppress(TypeError):
                self.days_seen[stamp] = day
        return day

    def _unreadable(self, caller: Any, day: Any, uniform: float, bulk: bool, row: int) -> None:
        if bulk:
            self.traffic.count(caller, day, uniform, -1)
        run = self.run
        run.unreadable += 1
        if len(run.unreadable_rows) < _EXAMPLES:
            run.unreadable_rows.append(row)

    def _unlogged(self, body: Any, code: Any, caller: Any, day: Any, uniform: float, bulk: bool) -> bool:
        """Whether the row was not logged (and is counted so) rather than a request to check."""
        reason = unlogged_reason(body, code)
        if reason is None:
            return False
        if bulk:
            self.traffic.count(caller, day, uniform, -1)
        self.run.unlogged[reason] = self.run.unlogged.get(reason, 0) + 1
        self.traffic.note(caller, 2)
        return True

    def _untallied(
        self, tally: Broken | None, label: str, caller: Any, day: Any, weight: float, ok: bool, bulk: bool, row: int
    ) -> None:
        """A row routed to no tally: unrouted, or to a served model the candidate no longer has."""
        traffic = self.traffic
        if not bulk:
            traffic.count(caller, day, weight)
        if tally is None:
            unrouted = self.run.unrouted
            if label not in unrouted and len(unrouted) >= _MAX_UNROUTED:
                label = _OTHER_UNROUTED
            unrouted[label] = unrouted.get(label, 0) + 1
            traffic.note(caller, 3)
            return
        # A served model the candidate no longer has: every request that succeeded breaks.
        tally.total += 1
        if ok:
            tally.breaking += 1
            traffic.note(caller, 0)
            traffic.broke(caller, day, weight)
            traffic.example(caller, (tally.model, tally.rule, None), row, tally.message)

    def batch(self, batch: Mapping[str, Any]) -> None:
        n = len(batch["request"])
        clean = batch.get(CLEAN, ())
        nothing: list[Any] = [None] * n
        callers = self._callers(batch, clean, nothing)
        day_role = "day" if "day" in batch else "time"
        stamps = batch.get(day_role, nothing)
        raw_days = day_role in batch and day_role not in clean
        fractions = batch.get("sampling_fraction")
        weights = _weights(fractions) if fractions is not None else None
        # Callers and days known up front, one sampling fraction: requests are counted per (caller, day)
        # for the whole batch at once, and the few rows that are not checked are taken back.
        uniform = 1.0 if not weights else weights[0]
        bulk = not raw_days and n > 0 and (weights is None or weights.count(uniform) == n)
        if bulk:
            self._count_bulk(batch, callers, stamps, uniform)
            weights = None
        entities = batch.get("served_entity", nothing)
        by_entity: dict[Any, _Route] = {}
        row_tallies = None
        if self.single is None and not self.by_metadata and "served_entity" in clean:
            by_entity = self._entity_routes(entities)
            # Each row's tally looked up in one pass (a list comprehension), not a dict lookup and unpacking per row.
            row_tallies = [by_entity[e][0] for e in entities]
        self._rows(batch, n, callers, stamps, raw_days, weights, uniform, bulk, by_entity, row_tallies, nothing)

    def _rows(
        self,
        batch: Mapping[str, Any],
        n: int,
        callers: list[Any],
        stamps: list[Any],
        raw_days: bool,
        weights: list[float] | None,
        uniform: float,
        bulk: bool,
        by_entity: dict[Any, _Route],
        row_tallies: list[ReplayTally | Broken | None] | None,
        nothing: list[Any],
    ) -> None:
        """Each row of a batch: its body read, its day, then checked by its tally or counted as not checked."""
        bodies = batch["request"]
        raw_bodies = "request" not in batch.get(CLEAN, ())
        statuses = None if self.ignore_status else batch.get("status")
        entities = batch.get("served_entity", nothing)
        metadata = batch.get("request_metadata", nothing)
        names = batch.get("model_name", nothing)
        versions = batch.get("model_version", nothing)
        codes = batch.get("logging_error_codes", nothing)
        single = self.single
        by_metadata = self.by_metadata
        routes = self.routes
        days_seen = self.days_seen
        row = self.row
        for i in range(n):
            value = bodies[i]
            row += 1
            caller = callers[i]
            if value is UNREADABLE:
                self._unreadable(caller, stamps[i], uniform, bulk, row - 1)
                continue
            day = stamps[i]
            if raw_days and day is not None:
                try:
                    day = days_seen[day]
                except (KeyError, TypeError):
                    day = self._day(day)
            if not raw_bodies or value is None:
                body = value
            elif type(value) is str:
                body = value.encode("utf-8", "surrogatepass")
            else:
                body = body_bytes(value)
            if body is UNREADABLE:
                self._unreadable(caller, day, uniform, bulk, row - 1)
                continue
            status = statuses[i] if statuses is not None else 200
            ok = status == 200 if type(status) is int else succeeded(status)
            if (codes[i] is not None or body is None) and self._unlogged(body, codes[i], caller, day, uniform, bulk):
                continue
            weight = weights[i] if weights is not None else uniform
            tally = single
            label = ""
            if row_tallies is not None:
                tally = row_tallies[i]
                if not isinstance(tally, ReplayTally):
                    label = by_entity[entities[i]][1]
            elif tally is None:
                entity = entities[i]
                cached = routes.get(entity) if not by_metadata and type(entity) is str else None
                if cached is None:
                    cached = self._resolve(entity, metadata[i], names[i], versions[i])
                tally, label = cached
            if isinstance(tally, ReplayTally):
                tally.add(row - 1, body, ok, caller, day, weight, counted=bulk)
                continue
            self._untallied(tally, label, caller, day, weight, ok, bulk, row - 1)
        self.row = row


_T = TypeVar("_T")


def _collected(batches: Iterable[_T]) -> Generator[_T, None, None]:
    """Batches checked with the cyclic garbage collector run once per batch instead of as it likes.

    A batch's lists of a hundred thousand values, and the wider batches of routed tables, make
    each automatic collection walk them again: a fifth of a routed replay's time, for rows whose
    checking leaves no reference cycles. Any cycle is still collected, at the end of its batch.
    A process that turned the collector off itself is left as it is.
    """
    if not gc.isenabled():
        yield from batches
        return
    gc.disable()
    try:
        for batch in batches:
            yield batch
            gc.collect()
    finally:
        gc.enable()


def _weights(fractions: list[Any]) -> list[float]:
    """1 / sampling_fraction per row, each distinct fraction computed once."""
    if fractions and fractions.count(fractions[0]) == len(fractions):
        return [weight_of(fractions[0])] * len(fractions)  # one fraction for the whole batch, as usual
    seen: dict[Any, float] = {}
    out = []
    for fraction in fractions:
        try:
            weight = seen[fraction]
        except (KeyError, TypeError):
            weight = weight_of(fraction)
            with contextlib.suppress(TypeError):
                seen[fraction] = weight
        out.append(weight)
    return out


def logged_columns(
    table: str, column: str, status_column: str | None, status_explicit: bool, batch_rows: int
) -> tuple[str | None, Iterator[tuple[Any, Any]]]:
    """The status column's name (None without one) and the (body, status) pairs of a request log, in table order.

    The Spark engine's view of an inference table: the same reader as `replay` (so the same rows,
    the same refusals), without routing or callers.
    """
    columns: dict[str, str] = {}
    if column != "request":
        columns["request"] = column
    if status_column is not None and (status_explicit or status_column != "status_code"):
        columns["status"] = status_column
    rows = read_inference_table(
        table,
        column_map=columns,
        status_explicit=status_explicit,
        batch_rows=batch_rows,
        needed=lambda layout: [role for role in ("request", "status") if layout.column(role) is not None],
    )
    status = None if status_column is None else rows.layout.column("status")

    def pairs() -> Iterator[tuple[Any, Any]]:
        for batch in rows.batches:
            bodies = batch["request"]
            statuses = batch.get("status") if status is not None else None
            yield from zip(bodies, statuses if statuses is not None else [200] * len(bodies), strict=True)

    return status, pairs()


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
    column_map: Mapping[str, str] | None = None,
    served_entities: Mapping[str, str] | None = None,
    caller_by: str | None = None,
    caller_prefixes: tuple[str, ...] | None = None,
) -> ReplayReport:
    """Check every logged request body in an inference table against the served model that answered it.

    The table's layout (AI Gateway, legacy, or a plain column of bodies) is recognised by its
    columns; `column_map` (role -> column) names the columns of other layouts. With `model`,
    every request is checked against that served model instead. Without the status column (and
    `status_explicit` false), every logged request counts as one that succeeded. Rows are
    numbered from 0 in the table's order.
    """
    loaded = _load(schema)
    columns: dict[str, str] = {}
    if column != "request":
        columns["request"] = column
    if status_column is not None and (status_explicit or status_column != "status_code"):
        columns["status"] = status_column
    columns.update(column_map or {})
    traffic = Traffic(max_examples)
    tallies: dict[str, ReplayTally] = {}

    def tally_for(served: ServedModel) -> ReplayTally:
        found = tallies.get(served.name)
        if found is None:
            validator = compile_validator(served)
            found = tallies[served.name] = ReplayTally(validator, max_examples, traffic=traffic, label=served.name)
        return found

    router: Router | None = None
    only: ServedModel | None = None
    schema_models: dict[str, ServedModel] = {}
    if isinstance(loaded, ServedModel) or model is not None:
        from schemakit.table.engine import pick_served

        only = pick_served(loaded, model)
    else:
        schema_models = {m.name: m for m in loaded.models}
        router = Router(tuple(schema_models), served_entities)

    def target(served: str | None, _label: str) -> ReplayTally | None:
        if only is not None:
            return tally_for(only)
        return tally_for(schema_models[served]) if served is not None else None

    run = run_traffic(
        table,
        target,
        router,
        traffic=traffic,
        column_map=columns,
        status_explicit=status_explicit,
        caller_by=caller_by,
        caller_prefixes=caller_prefixes,
        batch_rows=batch_rows,
        ignore_status=status_column is None,
    )
    status = None if status_column is None else run.layout.column("status")
    return assemble(os.fspath(table), run, tallies, status=status, named=model)


def assemble(
    source: str,
    run: _Run,
    tallies: Mapping[str, ReplayTally],
    *,
    status: str | None,
    named: str | None = None,
    engine: str = "arrow",
) -> ReplayReport:
    """One report from the tallies of every served model of a run."""
    groups: dict[tuple[str | None, str, str | None], list[Any]] = {}
    several = len(tallies) > 1
    for name, tally in tallies.items():
        tally.flush()
        for (code, column), (n, ex) in tally.groups.items():
            groups[(name if several else None, code, column)] = [n, ex]
    total = sum(t.total for t in tallies.values())
    rejected_succeeded = sum(t.rejected_succeeded for t in tallies.values())
    traffic = run.traffic
    estimated = None
    if traffic.sampled:
        cells = list(traffic.cells.values())
        estimated = (sum(c[1] for c in cells), sum(c[3] for c in cells))
    if named is not None:
        model = named
    elif len(tallies) > 1:
        model = f"the served models that answered them ({', '.join(tallies)})"
    else:
        model = next(iter(tallies), "(no served model)")
    return ReplayReport(
        source,
        model,
        engine,
        total,
        sum(t.rejected for t in tallies.values()),
        rejected_succeeded,
        sum(run.unlogged.values()),
        status,
        _groups(groups),
        layout=run.layout.name,
        unlogged=dict(run.unlogged),
        unrouted=dict(run.unrouted),
        unreadable=run.unreadable + sum(t.unreadable for t in tallies.values()),
        unreadable_rows=tuple((r, run.lines.get(r)) for r in run.unreadable_rows),
        models={n: (t.total, t.rejected, t.rejected_succeeded) for n, t in tallies.items()},
        callers=traffic.callers(),
        estimated=estimated,
        already_rejected=sum(t.already_rejected for t in tallies.values()),
    )
