"""Small serving documents built in tests: served models with dataframe_records / dataframe_split columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def records_model(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """The POST operation of a served model taking dataframe_records (and dataframe_split) of these columns."""
    row: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        row["required"] = required
    names = list(properties)
    split = {
        "type": "object",
        "properties": {
            "dataframe_split": {
                "type": "object",
                "properties": {
                    "columns": {"type": "array", "items": {"type": "string", "enum": names}},
                    "data": {"type": "array", "items": {"type": "array", "prefixItems": list(properties.values())}},
                },
            }
        },
        "required": ["dataframe_split"],
    }
    records = {
        "type": "object",
        "properties": {"dataframe_records": {"type": "array", "items": row}},
        "required": ["dataframe_records"],
    }
    return {
        "post": {
            "requestBody": {"content": {"application/json": {"schema": {"oneOf": [split, records]}}}},
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"predictions": {"type": "array", "items": {"type": "number"}}},
                            }
                        }
                    },
                }
            },
        }
    }


def document(
    models: dict[str, dict[str, Any]], *, title: str = "stable-endpoint", version: str = "1"
) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": f"https://example.com/serving-endpoints/{title}"}],
        "paths": {f"/served-models/{name}/invocations": operation for name, operation in models.items()},
    }


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path
