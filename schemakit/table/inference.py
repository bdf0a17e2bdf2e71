"""Inference tables as the platform writes them: layouts, column roles, and rows read without trusting them.

Two layouts exist, recognised by their columns:

- **AI Gateway** (`databricks_request_id`, `request_date`, `client_request_id`, `request_time`,
  `status_code`, `sampling_fraction`, `execution_duration_ms`, `request`, `response`,
  `logging_error_codes`, `served_entity_id`, `requester`): the served entity is an opaque id
  whose name lives in `system.serving.served_entities`;
- **legacy** (`timestamp_ms`, `date`, `status_code`, `execution_time_ms`, `request`, `response`,
  `request_metadata` with `model_name` and `model_version`): a map, which JSON Lines exports
  hold as a list of pairs (`[{"key": ..., "value": ...}]` or `[[key, value]]`).

Anything else is a plain table of request bodies; `--column-map ROLE=COLUMN` names the columns
of renamed layouts. Every value is read defensively: a value Arrow or Python cannot turn into
a request body (a timestamp out of range, a deep struct, a line that is not JSON) becomes an
*unreadable* row, counted and reported, never a crash.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from schemakit._exceptions import SchemakitError, SourceError

__all__ = [
    "AI_GATEWAY",
    "CLEAN",
    "COUNTS",
    "LEGACY",
    "PLAIN",
    "ROLES",
    "UNREADABLE",
    "Layout",
    "Rows",
    "body_bytes",
    "day_of",
    "detect_layout",
    "load_served_entities",
    "metadata_pairs",
    "parse_column_map",
    "read_inference_table",
    "served_key",
    "succeeded",
    "unlogged_reason",
    "weight_of",
]

#: What a column means to replay; `--column-map ROLE=COLUMN` names one.
ROLES: tuple[str, ...] = (
    "request",
    "status",
    "served_entity",
    "request_metadata",
    "model_name",
    "model_version",
    "requester",
    "client_request_id",
    "day",
    "time",
    "sampling_fraction",
    "logging_error_codes",
    "response",
)

AI_GATEWAY: Mapping[str, str] = {
    "request": "request",
    "status": "status_code",
    "served_entity": "served_entity_id",
    "requester": "requester",
    "client_request_id": "client_request_id",
    "day": "request_date",
    "time": "request_time",
    "sampling_fraction": "sampling_fraction",
    "logging_error_codes": "logging_error_codes",
    "response": "response",
}
LEGACY: Mapping[str, str] = {
    "request": "request",
    "response": "response",
    "status": "status_code",
    "request_metadata": "request_metadata",
    "client_request_id": "client_request_id",
    "day": "date",
    "time": "timestamp_ms",
}
PLAIN: Mapping[str, str] = {"request": "request", "status": "status_code"}

#: Logging error codes that mean the request body itself was not logged.
REQUEST_NOT_LOGGED = frozenset({"MAX_REQUEST_SIZE_EXCEEDED"})


class _Unreadable:
    """A value that could not be read (shown as such, counted apart from checked requests)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE: Any = _Unreadable()


@dataclass(frozen=True, slots=True)
class Layout:
    """Which layout a table has, and the column that plays each role in it."""

    name: str
    columns: Mapping[str, str]

    def column(self, role: str) -> str | None:
        return self.columns.get(role)


def parse_column_map(items: Sequence[str]) -> dict[str, str]:
    """`ROLE=COLUMN` pairs (`--column-map`); a one-line error for an unknown role or a malformed pair."""
    out: dict[str, str] = {}
    for item in items:
        role, sep, column = item.partition("=")
        role = role.strip().replace("-", "_")
        if role == "status_code":
            role = "status"
        if not sep or not column:
            raise SchemakitError(f"--column-map {item!r}: expected ROLE=COLUMN")
        if role not in ROLES:
            raise SchemakitError(f"--column-map {item!r}: unknown role {role!r} (one of {', '.join(ROLES)})")
        out[role] = column
    return out


