"""Reading payload bytes exactly: `parse_json`, and lists of rows parsed a chunk at a time.

Integers of any size stay integers (orjson would turn them into floats; beyond the
4,300 digits Python converts they become `HugeInt`s), NaN and Infinity are read (and
reported by the `non-finite` rule), and bytes that are not JSON raise
`PayloadDecodeError` with the line and column. Nesting deeper than `MAX_JSON_DEPTH`
levels is not JSON either, never a crash: every JSON reader of untrusted bytes asks
`json_too_deep` before msgspec (or pyarrow, or the standard library) sees them, since
those recurse once a level and fail (or crash) at a depth that depends on the stack.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import accumulate
from typing import Any, Protocol

from .jsonsem import parse_int
from .keywords import assertions

try:  # the fast parser; the standard library reads everything it refuses
    import msgspec  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - exercised in generated packages without msgspec
    msgspec = None  # type: ignore[assignment, unused-ignore]

_SCREEN_ERRORS: tuple[type[Exception], ...] = () if msgspec is None else (msgspec.DecodeError,)

__all__ = [
    "ARRAY_ROW_END",
    "EXACT_CHUNK_BYTES",
    "MAX_JSON_DEPTH",
    "OBJECT_ROW_END",
    "TOO_DEEP",
    "PayloadDecodeError",
    "RawRows",
    "RowChunk",
    "RowScreen",
    "chunks_of",
    "clean_chunk",
    "json_too_deep",
    "parse_json",
    "rows_or_value",
    "value_too_deep",
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


#: How deeply a JSON value may nest (arrays and objects), for every reader of untrusted JSON.
#: Real payloads nest a few levels (a tensor of numpy's 64 dimensions at most); MLflow's server
#: fails near a thousand, and so would msgspec and the standard library, at a depth that
#: depends on the stack they run on: one fixed limit gives every path the same verdict.
MAX_JSON_DEPTH = 128
#: What a reader says of JSON nested deeper than the limit.
TOO_DEEP = f"nested more than {MAX_JSON_DEPTH} levels deep"

_KEEP_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_AS_STEPS = bytes.maketrans(b"[]", b"\x01\xff")
_STRING_OF_BRACKETS = re.compile(rb'"[^"]*"')


def json_too_deep(data: bytes | bytearray | memoryview | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` levels deep, without recursing.

    Linear, in C-speed passes (a few milliseconds for 20 MB): brackets inside strings do
    not count. Text that is not JSON may be judged either way (its reader refuses it anyway).
    """
    if len(data) <= limit:
        return False
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= limit:
            return False
        data = data.encode("utf-8", "surrogatepass")
    elif not isinstance(data, bytes):
        data = bytes(data)
    if len(data) < 1 << 16 and data.count(b"[") + data.count(b"{") <= limit:
        return False
    if b"\\" in data:  # escaped backslashes first, then escaped quotes: left to right, as JSON reads them
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = data.translate(_AS_SQUARE, _KEEP_STRUCTURE)  # quotes and brackets only
    if b'"' in shape:
        # Quotes now alternate open, close: dropping two adjacent ones keeps every bracket's side.
        shape = shape.replace(b'""', b"")
        if b'"' in shape:
            shape = _STRING_OF_BRACKETS.sub(b"", shape)
    for _ in range(8):  # real payloads: a few passes, each peeling the innermost level
        if shape.count(b"[") <= limit:
            return False
        peeled = shape.replace(b"[]", b"")
        if len(peeled) == len(shape):
            break
        shape, limit = peeled, limit - 1
    if shape.count(b"[") <= limit:
        return False
    return max(accumulate(array("b", shape.translate(_AS_STEPS)))) > limit


def value_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed value nests lists and dicts more than `limit` levels deep, without recursing."""
    level = [value] if isinstance(value, (dict, list, tuple)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node
            below.extend(child for child in children if isinstance(child, (dict, list, tuple)))
        level = below
    return False


def _reject_constant(name: str) -> float:
    return float(name.replace("Infinity", "inf"))


def parse_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON exactly: integers of any size stay integers; NaN/Infinity are read (and flagged later)."""
    if json_too_deep(data):
        raise PayloadDecodeError(f"not valid JSON: {TOO_DEEP}")
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
    except RecursionError:  # below the limit, on a stack already deep
        raise PayloadDecodeError(f"not valid JSON: {TOO_DEEP}") from None


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


class RowScreen(Protocol):
    """Says of a chunk of rows (JSON bytes of a list) whether every row in it certainly passes.

    Returns (rows, clean, forms_clean): `clean` when no row check could report anything,
    `forms_clean` when the datetime columns' rules could not either (`forms` holds each
    datetime column's form, as `column_form` tells it); None when some row does not pass
    the screen's types. Raises `msgspec.DecodeError` for bytes that are not JSON.
    """

    def __call__(self, chunk: bytes) -> tuple[int, bool, bool] | None: ...

    def column_form(self, name: str) -> str | None: ...


class RowChunk:
    """Where one chunk of a `RawRows` lies, how many rows it holds and what its screen said of them."""

    __slots__ = ("clean", "count", "end", "forms_clean", "start")

    def __init__(self, start: int, end: int, count: int, clean: bool, forms_clean: bool) -> None:
        self.start, self.end, self.count = start, end, count
        self.clean, self.forms_clean = clean, forms_clean


