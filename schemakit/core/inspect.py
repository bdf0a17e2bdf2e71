"""The stable JSON description of a resolved schema (`schemakit inspect --format json`), and its text form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemakit.core.model import EndpointSchema, FormatKind, ServedModel
from schemakit.runtime.text import terminal

__all__ = ["describe", "describe_model", "render_text"]

_SHORT = {
    FormatKind.DATAFRAME_SPLIT: "split",
    FormatKind.DATAFRAME_RECORDS: "records",
    FormatKind.INSTANCES: "instances",
    FormatKind.INPUTS: "inputs",
    FormatKind.OBJECT: "object",
}


def describe(schema: EndpointSchema) -> dict[str, Any]:
    """The documented, stable JSON shape other tools rely on."""
    return {
        "title": schema.title,
        "version": schema.version,
        "server": schema.server,
        "models": [describe_model(m) for m in schema.models],
        "diagnostics": [d.to_json() for d in schema.diagnostics],
    }


def describe_model(model: ServedModel) -> dict[str, Any]:
    columns = []
    for column in model.columns:
        formats = [f.kind.value for f in model.formats if f.column(column.name) is not None]
        columns.append(
            {
                "name": column.name,
                "type": column.type.display().rstrip("?") if column.type.nullable else column.type.display(),
                "required": column.required,
                "nullable": column.type.nullable,
                "formats": formats,
            }
        )
    inputs: dict[str, Any] = {}
    for fmt in model.formats:
        entry: dict[str, Any] = {
            "columns": [
                {
                    "name": c.name,
                    "type": c.type.display().rstrip("?") if c.type.nullable else c.type.display(),
                    "required": c.required,
                    "nullable": c.type.nullable,
                }
                for c in fmt.columns
            ],
            "required": sorted(fmt.required_columns),
            "params": [p.to_json() for p in fmt.params],
        }
        if fmt.tensor is not None:
            entry["tensor"] = fmt.tensor.to_json()
        if fmt.title:
            entry["title"] = fmt.title
        inputs[fmt.kind.value] = entry
    return {
        "name": model.name,
        "path": model.path,
        "formats": list(model.format_names),
        "columns": columns,
        "params": [p.to_json() for p in model.params],
        "response": model.response.result.to_json() if model.response is not None else None,
        "inputs": inputs,
    }


def render_text(schema: EndpointSchema) -> str:
    """A readable table per served model."""
    # Names come from the document: each line is escaped (controls, ESC, bidi marks written visibly).
    lines = [f"{schema.title or '(untitled)'}  version {schema.version or '?'}  {schema.server or '(no server url)'}"]
    for model in schema.models:
        lines.append("")
        lines.append(f"served model {model.name}  ({model.path})")
        lines.append(f"  formats: {', '.join(model.format_names) or 'none'}")
        for fmt in model.formats:
            if fmt.tensor is not None:
                shape = ", ".join(str(d) for d in fmt.tensor.shape or ())
                lines.append(f"  {fmt.kind.value}: tensor of {fmt.tensor.display()} with shape ({shape})")
        columns = model.columns
        if columns:
            rows = [("#", "column", "type", "required", "formats")]
            for index, column in enumerate(columns):
                formats = ", ".join(_SHORT[f.kind] for f in model.formats if f.column(column.name) is not None)
                rows.append(
                    (
                        str(index),
                        terminal(column.name),
                        terminal(column.type.display()),
                        "yes" if column.required else "",
                        formats,
                    )
                )
            lines.extend("  " + line for line in _table(rows))
        if model.params:
            lines.append("  params:")
            for param in model.params:
                default = f"default {_literal(param.default)}" if param.has_default else "no default"
                lines.append(f"    {param.name}  {param.type.display()}  {default}")
        if model.response is not None:
            what = "predictions" if model.response.predictions is not None else "response"
            lines.append(f"  {what}: {model.response.result.display()}")
        else:
            lines.append("  response: (not described)")
    errors = sum(1 for d in schema.diagnostics if d.severity == "error")
    warnings = len(schema.diagnostics) - errors
    if schema.diagnostics:
        lines.append("")
        lines.append(f"{errors} error(s), {warnings} warning(s): run `schemakit validate` for details")
    return "\n".join(terminal(line) for line in lines)


def _literal(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
