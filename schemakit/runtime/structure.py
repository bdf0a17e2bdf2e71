"""The serving rules that look at a request's structure (`scope="request"` in `payload_rules`).

Each function applies the rules of one part of a request and adds what it finds to the
sink; `rules` maps each switched-on rule to its severity. The datetime column rules
read every row once, whatever the number of datetime columns (a list of rows may be
raw JSON parsed again on each walk, so one walk per column would parse it that often).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .jsonsem import expected_name
from .parse import RawRows, RowChunk, chunks_of, clean_chunk
from .payload_rules import INTEGER_KEY_DETAIL, KNOWN_GAPS, OBJECT_REQUIRED_FIELDS
from .report import ROOT, Path, Sink, plural
from .values import ISO_PARTS, NS_FIRST, NS_LAST, datetime_form, in_ns_range, real_date

__all__ = [
    "datetime_columns",
    "empty_input",
    "format_value_schema",
    "integer_keys",
    "known_gaps",
    "object_required_field",
    "object_rules",
    "optional_integer_keys",
    "split_rules",
    "unknown_input_columns",
    "unknown_params",
    "unknown_row_columns",
    "with_known_gaps",
]


def format_value_schema(fmt: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The schema of the format key's value in a format's branch ({} when the branch is not that simple)."""
    branch = fmt.get("schema")
    properties = branch.get("properties") if isinstance(branch, dict) else None
    value = properties.get(key) if isinstance(properties, dict) else None
    return value if isinstance(value, dict) else {}


def split_rules(
    fmt: Mapping[str, Any], split: dict[str, Any], sink: Sink, rules: Mapping[str, str]
) -> tuple[str, ...] | None:
    """The `dataframe_split` rules; the column names to type the rows by, when they are not the model's order."""
    if "split-keys" in rules:
        _split_keys(split, sink)
    model_columns = [c["name"] for c in fmt.get("columns") or ()]
    named = bool(fmt.get("named_columns", True))
    columns = split.get("columns")
    names: list[str] | None = None
    if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
        names = columns
    if names is not None and named:
        _split_column_names(fmt, names, sink, rules)
    if "columns" not in split and named and model_columns and "split-columns" in rules:
        _split_without_columns(fmt, split, sink)
    data = split.get("data")
    width = len(columns) if isinstance(columns, list) else len(model_columns)
    if "row-width" in rules and isinstance(data, list) and width:
        _row_width(data, width, sink)
    if names is not None and named and "columns-by-name" in rules and names != model_columns[: len(names)]:
        return tuple(names)
    return None


def _split_keys(split: dict[str, Any], sink: Sink) -> None:
    split_path = (ROOT, "dataframe_split")
    for name in split:
        if name not in ("columns", "data", "index"):
            sink.add(
                "split-keys",
                (split_path, name),
                "columns, data, index",
                None,
                f"dataframe_split holds only columns, data and index, not {name!r}",
                show_value=False,
            )
    if "data" not in split:
        sink.add("split-keys", split_path, "data", None, "dataframe_split has no data", show_value=False)
    index = split.get("index")
    data_rows = split.get("data")
    if "index" in split and not isinstance(index, list):
        # pandas builds the DataFrame from index, columns and data: the server refuses a scalar index.
        sink.add("split-keys", (split_path, "index"), "an array of row labels", index, "index must be an array")
    elif isinstance(index, list) and isinstance(data_rows, list) and len(index) != len(data_rows):
        sink.add(
            "split-keys",
            (split_path, "index"),
            f"{len(data_rows)} row labels",
            None,
            f"index has {len(index)} labels for {len(data_rows)} rows",
            show_value=False,
        )


def _split_column_names(fmt: Mapping[str, Any], names: list[str], sink: Sink, rules: Mapping[str, str]) -> None:
    split_path = (ROOT, "dataframe_split")
    if "duplicate-column" in rules:
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                sink.add(
                    "duplicate-column",
                    ((split_path, "columns"), index),
                    "each column once",
                    name,
                    "named more than once",
                    column=name,
                )
            seen.add(name)
    if "required-column" in rules:
        for column in fmt.get("columns") or ():
            if column["required"] and column["name"] not in names:
                sink.add(
                    "required-column",
                    (split_path, "columns"),
                    column["name"],
                    None,
                    "required column missing from columns",
                    column=column["name"],
                    show_value=False,
                )


def _row_width(data: list[Any], width: int, sink: Sink) -> None:
    data_path = ((ROOT, "dataframe_split"), "data")
    for index, row in enumerate(data):
        if isinstance(row, list) and len(row) != width:
            sink.add(
                "row-width",
                (data_path, index),
                f"{width} values",
                None,
                f"has {len(row)} values for {width} columns",
                show_value=False,
            )