def detect_layout(
    names: Sequence[str], where: str, column_map: Mapping[str, str] | None = None, *, status_explicit: bool = False
) -> Layout:
    """The layout of a table with these column names; explicit columns must exist."""
    have = set(names)
    if "served_entity_id" in have or "logging_error_codes" in have or "request_time" in have:
        name, base = "ai-gateway", AI_GATEWAY
    elif "request_metadata" in have or "timestamp_ms" in have:
        name, base = "legacy", LEGACY
    else:
        name, base = "plain", PLAIN
    explicit = dict(column_map or {})
    columns = {role: column for role, column in base.items() if column in have and role not in explicit}
    for role, column in explicit.items():
        if column not in have:
            what = "status column" if role == "status" else "column"
            hint = " (pass --column NAME)" if role == "request" else ""
            raise SchemakitError(f"{where}: no {what} {column!r}{hint}")
        columns[role] = column
    if "request" not in columns:
        wanted = explicit.get("request", base["request"])
        raise SchemakitError(f"{where}: no column {wanted!r} (pass --column NAME)")
    if status_explicit and "status" not in columns:
        raise SchemakitError(f"{where}: no status column {explicit.get('status', 'status_code')!r}")
    if explicit and name == "plain" and set(explicit) - {"request", "status"}:
        name = "mapped"
    return Layout(name, columns)


# -- values -------------------------------------------------------------------------------


def _iso_duration(value: dt.timedelta) -> str:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    seconds, micros = divmod(abs(micros), 1_000_000)
    return f"{sign}PT{seconds}.{micros:06d}S" if micros else f"{sign}PT{seconds}S"


def _json_default(value: Any) -> Any:
    """Values Arrow hands over that JSON has no type for, written as a JSON client would have sent them."""
    if isinstance(value, decimal.Decimal):
        # A logged number kept exactly; NaN and infinities have no JSON number.
        return orjson.Fragment(str(value)) if value.is_finite() else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")  # MLflow's binary columns are base64 text
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, _Unreadable):
        raise TypeError("unreadable value")
    raise TypeError(f"{type(value).__name__} is not JSON")


def body_bytes(value: Any) -> Any:
    """A logged body as JSON bytes: text as it was logged, a parsed value written back as JSON.

    None stays None (no body logged); a value that cannot be written as JSON is `UNREADABLE`.
    """
    if value is None or value is UNREADABLE:
        return value
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError, ValueError, RecursionError):
        pass
    try:
        # Integers past 64 bits, structures deeper than orjson writes: the standard library's writer.
        text = json.dumps(value, default=_stdlib_default, allow_nan=True)
    except (TypeError, ValueError, RecursionError, OverflowError):
        return UNREADABLE
    return text.encode("utf-8", "surrogatepass")


def _stdlib_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else str(value)
    return _json_default(value)


def succeeded(status: Any) -> bool:
    """Whether a logged status is 200; anything unreadable (text, infinity, NaN, huge) is not."""
    if isinstance(status, bool):
        return False
    if isinstance(status, int):
        return status == 200
    if isinstance(status, float):
        return status == 200.0
    try:
        return int(str(status).strip()) == 200
    except (TypeError, ValueError, OverflowError):
        return False


def _text(value: Any) -> str | None:
    if value is None or value is UNREADABLE:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def metadata_pairs(value: Any) -> dict[str, Any]:
    """`request_metadata` as a dict: a map (dict), or a list of pairs as JSON exports hold it."""
    if isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, dict) and "key" in item:
                out[str(item["key"])] = item.get("value")
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                out[str(item[0])] = item[1]
    elif isinstance(value, (str, bytes)):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return out
        return metadata_pairs(parsed) if isinstance(parsed, (dict, list)) else out
    return out


def served_key(
    entity: Any, metadata: Any, model_name: Any = None, model_version: Any = None
) -> str | tuple[str, str] | None:
    """What a row says about the served model that answered it: an entity id, or (model_name, model_version)."""
    text = _text(entity)
    if text:
        return text
    if metadata is not None and metadata is not UNREADABLE:
        pairs = metadata_pairs(metadata)
        model_name = pairs.get("model_name", model_name)
        model_version = pairs.get("model_version", model_version)
    name, version = _text(model_name), _text(model_version)
    if name:
        return (name, version or "")
    return None


def day_of(day: Any, time: Any) -> str | None:
    """The row's day (ISO date): the date column, else the request time (a timestamp or epoch milliseconds)."""
    for value in (day, time):
        if value is None or value is UNREADABLE:
            continue
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                continue
            try:
                return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc).date().isoformat()
            except (OverflowError, OSError, ValueError):
                continue
        if isinstance(value, str) and len(value) >= 10:
            head = value[:10]
            try:
                return dt.date.fromisoformat(head).isoformat()
            except ValueError:
                continue
    return None