class RawRows(list):  # type: ignore[type-arg]
    """A payload's list of rows kept as raw JSON, parsed a chunk at a time each time it is walked.

    The exact path's checks take it for a list (isinstance, len, iteration), so a report for
    a payload of a million bad rows is built holding one chunk of rows (about 1 MB of JSON)
    as Python objects, never the whole list. Cuts are made after a row's closing bracket
    followed by a comma; a chunk that does not parse was cut inside a string or a nested
    value (the bytes were already checked to be JSON), and is then taken twice as large.

    With a `screen` (the fast path's typed row decoder), the checks walk only the chunks
    it does not find clean (`walk`): one bad row in a million costs a typed decode of the
    rows and the exact checks of one chunk. The first walk records the cuts and verdicts;
    later walks reuse them without parsing the clean chunks again.
    """

    __slots__ = ("_count", "_cut", "_empty", "_plan", "_raw", "screen")

    def __init__(self, raw: memoryview, screen: RowScreen | None = None) -> None:
        super().__init__()
        self._raw = raw
        first = _FIRST_BYTE.match(raw, 1)  # the list's raw bytes start with "["
        opening = first[1] if first is not None else b"]"
        self._empty = opening == b"]"
        self._cut = _ROW_CUTS.get(opening[0], _ANY_CUT)
        self._count: int | None = 0 if self._empty else None
        self._plan: list[RowChunk] | None = None
        self.screen = screen

    def _piece(self, chunk: RowChunk) -> bytes:
        return b"[" + self._raw[chunk.start : chunk.end] + b"]"

    def _chunks(self) -> Iterator[tuple[RowChunk, list[Any] | None]]:
        """Every chunk in order, with its rows when they had to be parsed (None: the screen found them clean)."""
        if self._plan is not None:
            for chunk in self._plan:
                yield chunk, None
            return
        view = self._raw
        size = len(view)
        if self._empty:
            self._plan = []
            return
        plan: list[RowChunk] = []
        if size <= EXACT_CHUNK_BYTES:
            whole = parse_json(view)
            plan.append(RowChunk(1, size - 1, len(whole), False, False))
            yield plan[0], whole
            self._plan = plan
            return
        screen = self.screen
        start = 1
        step = EXACT_CHUNK_BYTES
        while True:
            found = self._cut.search(view, min(start + step, size))
            # The cut keeps the row's closing bracket and drops the comma after it.
            end = (found.start() + (0 if self._cut is _ANY_CUT else 1)) if found is not None else size - 1
            piece = b"[" + view[start:end] + b"]"
            verdict = None
            if screen is not None:
                try:
                    verdict = screen(piece)
                except _SCREEN_ERRORS:
                    verdict = None  # not JSON: cut inside a value, which the parse below finds
            rows: list[Any] | None = None
            if verdict is not None:
                chunk = RowChunk(start, end, *verdict)
            else:
                try:
                    rows = parse_json(piece)
                except PayloadDecodeError:
                    if found is None:
                        raise
                    step *= 2
                    continue
                chunk = RowChunk(start, end, len(rows), False, False)
            del piece
            plan.append(chunk)
            yield chunk, rows
            del rows
            if found is None:
                self._plan = plan
                return
            start = found.end() - (0 if self._cut is _ANY_CUT else 1)
            step = EXACT_CHUNK_BYTES

    def walk(self, skip: Callable[[RowChunk], bool] = lambda _chunk: False) -> Iterator[tuple[int, list[Any]]]:
        """(index of its first row, rows) for each chunk `skip` does not pass over, in order."""
        index = 0
        for chunk, rows in self._chunks():
            if not skip(chunk):
                yield index, rows if rows is not None else parse_json(self._piece(chunk))
            index += chunk.count
        self._count = index

    def __iter__(self) -> Iterator[Any]:
        for _index, rows in self.walk():
            yield from rows
            del rows  # or this chunk stays alive while the next one is parsed

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(chunk.count for chunk, _rows in self._chunks())
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


def chunks_of(rows: list[Any], skip: Callable[[RowChunk], bool]) -> Iterable[tuple[int, list[Any]]]:
    """(index of the first row, rows) to walk: `RawRows.walk(skip)`, or a plain list whole."""
    return rows.walk(skip) if type(rows) is RawRows else ((0, rows),)


def clean_chunk(chunk: RowChunk) -> bool:
    """A `RawRows.walk` skip: the chunks whose rows no row check reports anything of."""
    return chunk.clean


def rows_or_value(raw: Any, schema: Any, screen: RowScreen | None = None) -> Any:
    """A raw list of rows as `RawRows` when its schema asks nothing of the list as a whole.

    `screen`: the row screen that lets the checks pass over clean chunks (see `RawRows`);
    it must judge rows exactly as `schema`'s `items` does.
    """
    view = memoryview(raw)
    if not isinstance(schema, dict) or assertions(schema) - _LIST_KEYWORDS or isinstance(schema.get("items"), list):
        return parse_json(view)
    if bytes(view[:1]) != b"[" or len(view) <= EXACT_CHUNK_BYTES:
        return parse_json(view)
    return RawRows(view, screen)