def _split_without_columns(fmt: Mapping[str, Any], split: dict[str, Any], sink: Sink) -> None:
    """MLflow builds the DataFrame with columns 0, 1, ... and then looks for the model's names."""
    if "columns" in format_value_schema(fmt, "dataframe_split").get("required", ()):
        return  # the schema's own `required` already says columns is missing
    required = [c["name"] for c in fmt.get("columns") or () if c["required"]]
    if required:
        shown = ", ".join(required[:8]) + (", ..." if len(required) > 8 else "")
        outcome = f"refuses the request: required column(s) {shown} missing"
    else:
        outcome = "drops every value as an unknown column"
    sink.add(
        "split-columns",
        (ROOT, "dataframe_split"),
        "columns naming the row values",
        None,
        "dataframe_split has no columns; the server then numbers the row values 0, 1, ... instead of "
        f"reading them as this model's columns, and {outcome}",
        show_value=False,
    )


def empty_input(fmt: Mapping[str, Any], key: str, value: Any, sink: Sink) -> None:
    """No rows at all: MLflow's server answers 400 (it finds none of the model's inputs)."""
    if key == "dataframe_split":
        # With columns the server accepts no rows (and predicts nothing); by position it cannot.
        if fmt.get("named_columns", True) or not isinstance(value, dict) or "columns" in value:
            return
        rows, path = value.get("data"), ((ROOT, key), "data")
        schema = format_value_schema(fmt, key).get("properties", {}).get("data", {})
    else:
        rows, path = value, (ROOT, key)
        schema = format_value_schema(fmt, key)
    if not isinstance(rows, list) or rows:
        return
    low = schema.get("minItems") if isinstance(schema, dict) else None
    if isinstance(low, int) and not isinstance(low, bool) and low >= 1:
        return  # the schema's own minItems already says there are too few rows
    sink.add(
        "empty-input",
        path,
        "at least one row",
        None,
        "no rows; the server refuses a request without any input",
        show_value=False,
    )


def optional_integer_keys(row: Any) -> list[str]:
    """The optional properties of a row schema whose type is (or includes) integer."""
    if not isinstance(row, dict) or not isinstance(row.get("properties"), dict):
        return []
    required = set(row.get("required") or ())
    names = []
    for name, sub in row["properties"].items():
        kind = sub.get("type") if isinstance(sub, dict) else None
        if name not in required and (kind == "integer" or (isinstance(kind, list) and "integer" in kind)):
            names.append(name)
    return names


def integer_keys(fmt: Mapping[str, Any], key: str, rows: list[Any], sink: Sink, severity: str) -> None:
    """Rows without an integer key other rows have: MLflow's DataFrame fills them with NaN and refuses them.

    (A key left out of every row makes no column at all, which an optional column may be.)
    """
    row_schema = format_value_schema(fmt, key).get("items")
    names = optional_integer_keys(row_schema)
    if not names or not rows:
        return
    present: set[str] = set()
    missing: dict[str, list[int]] = {}
    skipped = False

    def skip(chunk: RowChunk) -> bool:
        # A clean chunk's rows all hold every integer key: its screen's check says so.
        nonlocal skipped
        skipped = skipped or (chunk.clean and chunk.count > 0)
        return chunk.clean

    for start, chunk in chunks_of(rows, skip):
        for index, row in enumerate(chunk, start):
            if isinstance(row, dict):
                for name in names:
                    if name in row:
                        present.add(name)
                    else:
                        missing.setdefault(name, []).append(index)
    if skipped:
        present.update(names)
    assert isinstance(row_schema, dict)
    for name in names:
        if name in present:
            expected = expected_name(row_schema["properties"][name])
            for index in missing.get(name, ()):
                path = (((ROOT, key), index), name)
                sink.add("integer-null", path, expected, None, INTEGER_KEY_DETAIL, severity=severity, column=name)


def unknown_row_columns(fmt: Mapping[str, Any], key: str, rows: list[Any], sink: Sink, severity: str) -> None:
    known = {c["name"] for c in fmt.get("columns") or ()}
    if not known:
        return
    first: dict[str, int] = {}
    seen_count: dict[str, int] = {}
    # A clean chunk of raw rows holds no unknown column: its screen's row type forbids them.
    for start, chunk in chunks_of(rows, clean_chunk):
        for index, row in enumerate(chunk, start):
            if isinstance(row, dict):
                for name in row:
                    if name not in known:
                        if name not in first:
                            first[name] = index
                        seen_count[name] = seen_count.get(name, 0) + 1
    for name, index in first.items():
        sink.add(
            "unknown-column",
            (((ROOT, key), index), name),
            None,
            None,
            f"not a column of this model; the server drops it ({plural(seen_count[name], 'row')})",
            severity=severity,
            column=name,
            show_value=False,
        )