def weight_of(fraction: Any) -> float:
    """How many requests one logged row stands for: 1 / sampling_fraction, when that is in (0, 1]."""
    if isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 < fraction <= 1:
        return 1.0 / float(fraction)
    return 1.0


def unlogged_reason(body: Any, codes: Any) -> str | None:
    """Why a row holds no request body: the logging error code, or that none was logged."""
    if isinstance(codes, (list, tuple)):
        for code in codes:
            if isinstance(code, str) and code in REQUEST_NOT_LOGGED:
                return code
    elif isinstance(codes, str) and codes in REQUEST_NOT_LOGGED:
        return codes
    if body is None:
        return "NOT_LOGGED"
    return None


# -- reading ------------------------------------------------------------------------------


@dataclass
class Rows:
    """A table's rows, column by role, batch by batch (lists of Python values, `UNREADABLE` where a value was)."""

    layout: Layout
    batches: Iterator[dict[str, list[Any]]]
    #: The first lines of a JSON Lines file that are not JSON objects: (row, line number).
    unreadable_lines: list[tuple[int, int]] = field(default_factory=list)


def _pylist(array: Any, repeated: bool = False) -> list[Any]:
    """A column's values as Python objects; `repeated` for columns of few distinct values (callers, entities)."""
    import pyarrow as pa

    n = len(array)
    try:
        if array.null_count == n:
            return [None] * n
        kind = array.type
        if array.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            return list(array.to_numpy(zero_copy_only=False).tolist())  # numpy, when pyarrow has it
        if repeated and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return _decoded(array.dictionary_encode())
        if pa.types.is_dictionary(kind):
            return _decoded(array)
    except (pa.ArrowException, ValueError, TypeError, OverflowError, ImportError):
        pass
    # Arrow raises many exception types on values out of Python's range: each value is then read alone.
    try:
        return list(array.to_pylist(maps_as_pydicts="lossy"))
    except Exception:
        out: list[Any] = []
    for index in range(n):
        try:
            out.append(array[index].as_py(maps_as_pydicts="lossy"))
        except Exception:
            out.append(UNREADABLE)
    return out


def _decoded(array: Any) -> list[Any]:
    """A dictionary-encoded column's values: each distinct value converted once."""
    return _take(_pylist(array.dictionary), array.indices)


def _take(values: list[Any], indices: Any) -> list[Any]:
    """`values[i]` for each index (None where the index is null), the walk done by numpy when it can."""
    if indices.null_count == 0:
        try:
            import numpy as np
        except ImportError:  # pyarrow runs without numpy
            pass
        else:
            table = np.empty(len(values), dtype=object)
            table[:] = values
            return list(table[indices.to_numpy(zero_copy_only=False)].tolist())
    return [None if i is None else values[i] for i in indices.to_pylist()]


def read_inference_table(
    table: str | os.PathLike[str],
    *,
    column_map: Mapping[str, str] | None = None,
    status_explicit: bool = False,
    batch_rows: int = 128 * 1024,
    needed: Callable[[Layout], Collection[str]] | None = None,
) -> Rows:
    """Open an inference table (Parquet, Delta, JSON Lines, CSV, Arrow) and stream its rows by role.

    `needed(layout)` names the roles to read (every role of the layout without it): a column
    nobody looks at is not converted to Python values.
    """
    where = os.fspath(table)
    path = Path(where)
    if path.is_file() and path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _json_lines(path, column_map, status_explicit, batch_rows, needed)
    from schemakit.table.sources import open_table

    source = open_table(where)
    layout = detect_layout(list(source.schema.names), where, column_map, status_explicit=status_explicit)
    roles = _roles(layout, needed)
    columns = [layout.columns[r] for r in roles]
    # One column can play two roles (a request_metadata map read for name and version): read it once.
    unique = list(dict.fromkeys(columns))
    dates = {layout.columns[r] for r in roles if r in ("day", "time")}
    repeated = {layout.columns[r] for r in roles if r in ("served_entity", "requester", "sampling_fraction")}

    texts = {layout.columns[r] for r in roles if r in _TEXT_ROLES}
    request = layout.columns["request"]

    def batches() -> Iterator[dict[str, list[Any]]]:
        for batch in source.batches(batch_rows, unique):
            values: dict[str, list[Any]] = {}
            clean: set[str] = set()
            for i, name in enumerate(unique):
                column = batch.column(i)
                if name in dates:
                    values[name] = _day_values(column, clean, name)
                elif name == request:
                    values[name] = _bodies(column, clean, name)
                else:
                    values[name] = _pylist(column, name in repeated)
                    if name in texts and _is_text(column.type):
                        clean.add(name)
            out = {role: values[layout.columns[role]] for role in roles}
            out[CLEAN] = [role for role in roles if layout.columns[role] in clean]
            counts = _caller_day_counts(batch, unique, layout, roles, clean)
            if counts is not None:
                out[COUNTS] = counts
            yield out

    return Rows(layout, batches())


