"""The datetime column rule on Arrow text columns: `check`'s strict rule, vectorised.

`pyarrow.compute.strptime` is lenient (it reads 2024-02-30 as March 1) and Spark and
DuckDB casts take a trailing `Z`, so neither decides here. One RE2 pass per batch
accepts the rows that are certainly valid: zone-free, in a year well inside pandas'
datetime64[ns] range, on a day every month has, written in the form of the batch's
first row. Every other row (a rare one in a clean table) goes to the runtime's own
functions (`schemakit.runtime.values`), so a row is refused here exactly when `check`
refuses it in a request.
"""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc

from schemakit.runtime.report import describe_value
from schemakit.runtime.values import ISO_PARTS, NS_FIRST, NS_LAST, datetime_form, in_ns_range, real_date
from schemakit.table.report import Findings

__all__ = ["check_datetime_texts"]

# Years 1678-2261: the edge years 1677 and 2262 hold the ends of datetime64[ns], checked exactly.
_YEARS = r"(?:167[89]|16[89][0-9]|1[7-9][0-9][0-9]|2[01][0-9][0-9]|22[0-5][0-9]|226[01])"
# Days every month of every year has (February 29 is checked exactly).
_MONTH_DAY = r"-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_HOUR_MINUTE = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"

_FAST: dict[str, str] = {}


def _fast_pattern(form: str) -> str:
    pattern = _FAST.get(form)
    if pattern is None:
        text = "^" + _YEARS + _MONTH_DAY
        if form:
            text += ("T" if form[0] == "T" else " ") + _HOUR_MINUTE
            if form.count(":") == 2:
                text += ":[0-5][0-9]"
            if form.endswith("."):
                text += r"\.[0-9]{1,9}"
        pattern = _FAST[form] = text + "$"
    return pattern


def _exact(text: str) -> tuple[str, str] | str:
    """(form, "") for a valid zone-free column datetime, else what is expected of it."""
    parts = ISO_PARTS.match(text)
    if parts is None or not real_date(text):
        return "datetime (ISO-8601 text)"
    if parts[4] is not None:
        return "datetime without a UTC offset: MLflow cannot put a timezone-aware value in a datetime column"
    if not in_ns_range(parts):
        return f"datetime from {NS_FIRST} to {NS_LAST} (the range of pandas datetime64[ns])"
    return datetime_form(parts), ""


def check_datetime_texts(arr: Any, rows: Any, path: str, findings: Findings, severity: str) -> None:
    """Check one batch of a datetime column's texts; forms are tallied for the first-value rule."""
    if len(arr) == arr.null_count:
        return
    valid = arr.is_valid()
    first_form = _first_form(arr, findings.forms.get(path))
    if first_form is not None:
        fast = pc.fill_null(pc.match_substring_regex(arr, _fast_pattern(first_form)), False)
        fast_count = pc.sum(fast).as_py() or 0
        need = findings.form_room(path, first_form)
        samples: list[tuple[int, str]] = []
        if fast_count and need > 0:
            index = pc.indices_nonzero(fast).slice(0, need)
            samples = list(zip(rows.take(index).to_pylist(), arr.take(index).to_pylist(), strict=True))
        findings.add_form(path, first_form, fast_count, samples)
        rest = pc.and_(valid, pc.invert(fast))
    else:
        rest = valid
    if not pc.any(rest).as_py():
        return
    index = pc.indices_nonzero(rest)
    for row, text in zip(rows.take(index).to_pylist(), arr.take(index).to_pylist(), strict=True):
        verdict = _exact(text)
        if isinstance(verdict, tuple):
            findings.add_form(path, verdict[0], 1, [(row, text)])
        else:
            key = (path, "datetime-iso8601", f"expected {verdict}")
            findings.add(key, severity, 1, [(row, describe_value(text))] if findings.room(key) > 0 else [])


def _first_form(arr: Any, known: dict[str, Any] | None) -> str | None:
    if known:
        # The form seen at the smallest row so far: batches arrive in row order.
        return min(known, key=lambda form: known[form].samples[0][0])
    for text in arr.drop_null().slice(0, 64).to_pylist():
        verdict = _exact(text)
        if isinstance(verdict, tuple):
            return verdict[0]
    return None
