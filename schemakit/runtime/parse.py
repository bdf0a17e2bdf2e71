"""Reading payload bytes exactly: `parse_json`, and lists of rows parsed a chunk at a time.

Integers of any size stay integers (orjson would turn them into floats; beyond the
4,300 digits Python converts they become `HugeInt`s), NaN and Infinity are read (and
reported by the `non-finite` rule), and bytes that are not JSON raise
`PayloadDecodeError` with the line and column. Nesting too deep to read is not JSON
either, never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .jsonsem import parse_int
from .keywords import assertions

try:  # the fast parser; the standard library reads everything it refuses
    import msgspec  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - exercised in generated packages without msgspec
    msgspec = None  # type: ignore[assignment, unused-ignore]

__all__ = [
    "ARRAY_ROW_END",
    "EXACT_CHUNK_BYTES",
    "OBJECT_ROW_END",
    "PayloadDecodeError",
    "RawRows",
    "parse_json",
    "rows_or_value",
]

#: Where a row of a list of rows ends and the next begins (a candidate cut).
ARRAY_ROW_END = re.compile(rb"\]\s*,\s*\[")
OBJECT_ROW_END = re.compile(rb"\}\s*,\s*\{")


class PayloadDecodeError(ValueError):
    """The bytes are not JSON; carries the 1-based line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _reject_constant(name: str) -> float:
    return float(name.replace("Infinity", "inf"))


def parse_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON exactly: integers of any size stay integers; NaN/Infinity are read (and flagged later)."""
    if msgspec is not None:
        try:
            return msgspec.json.decode(data)
        except msgspec.DecodeError:
            pass  # lone surrogates, NaN, huge exponents: the standard parser reads those or says where
    try:
        text = bytes(data).decode("utf-8-sig") if isinstance(data, (bytes, bytearray, memoryview)) else data
    except UnicodeDecodeError as exc:
        raise PayloadDecodeError(f"byte {exc.start + 1}: not valid JSON: the text is not UTF-8") from None
    try:
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError:
            raise
        except ValueError:
            # An integer of more digits than int() converts: read again, with those as HugeInt
            # (only now, so ordinary payloads do not pay for a parse_int call per integer).
            return json.loads(text, parse_constant=_reject_constant, parse_int=parse_int)
    except json.JSONDecodeError as exc:
        raise PayloadDecodeError(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}", exc.lineno, exc.colno
        ) from None
    except RecursionError:
        raise PayloadDecodeError("not valid JSON: nested too deeply to read") from None


# -- rows parsed a chunk at a time (the exact path for large payloads) ----------------------

_ROWS_KEYS = ("dataframe_records", "instances", "inputs")
#: The exact path parses rows in chunks of about this many bytes: as Python objects a chunk
#: is some 15 times larger, so it is smaller than the fast path's typed chunks.
EXACT_CHUNK_BYTES = 1 << 18
#: Where a list of rows of each kind (by its first character) may end: a candidate cut.
_ROW_CUTS: Mapping[int, re.Pattern[bytes]] = {
    ord("["): ARRAY_ROW_END,
    ord("{"): OBJECT_ROW_END,
}
_ANY_CUT = re.compile(rb",")
_FIRST_BYTE = re.compile(rb"\s*(.)", re.DOTALL)
_LIST_KEYWORDS = frozenset({"type", "items", "minItems", "maxItems"})


class RawRows(list):  # type: ignore[type-arg]
    """A payload's list of rows kept as raw JSON, parsed a chunk at a time each time it is walked.

    The exact path's checks take it for a list (isinstance, len, iteration), so a report for
    a payload of a million bad rows is built holding one chunk of rows (about 1 MB of JSON)
    as Python objects, never the whole list. Cuts are made after a row's closing bracket
    followed by a comma; a chunk that does not parse was cut inside a string or a nested
    value (the bytes were already checked to be JSON), and is then taken twice as large.
    """

    __slots__ = ("_count", "_cut", "_empty", "_raw")

    def __init__(self, raw: memoryview) -> None:
        super().__init__()
        self._raw = raw
        first = _FIRST_BYTE.match(raw, 1)  # the list's raw bytes start with "["
        opening = first[1] if first is not None else b"]"
        self._empty = opening == b"]"
        self._cut = _ROW_CUTS.get(opening[0], _ANY_CUT)
        self._count: int | None = 0 if self._empty else None

    def _chunks(self) -> Iterator[list[Any]]:
        view = self._raw
        size = len(view)
        if self._empty:
            return
        if size <= EXACT_CHUNK_BYTES:
            yield parse_json(view)
            return
        start = 1
        step = EXACT_CHUNK_BYTES
        while True:
            found = self._cut.search(view, min(start + step, size))
            # The cut keeps the row's closing bracket and drops the comma after it.
            end = (found.start() + (0 if self._cut is _ANY_CUT else 1)) if found is not None else size - 1
            try:
                rows = parse_json(b"[" + view[start:end] + b"]")
            except PayloadDecodeError:
                if found is None:
                    raise
                step *= 2
                continue
            yield rows
            del rows
            if found is None:
                return
            start = found.end() - (0 if self._cut is _ANY_CUT else 1)
            step = EXACT_CHUNK_BYTES

    def __iter__(self) -> Iterator[Any]:
        count = 0
        for rows in self._chunks():
            count += len(rows)
            yield from rows
            del rows  # or this chunk stays alive while the next one is parsed
        self._count = count

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(len(rows) for rows in self._chunks())
        return self._count

    def __bool__(self) -> bool:
        return not self._empty

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        for position, row in enumerate(self):
            if position == index:
                return row
        raise IndexError("list index out of range")

    def __repr__(self) -> str:
        return f"<{len(self._raw):,} bytes of rows>"


def rows_or_value(raw: Any, schema: Any) -> Any:
    """A raw list of rows as `RawRows` when its schema asks nothing of the list as a whole."""
    view = memoryview(raw)
    if not isinstance(schema, dict) or assertions(schema) - _LIST_KEYWORDS or isinstance(schema.get("items"), list):
        return parse_json(view)
    if bytes(view[:1]) != b"[" or len(view) <= EXACT_CHUNK_BYTES:
        return parse_json(view)
    return RawRows(view)