#: The key of a batch that holds its requests counted per (requester, ISO day) by Arrow, when both are clean.
COUNTS = "_counts"


def _caller_day_counts(
    batch: Any, unique: list[str], layout: Layout, roles: list[str], clean: set[str]
) -> list[Any] | None:
    """Requests per (requester, day) of a batch, grouped by Arrow rather than row by row in Python."""
    import pyarrow as pa

    who = layout.columns.get("requester") if "requester" in roles else None
    role = "day" if "day" in roles else "time" if "time" in roles else None
    when = layout.columns.get(role) if role is not None else None
    if who is None or when is None or who not in clean or when not in clean:
        return None
    try:
        days = batch.column(unique.index(when))
        if pa.types.is_timestamp(days.type):
            days = days.cast(pa.date32())
        grouped = (
            pa.table({"c": batch.column(unique.index(who)), "d": days.cast(pa.string())})
            .group_by(["c", "d"], use_threads=False)
            .aggregate([([], "count_all")])
        )
    except (pa.ArrowException, ValueError, OverflowError):
        return None
    seen: dict[Any, Any] = {}
    out = []
    for caller, day, n in zip(*(grouped.column(i).to_pylist() for i in range(3)), strict=True):
        if day is not None and day not in seen:
            seen[day] = day_of(day, None)
        out.append((caller, None if day is None else seen[day], n))
    return out


#: The key of a batch that lists the roles whose values need no normalizing: `request` as bytes
#: or None, `day` as an ISO date or None, callers and entities as text or None.
CLEAN = "_clean"
_TEXT_ROLES = frozenset({"requester", "client_request_id", "served_entity"})


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _bodies(array: Any, clean: set[str], name: str) -> list[Any]:
    """Logged bodies: text columns straight to bytes (the JSON as it was logged), anything else as Python values."""
    import pyarrow as pa

    if _is_text(array.type) or pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        try:
            binary = array if not _is_text(array.type) else array.cast(pa.large_binary())
            values = list(binary.to_pylist())
        except (pa.ArrowException, ValueError):
            return _pylist(array)
        clean.add(name)
        return values
    return _pylist(array)


def _roles(layout: Layout, needed: Callable[[Layout], Collection[str]] | None) -> list[str]:
    wanted = set(needed(layout)) | {"request"} if needed is not None else set(layout.columns)
    return [role for role in layout.columns if role in wanted]


def _day_values(array: Any, clean: set[str], name: str) -> list[Any]:
    """A date or timestamp column as ISO dates (`2026-03-01`), converted by Arrow, each distinct day once."""
    import pyarrow as pa

    try:
        if pa.types.is_timestamp(array.type):
            array = array.cast(pa.date32())
        if pa.types.is_date(array.type):
            encoded = array.dictionary_encode()
            days = [day_of(value, None) for value in encoded.dictionary.cast(pa.string()).to_pylist()]
            clean.add(name)
            return _take(days, encoded.indices)
    except (pa.ArrowException, ValueError, OverflowError):
        pass
    return _pylist(array)


_BOM = b"\xef\xbb\xbf"
_UNREADABLE_EXAMPLES = 5
_HEAD_LINES = 100