def unknown_input_columns(fmt: Mapping[str, Any], value: dict[str, Any], sink: Sink, severity: str) -> None:
    """Columnar `inputs` naming a column the model does not declare: the server drops it."""
    known = {c["name"] for c in fmt.get("columns") or ()}
    for name in value:
        if name not in known:
            sink.add(
                "unknown-column",
                ((ROOT, "inputs"), name),
                None,
                None,
                "not a column of this model; the server drops it",
                severity=severity,
                column=name,
                show_value=False,
            )


def unknown_params(fmt: Mapping[str, Any], params: dict[str, Any], sink: Sink, severity: str) -> None:
    declared = {p["name"] for p in fmt.get("params") or ()}
    for name, value in params.items():
        if name not in declared:
            sink.add(
                "unknown-param",
                ((ROOT, "params"), name),
                None,
                value,
                "not a parameter of this model; the server drops it",
                severity=severity,
            )


# -- datetime columns ----------------------------------------------------------------------


class _DatetimeColumn:
    """What MLflow 3.17 refuses in one datetime column, beyond what each value's ISO-8601 check sees.

    Its server reads a datetime column with pandas into datetime64[ns]: values with a
    "Z" or an offset cannot go in (timezone-aware), instants outside 1677-2262 do not
    fit, and the column is parsed in the form of its first value, so a row written in
    another form (without seconds, with a fraction, with " " for "T", a date alone)
    fails the whole request.
    """

    __slots__ = ("first", "name", "other", "others", "severity")

    def __init__(self, name: str, severity: str) -> None:
        self.name = name
        self.severity = severity
        self.first: tuple[int, str, str] | None = None  # row, text and form of the column's first value
        self.other: tuple[int, str, Path] | None = None  # the first row written in another form
        self.others = 0

    def feed(self, row: int, text: Any, path: Path, sink: Sink) -> None:
        if not isinstance(text, str):
            return
        parts = ISO_PARTS.match(text)
        if parts is None or not real_date(text):
            return  # not ISO-8601 at all: the value's own check reports it
        if parts[4] is not None:
            sink.add(
                "datetime-iso8601",
                path,
                "datetime without a UTC offset",
                text,
                "MLflow cannot put a timezone-aware value in a datetime column; "
                "convert it to UTC and leave the offset out",
                column=self.name,
                severity=self.severity,
            )
            return
        if not in_ns_range(parts):
            sink.add(
                "datetime-iso8601",
                path,
                f"datetime from {NS_FIRST} to {NS_LAST}",
                text,
                "outside the range of the pandas datetime64[ns] a datetime column becomes",
                column=self.name,
                severity=self.severity,
            )
            return
        form = datetime_form(parts)
        if self.first is None:
            self.first = (row, text, form)
        elif form != self.first[2]:
            self.others += 1
            if self.other is None:
                self.other = (row, text, path)

    def finish(self, sink: Sink) -> None:
        if self.other is None or self.first is None:
            return
        _row, text, path = self.other
        sink.add(
            "datetime-iso8601",
            path,
            f"datetime (ISO-8601 text) written like row {self.first[0]} ({self.first[1]})",
            text,
            "pandas reads a datetime column in the form of its first value and refuses the request "
            f"when a row is written in another form ({plural(self.others, 'row')} here); write every row alike",
            column=self.name,
            severity=self.severity,
        )


def _datetime_chunks(rows: list[Any], columns: list[_DatetimeColumn]) -> Iterable[tuple[int, list[Any]]]:
    """The rows to feed the datetime columns, as (index of the first, rows).

    A chunk of raw rows is passed over when its screen found every datetime in it valid,
    zone-free, in range and written in the same form as each column's first value: then
    feeding it would change nothing. Until a column has a first value, chunks are fed.
    """
    screen = rows.screen if type(rows) is RawRows else None
    if screen is None:
        return chunks_of(rows, lambda _chunk: False)

    def fed_in_vain(chunk: RowChunk) -> bool:
        if not chunk.forms_clean:
            return False
        for column in columns:
            if column.first is None or column.first[2] != screen.column_form(column.name):
                return False
        return True

    return chunks_of(rows, fed_in_vain)


