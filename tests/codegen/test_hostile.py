"""Hostile names never become code: the package imports, nothing injected runs, JSON keys are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import schemakit
from schemakit._exceptions import CodegenError
from schemakit.check.validator import check_payload

from .conftest import GeneratePackage

INJECT = '"); import os; os.system("touch CANARY") #'
HOSTILE_COLUMNS = [
    INJECT,
    "line\nbreak",
    'triple """ quotes',
    "back\\slash\\n",
    "class",
    "1st",
    "sepal length (cm)",
    "données",
    "数据",
    "a-b",
    "a_b",
    "json",
    "datetime",
    "model_dump_extra",
]


def _document(canary: Path) -> dict[str, object]:
    inject = INJECT.replace("CANARY", str(canary))
    columns = [inject if c == INJECT else c for c in HOSTILE_COLUMNS]
    props = {c: {"type": "string", "description": f'desc """ {inject} \\ end\x00\u2028 \\'} for c in columns}
    return {
        "openapi": "3.1.0",
        "info": {"title": f'evil"""\n{inject}', "version": "1\n" + inject},
        "servers": [{"url": "https://example.com/serving-endpoints/evil"}],
        "paths": {
            # A served-model name cannot hold "/", so the path carries the injection without the canary path.
            '/served-models/"); import os; os.system("x") #/invocations': {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {
                                            "type": "object",
                                            "properties": {
                                                "dataframe_records": {
                                                    "type": "array",
                                                    "items": {"type": "object", "properties": props},
                                                },
                                                "params": {
                                                    "type": "object",
                                                    "properties": {inject: {"type": "string", "default": inject}},
                                                },
                                            },
                                        }
                                    ]
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "predictions": {
                                                "type": "array",
                                                "items": {"type": "string", "enum": [inject, "x"]},
                                            }
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        },
    }, columns


def test_hostile_names_make_a_working_package(generated: GeneratePackage, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    document, columns = _document(canary)
    spec = tmp_path / "evil.json"
    spec.write_text(json.dumps(document))
    with pytest.raises(CodegenError, match="msgspec cannot represent"):
        generated(spec, "msgspec")  # msgspec.field(name=...) refuses such keys at import, so codegen says so first
    for model_type in ("pydantic", "dataclasses", "typeddict"):
        pkg = generated(spec, model_type)
        assert not canary.exists()
        (module_name,) = [m for m in pkg.__all__ if m[0].islower()]
        model = getattr(pkg, module_name)
        assert schemakit.load(str(spec)).models[0].name == model.NAME
        values = {c: f"v{i}" for i, c in enumerate(columns)}
        payload = model.to_dataframe_records([values])
        assert list(payload["dataframe_records"][0]) == columns  # JSON keys exactly the document's
        assert json.loads(model.to_dataframe_records([values], as_bytes=True)) == payload
        assert not canary.exists()
    typed = generated(spec, "dataclasses")
    module = getattr(typed, next(m for m in typed.__all__ if m[0].islower()))
    fields = set(module.Row.__dataclass_fields__)
    assert {
        "class_",
        "col_1st",
        "sepal_length_cm",
        "donnees",
        "数据",
        "a_b",
        "a_b_2",
        "json_",
        "datetime_",
        "col_model_dump_extra",
    } <= fields
    assert not canary.exists()


def test_hostile_names_validate_like_schemakit_check(generated: GeneratePackage, tmp_path: Path) -> None:
    document, columns = _document(tmp_path / "canary")
    spec = tmp_path / "evil.json"
    spec.write_text(json.dumps(document))
    pkg = generated(spec, "pydantic")
    model = getattr(pkg, next(m for m in pkg.__all__ if m[0].islower()))
    payload = model.to_dataframe_records([dict.fromkeys(columns, "v")])
    assert model.validate(payload).to_json() == check_payload(str(spec), payload).to_json()
