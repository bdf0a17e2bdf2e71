"""Serving-rule checks on text values: ISO-8601 datetimes and base64 binaries, as MLflow reads them.

One regex pass over many values where possible: the fast path joins a column's texts
with newlines and matches them all at once.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

__all__ = [
    "BASE64_TEXT",
    "ISO_PARTS",
    "NS_FIRST",
    "NS_LAST",
    "SAFE_DATETIME_TEXT",
    "all_texts_pass",
    "datetime_column_passes",
    "datetime_form",
    "in_ns_range",
    "is_base64",
    "is_iso8601",
    "real_date",
]

# What MLflow 3.17 reads, as its scoring server showed (tests/mlflow): a date, or a date and a
# time with "T" or " ", minutes, optional seconds and an optional "." fraction of 1-9 digits;
# params may carry "Z" or an offset. Year 0000, "," fractions and a lowercase "z" are refused
# by its param parser; columns take them in some positions only, so schemakit refuses them everywhere.
_MONTH_DAY = r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_DATE_TEXT = r"(?!0000)\d{4}" + _MONTH_DAY
_TIME_TEXT = r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?"
_ZONE_TEXT = r"(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)"
ISO_PARTS = re.compile(rf"({_DATE_TEXT})(?:([T ])({_TIME_TEXT})({_ZONE_TEXT})?)?\Z", re.ASCII)
# Days 29-31 are the only ones whose validity depends on the month (and the year).
_LATE_DAY = re.compile(r"-\d\d-(?:29|30|31)", re.ASCII)
_LATE_DAY_LINE = re.compile(r"^\d{4}-\d\d-(?:29|30|31)", re.MULTILINE | re.ASCII)
# A datetime column becomes pandas datetime64[ns]: instants outside its range are refused.
NS_FIRST = "1677-09-21T00:12:43.145224192"
NS_LAST = "2262-04-11T23:47:16.854775807"
_NS_YEARS = r"(?:167[7-9]|16[89]\d|1[7-9]\d\d|2[01]\d\d|22[0-5]\d|226[0-2])"
_NS_EDGE_LINE = re.compile(r"^(?:1677|2262)-", re.MULTILINE)
_DIGITS = str.maketrans("", "", "0123456789")
_BASE64_TEXT = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
_BASE64 = re.compile(_BASE64_TEXT + r"\Z")
_BASE64_MANY = re.compile(rf"{_BASE64_TEXT}(?:\n{_BASE64_TEXT})*\Z")


def is_iso8601(text: str) -> bool:
    """ISO-8601 date or date-time text (a "Z" or an offset allowed), as MLflow reads datetime params."""
    if ISO_PARTS.match(text) is None:
        return False
    return real_date(text)


def real_date(text: str) -> bool:
    if _LATE_DAY.match(text, 4) is not None:
        try:
            _dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        except ValueError:
            return False
    return True


def datetime_form(parts: re.Match[str]) -> str:
    """How a datetime is written, digits aside: "" (a date), "T::" (seconds), " ::." (a fraction), ...

    pandas reads a datetime column in the form of its first value and refuses a row
    written in another (with or without seconds, a fraction, "T" or " ").
    """
    return "" if parts[2] is None else parts[2] + parts[3].translate(_DIGITS)


def in_ns_range(parts: re.Match[str]) -> bool:
    """Whether a zone-free datetime fits pandas' datetime64[ns], which a datetime column becomes."""
    year = int(parts[1][:4])
    if 1677 < year < 2262:
        return True
    time = parts[3] or "00:00"
    if len(time) == 5:
        time += ":00"
    seconds, _, fraction = time.partition(".")
    instant = f"{parts[1]}T{seconds}.{fraction.ljust(9, '0')}"
    return NS_FIRST <= instant <= NS_LAST


_FORM_PATTERNS: dict[str, re.Pattern[str]] = {}


def _form_pattern(form: str) -> re.Pattern[str]:
    """Many zone-free datetimes of one form within the datetime64[ns] years, one per line."""
    pattern = _FORM_PATTERNS.get(form)
    if pattern is None:
        one = _NS_YEARS + _MONTH_DAY
        if form:
            one += re.escape(form[0]) + r"(?:[01]\d|2[0-3]):[0-5]\d"
            if form.count(":") == 2:
                one += r":[0-5]\d"
            if form.endswith("."):
                one += r"\.\d{1,9}"
        pattern = _FORM_PATTERNS[form] = re.compile(rf"{one}(?:\n{one})*\Z", re.ASCII)
    return pattern


def datetime_column_passes(strings: list[str], forms: dict[str, str], attr: str) -> bool:
    """Whether a datetime column's texts (one chunk of rows) certainly pass the column checks.

    `forms` keeps the form of the column's first value across chunks.
    """
    if not strings:
        return True
    form = forms.get(attr)
    if form is None:
        parts = ISO_PARTS.match(strings[0])
        if parts is None or parts[4] is not None:
            return False
        form = forms[attr] = datetime_form(parts)
    joined = "\n".join(strings)
    if joined.count("\n") != len(strings) - 1:
        return False  # a value with its own newline is not a datetime; the exact path says so
    if _form_pattern(form).match(joined) is None:
        return False
    if _LATE_DAY_LINE.search(joined) is not None and not all(real_date(t) for t in strings):
        return False
    if _NS_EDGE_LINE.search(joined) is not None:
        for text in strings:
            parts = ISO_PARTS.match(text)
            if parts is None or not in_ns_range(parts):
                return False
    return True


#: One zone-free datetime in any column form, narrowed to what needs no further check: years
#: 1678-2261 (inside datetime64[ns] whatever the instant) and days 01-28 (real in every month).
#: A text it refuses is not invalid: the column checks above decide.
SAFE_DATETIME_TEXT = (
    r"(?:167[89]|16[89]\d|1[7-9]\d\d|2[01]\d\d|22[0-5]\d|226[01])-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])"
    r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?)?"
)
BASE64_TEXT = _BASE64_TEXT


def is_base64(text: str) -> bool:
    """Standard, padded base64 text, as MLflow decodes binary columns."""
    return _BASE64.match(text) is not None


def all_texts_pass(texts: list[Any], kind: str) -> bool:
    """Whether every string in `texts` is valid base64 / ISO-8601; one regex pass over them all."""
    strings = [t for t in texts if type(t) is str]
    if not strings:
        return True
    joined = "\n".join(strings)
    if joined.count("\n") != len(strings) - 1:  # a value with its own newline: check one by one
        check = is_base64 if kind == "binary" else is_iso8601
        return all(check(t) for t in strings)
    if kind == "binary":
        return _BASE64_MANY.match(joined) is not None
    return all(is_iso8601(t) for t in strings)