def _parse_line(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    # Infinity, NaN and numbers past a double (1e999) or past int()'s 4,300 digits: not what orjson
    # reads, yet some writers put them in logs. Numbers are kept exactly (as Decimal) and written back so.
    try:
        return json.loads(line.decode("utf-8"), parse_int=_exact_int, parse_float=decimal.Decimal)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return UNREADABLE


def _exact_int(text: str) -> int | decimal.Decimal:
    return int(text) if len(text) <= 4_000 else decimal.Decimal(text)


def _json_lines(
    path: Path,
    column_map: Mapping[str, str] | None,
    status_explicit: bool,
    batch_rows: int,
    needed: Callable[[Layout], Collection[str]] | None = None,
) -> Rows:
    # Parsed by Arrow, a body logged as an object would lose its exact JSON: lines are read as they are.
    names: dict[str, None] = {}
    try:
        with path.open("rb") as head:
            seen = 0
            for raw in head:
                line = raw.removeprefix(_BOM) if seen == 0 else raw
                if not line.strip():
                    continue
                seen += 1
                record = _parse_line(line)
                if isinstance(record, dict):
                    names.update(dict.fromkeys(str(k) for k in record))
                    break
                if seen >= _HEAD_LINES:
                    break
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the table: {exc.strerror or exc}") from None
    if not names:
        raise SourceError(f"{path}: no JSON object in the first {_HEAD_LINES} lines (not a JSON Lines table)")
    layout = detect_layout(list(names), str(path), column_map, status_explicit=status_explicit)
    rows = Rows(layout, iter(()))
    roles = [(role, layout.columns[role]) for role in _roles(layout, needed)]

    def batches() -> Iterator[dict[str, list[Any]]]:
        out: dict[str, list[Any]] = {role: [] for role, _ in roles}
        appends = [(out[role].append, column) for role, column in roles]
        row = 0
        loads, invalid = orjson.loads, orjson.JSONDecodeError
        try:
            with path.open("rb") as lines:
                for number, raw in enumerate(lines, 1):
                    line = raw.removeprefix(_BOM) if number == 1 else raw
                    if not line or line.isspace():
                        continue
                    try:
                        record = loads(line)
                    except invalid:
                        record = _parse_line(line)
                    if type(record) is dict:
                        get = record.get
                        for append, column in appends:
                            append(get(column))
                    else:
                        if len(rows.unreadable_lines) < _UNREADABLE_EXAMPLES:
                            rows.unreadable_lines.append((row, number))
                        for role, _ in roles:
                            out[role].append(UNREADABLE if role == "request" else None)
                    row += 1
                    if row % batch_rows == 0:
                        yield out
                        out = {role: [] for role, _ in roles}
                        appends = [(out[role].append, column) for role, column in roles]
        except OSError as exc:
            raise SourceError(f"{path}: cannot read the table: {exc.strerror or exc}") from None
        if out["request"]:
            yield out

    rows.batches = batches()
    return rows


def load_served_entities(path: str | os.PathLike[str]) -> dict[str, str]:
    """served_entity_id -> served entity name, from an export of `system.serving.served_entities`.

    Any table format `replay` reads; the columns are `served_entity_id` and `served_entity_name`.
    When an entity id appears in several config versions, the last row wins.
    """
    where = os.fspath(path)
    mapping: dict[str, str] = {}
    location = Path(where)
    if location.is_file() and location.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        rows = _json_lines(location, {"request": "served_entity_id", "model_name": "served_entity_name"}, False, 4096)
    else:
        from schemakit.table.sources import open_table

        source = open_table(where)
        names = set(source.schema.names)
        for needed in ("served_entity_id", "served_entity_name"):
            if needed not in names:
                raise SchemakitError(f"{where}: no column {needed!r} (an export of system.serving.served_entities)")
        layout = Layout("served-entities", {"request": "served_entity_id", "model_name": "served_entity_name"})

        def batches() -> Iterator[dict[str, list[Any]]]:
            for batch in source.batches(4096, ["served_entity_id", "served_entity_name"]):
                yield {"request": _pylist(batch.column(0)), "model_name": _pylist(batch.column(1))}

        rows = Rows(layout, batches())
    if rows.layout.column("model_name") is None:
        raise SchemakitError(f"{where}: no column 'served_entity_name' (an export of system.serving.served_entities)")
    for batch in rows.batches:
        for entity, name in zip(batch["request"], batch["model_name"], strict=True):
            key, value = _text(entity), _text(name)
            if key and value:
                mapping[key] = value
    return mapping
