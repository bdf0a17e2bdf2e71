"""Presenting what a sink kept: each entry as a `Problem` with its row, column and a message a person can act on.

A row and a column are named only where the payload has them (dataframes, rows,
columnar inputs); in an object request (chat, completions) the location is the
JSON path of the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .report import Problem, path_parts, path_text

__all__ = ["problem"]


def problem(entry: tuple[Any, ...], key: str | None, payload: Any, formats: Mapping[str, Mapping[str, Any]]) -> Problem:
    """A kept sink entry as a `Problem`, located by row and column where the format has them."""
    code, severity, path, expected, found, detail, column = entry
    parts = path_parts(path)
    row: int | None = None
    located: str | None = None
    if key is not None and parts and parts[0] == key:
        row, located = _locate(key, parts[1:], payload, formats)
    missing = code in ("required", "dependent-required")
    # A missing property is a missing *column* only where a row (or the columnar inputs
    # object) is the object that lacks it; deeper down it is a field of a column's value.
    missing_column = missing and ((row is not None and located is None) or (key == "inputs" and parts == ["inputs"]))
    where_column = column if column is not None and (missing_column or not missing) else located
    shown_path = path_text(parts)
    if row is not None and where_column is not None:
        where = f"row {row}, column {where_column} ({shown_path})"
    elif row is not None:
        where = f"row {row} ({shown_path})"
    elif where_column is not None:
        where = f"column {where_column} ({shown_path})"
    elif len(parts) == 2 and parts[0] == "params":
        where = f"param {parts[1]} ({shown_path})"
    else:
        where = shown_path
    if missing:
        text = "missing required column" if missing_column else f"missing required property {column!r}"
        if code == "dependent-required":
            text += f" ({detail})"
    elif found is not None and expected is not None:
        text = f"expected {expected}, got {found}" + (f": {detail}" if detail else "")
    else:
        text = detail or (f"expected {expected}" if expected else code)
    return Problem(code, severity, shown_path, row, where_column, expected, found, f"{where}: {text}")


def _locate(
    key: str, rest: list[Any], payload: Any, formats: Mapping[str, Mapping[str, Any]]
) -> tuple[int | None, str | None]:
    """Row number and column name for a path below the format key."""
    if key == "dataframe_split":
        if len(rest) >= 2 and rest[0] == "data" and isinstance(rest[1], int):
            row = rest[1]
            if len(rest) >= 3 and isinstance(rest[2], int):
                return row, _split_column_name(rest[2], payload, formats)
            return row, None
        if len(rest) == 2 and rest[0] == "columns" and isinstance(rest[1], int):
            try:
                name = payload["dataframe_split"]["columns"][rest[1]]
            except (KeyError, IndexError, TypeError):
                return None, None
            return None, name if isinstance(name, str) else None
        return None, None
    if key in ("dataframe_records", "instances"):
        if rest and isinstance(rest[0], int):
            column = rest[1] if len(rest) >= 2 and isinstance(rest[1], str) else None
            return rest[0], column
        return None, None
    if key == "inputs":
        if rest and isinstance(rest[0], str):
            input_row = rest[1] if len(rest) >= 2 and isinstance(rest[1], int) else None
            return input_row, rest[0]
        if rest and isinstance(rest[0], int):
            return rest[0], None
    return None, None


def _split_column_name(position: int, payload: Any, formats: Mapping[str, Mapping[str, Any]]) -> str | None:
    try:
        columns = payload["dataframe_split"].get("columns")
    except (AttributeError, KeyError, TypeError):
        columns = None
    if isinstance(columns, list):
        if position < len(columns) and isinstance(columns[position], str):
            return str(columns[position])
        return None
    model_columns = formats["dataframe_split"].get("columns") or ()
    for column in model_columns:
        if column["position"] == position:
            return str(column["name"])
    return None