def datetime_columns(fmt: Mapping[str, Any], key: str, value: Any, sink: Sink, severity: str) -> None:
    """The datetime column rules, for every datetime column, in one walk over the rows."""
    names = [c["name"] for c in fmt.get("columns") or () if str(c.get("type", "")).rstrip("?") == "datetime"]
    if not names:
        return
    base = (ROOT, key)
    if key == "dataframe_split":
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            _datetime_split(fmt, names, value, base, sink, severity)
    elif key in ("dataframe_records", "instances") and isinstance(value, list):
        _datetime_records(names, value, base, sink, severity)
    elif key == "inputs" and isinstance(value, dict):
        for name in names:
            cells = value.get(name)
            if isinstance(cells, list):
                column = _DatetimeColumn(name, severity)
                column_path = (base, name)
                for index, item in enumerate(cells):
                    column.feed(index, item, (column_path, index), sink)
                column.finish(sink)


def _datetime_split(
    fmt: Mapping[str, Any], names: list[str], value: dict[str, Any], base: Path, sink: Sink, severity: str
) -> None:
    columns = value.get("columns")
    located: list[tuple[int, _DatetimeColumn]] = []
    for name in names:
        if isinstance(columns, list):
            if name not in columns:
                continue
            position = columns.index(name)
        else:
            positions = [c["position"] for c in fmt.get("columns") or () if c["name"] == name]
            if not positions:
                continue
            position = positions[0]
        located.append((position, _DatetimeColumn(name, severity)))
    if not located:
        return
    data_path = (base, "data")
    for start, rows in _datetime_chunks(value["data"], [column for _position, column in located]):
        for index, row in enumerate(rows, start):
            if isinstance(row, list):
                width = len(row)
                for position, column in located:
                    if position < width:
                        column.feed(index, row[position], ((data_path, index), position), sink)
    for _position, column in located:
        column.finish(sink)


def _datetime_records(names: list[str], value: list[Any], base: Path, sink: Sink, severity: str) -> None:
    by_name = {name: _DatetimeColumn(name, severity) for name in names}
    for start, rows in _datetime_chunks(value, list(by_name.values())):
        for index, row in enumerate(rows, start):
            if isinstance(row, dict):
                for name, column in by_name.items():
                    if name in row:
                        column.feed(index, row[name], ((base, index), name), sink)
    for column in by_name.values():
        column.finish(sink)


# -- object requests (chat, completions, embeddings, agents) -----------------------------------


def object_required_field(schema: Any) -> str | None:
    """The field the server requires of an object request with this schema, if it is one it knows."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return None
    return next((name for name in OBJECT_REQUIRED_FIELDS if name in properties), None)


def known_gaps(schema: Any) -> list[tuple[str, str, str]]:
    """The known document gaps of an object request schema: (list field, item field, value) it leaves out."""
    found = []
    for field, item_field, value in KNOWN_GAPS:
        enum = _gap_enum(schema, field, item_field)
        if enum is not None and value not in enum:
            found.append((field, item_field, value))
    return found


def _gap_enum(schema: Any, field: str, item_field: str) -> list[Any] | None:
    try:
        enum = schema["properties"][field]["items"]["properties"][item_field]["enum"]
    except (KeyError, TypeError):
        return None
    return enum if isinstance(enum, list) and all(isinstance(v, str) for v in enum) else None


def with_known_gaps(schema: Any, gaps: list[tuple[str, str, str]]) -> Any:
    """The schema with each gap's value allowed (copied along the path, the rest shared)."""
    for field, item_field, value in gaps:
        properties = schema["properties"]
        items = properties[field]["items"]
        item = items["properties"][item_field]
        item = {**item, "enum": [*item["enum"], value]}
        items = {**items, "properties": {**items["properties"], item_field: item}}
        schema = {**schema, "properties": {**properties, field: {**properties[field], "items": items}}}
    return schema


def object_rules(
    schema: Any, gaps: list[tuple[str, str, str]], payload: Any, sink: Sink, rules: Mapping[str, str]
) -> None:
    """The serving rules of an object request: its required field, and the values a known gap lets through."""
    if not isinstance(payload, dict):
        return
    severity = rules.get("required-field")
    field = object_required_field(schema)
    if severity is not None and field is not None and field not in payload:
        required = schema.get("required") if isinstance(schema, dict) else None
        if not (isinstance(required, list) and field in required):  # else JSON Schema's `required` says it
            sink.add(
                "required-field",
                ROOT,
                field,
                None,
                f"missing required field {field!r}: the server answers 400 without it",
                severity=severity,
                show_value=False,
            )
    severity = rules.get("known-document-gap")
    if severity is None:
        return
    for field, item_field, value in gaps:
        items = payload.get(field)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get(item_field) == value:
                sink.add(
                    "known-document-gap",
                    (((ROOT, field), index), item_field),
                    None,
                    value,
                    f"the document does not list {value!r}, but the API takes it (accepted)",
                    severity=severity,
                )
