"""The ignore file: accepted diff findings, each with a reason and an optional expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from schemakit._exceptions import SourceError, SourceNotFound
from schemakit.core.load import parse_text
from schemakit.diff.report import RULES, DiffReport, Finding, IgnoredFinding, IgnoreEntry

# -- the ignore file ----------------------------------------------------------------------

_ENTRY_KEYS = {"rule", "reason", "model", "format", "column", "param", "field", "location", "expires"}
_WHERE_KEYS = ("model", "format", "column", "param", "field", "location")


def load_ignore_file(path: str | Path) -> tuple[IgnoreEntry, ...]:
    """Read an ignore file (YAML or JSON): a list of entries, or a mapping with an `ignore:` list."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SourceNotFound(f"{where}: no such ignore file") from None
    except OSError as exc:
        raise SourceNotFound(f"{where}: cannot read the ignore file: {exc.strerror or exc}") from None
    if not data.strip():
        return ()
    return parse_ignore_entries(parse_text(data, where), where)


def parse_ignore_entries(value: Any, where: str = "<ignore file>") -> tuple[IgnoreEntry, ...]:
    """Check and read the parsed content of an ignore file; one clear line on the first problem."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"ignore"})
        if unknown:
            raise SourceError(f"{where}: unknown top-level key(s) {', '.join(unknown)}; expected 'ignore'")
        value = value.get("ignore") or []
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SourceError(f"{where}: expected a list of entries (or 'ignore:' with a list)")
    entries = []
    for index, raw in enumerate(value, start=1):
        at = f"{where}: entry #{index}"
        if not isinstance(raw, dict):
            raise SourceError(f"{at}: expected a mapping with rule, reason and where it applies")
        unknown = sorted(str(k) for k in set(raw) - _ENTRY_KEYS)
        if unknown:
            raise SourceError(f"{at}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
        rule = raw.get("rule")
        if not isinstance(rule, str) or not rule:
            raise SourceError(f"{at}: 'rule' is required (a rule id such as column-removed)")
        if rule not in RULES:
            raise SourceError(f"{at}: unknown rule {rule!r}; see `schemakit diff --help` for the rule ids")
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise SourceError(f"{at}: 'reason' is required: say why the change is accepted")
        keys: dict[str, str | None] = {}
        for key in _WHERE_KEYS:
            found = raw.get(key)
            if found is not None and not isinstance(found, (str, int)):
                raise SourceError(f"{at}: '{key}' must be a string")
            keys[key] = None if found is None else str(found)
        if all(v is None for v in keys.values()):
            raise SourceError(
                f"{at}: say where the change is: model, format, column, param, field or location "
                "(an entry for a rule everywhere would hide future changes)"
            )
        entries.append(
            IgnoreEntry(
                rule=rule,
                reason=reason.strip(),
                model=keys["model"],
                format=keys["format"],
                column=keys["column"],
                param=keys["param"],
                field=keys["field"],
                location=keys["location"],
                expires=_expiry(raw.get("expires"), at),
                index=index,
            )
        )
    return tuple(entries)


def _expiry(value: Any, at: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SourceError(f"{at}: 'expires' must be a date as YYYY-MM-DD, got {value!r:.40}")


def apply_ignores(report: DiffReport, entries: Sequence[IgnoreEntry], *, today: dt.date | None = None) -> DiffReport:
    """Move the findings that an unexpired entry matches to `ignored`; say which entries expired or went unused."""
    day = today or dt.date.today()
    live = [e for e in entries if not e.expired(day)]
    notes = [
        f"{e.describe()} expired on {e.expires.isoformat()}; its findings are reported again"
        for e in entries
        if e.expired(day) and e.expires is not None
    ]
    kept: list[Finding] = []
    ignored: list[IgnoredFinding] = [*report.ignored]
    used: set[int] = set()
    for finding in report.findings:
        entry = next((e for e in live if e.matches(finding)), None)
        if entry is None:
            kept.append(finding)
        else:
            ignored.append(IgnoredFinding(finding, entry))
            used.add(entry.index)
    notes += [
        f"{e.describe()} matched no finding; remove it if the change is gone" for e in live if e.index not in used
    ]
    return replace(report, findings=tuple(kept), ignored=tuple(ignored), notes=(*report.notes, *notes))
