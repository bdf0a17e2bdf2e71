"""Hostile document text in generated code: huge enum integers, non-finite enum numbers, bidi and
control characters: the output type-checks, compiles and shows no character a reader misreads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import schemakit
from schemakit.codegen.generate import MODEL_TYPES, generate_package, write_package

from . import documents
from .test_typescript_client import NODE, TSC, _compile

DANGEROUS = ["\u202e", "\u2066", "\u2028", "\u2029", "\x1b", "\x00", "\x85", "\u200f"]

HOSTILE_TEXT = {
    "big": {"type": "integer", "format": "int64", "enum": [2**63, 2**64 + 1, -(2**63) - 5, 1]},
    "txt": {"type": "string", "enum": ["a\u202eb", "c\u2028d", "e\x1bf"], "description": "x\u202ey \u2028 z \u2066"},
    "bidi\u202ekey\u2029": {"type": "string", "description": "evil \u2066 text \x1b[31m"},
}


def _hostile(tmp_path: Path) -> Path:
    doc = documents.document({"hard-1": documents.records_model(HOSTILE_TEXT)}, title="t\u202eitle\u2028")
    return documents.write(tmp_path / "hard.json", doc)


def test_no_raw_bidi_or_control_character_reaches_any_generated_file(tmp_path: Path) -> None:
    spec = _hostile(tmp_path)
    schema = schemakit.load(str(spec))
    for model_type in [*MODEL_TYPES, "typescript"]:
        target = "typescript" if model_type == "typescript" else "python"
        package = generate_package(
            schema, package="hard", model_type="pydantic" if target == "typescript" else model_type, target=target
        )
        for generated in package.files:
            if generated.path.startswith("_runtime/"):
                continue
            text = generated.content.decode("utf-8")
            found = sorted({f"U+{ord(ch):04X}" for ch in text if ch in DANGEROUS})
            assert found == [], f"{model_type} {generated.path}: {found}"


def test_huge_enum_integers_and_hostile_text_pass_mypy_strict(tmp_path: Path) -> None:
    spec = _hostile(tmp_path)
    names = []
    for model_type in MODEL_TYPES:
        name = f"hard_{model_type}"
        write_package(generate_package(schemakit.load(str(spec)), package=name, model_type=model_type), tmp_path)
        names.append(name)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy"), *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line and "/_runtime/" not in line]
    assert errors == [], result.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        module = importlib.import_module("hard_pydantic.hard")
        # The enum lists 2**63, yet the column is an int64 one, which cannot hold it: the serving rule says so
        # (no crash, no fast-path error), exactly as `schemakit check` does.
        report = module.validate({"dataframe_records": [{"big": 2**63}]})
        assert not report.ok
        assert report.counts == {"int-range": 1}
        assert not module.validate({"dataframe_records": [{"big": 5}]}).ok  # the enum is still checked
    finally:
        sys.path.remove(str(tmp_path))
        for loaded in [m for m in sys.modules if m == "hard_pydantic" or m.startswith("hard_pydantic.")]:
            del sys.modules[loaded]


YAML_NAN = """\
openapi: 3.1.0
info: {title: floats, version: "1"}
servers: [{url: "https://example.com/serving-endpoints/floats"}]
paths:
  /served-models/floats-1/invocations:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [dataframe_records]
              properties:
                dataframe_records:
                  type: array
                  items:
                    type: object
                    properties:
                      x: {type: number, format: double, enum: [.nan, .inf, -.inf, 1.5]}
                      y: {type: number, format: double, enum: [.nan]}
      responses: {"200": {description: ok}}
"""


@pytest.mark.skipif(TSC is None or NODE is None, reason="tsc or node not installed")
def test_non_finite_enum_values_give_typescript_that_tsc_accepts(tmp_path: Path) -> None:
    spec = tmp_path / "floats.yaml"
    spec.write_text(YAML_NAN)
    schema = schemakit.load(str(spec))
    write_package(generate_package(schema, package="floats", target="typescript"), tmp_path)
    source = (tmp_path / "floats" / "index.ts").read_text()
    assert '"x"?: 1.5 | number;' in source or '"x"?: number;' in source or '"x"?: 1.5;' in source
    result = _compile(tmp_path, [tmp_path / "floats" / "index.ts"], emit=False)
    assert result.returncode == 0, result.stdout + result.stderr
    json.dumps(schema.title)
