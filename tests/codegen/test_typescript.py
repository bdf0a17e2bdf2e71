"""`--target typescript`: types for rows, params, payloads and responses."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import schemakit
from schemakit.codegen.generate import generate_package, write_package

from .conftest import SAMPLES
from .node import TSC, link_node_modules
from .test_golden import GOLDEN_SAMPLES
from .test_hostile import _document as hostile_document

KEY = re.compile(r'^  ("(?:[^"\\]|\\.)*")\??: ', re.MULTILINE)


def _interface(source: str, name: str) -> str:
    start = source.index(f"export interface {name} {{")
    return source[start : source.index("\n}\n", start)]


def test_keys_are_the_documents_even_when_hostile(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    document, columns = hostile_document(canary)
    spec = tmp_path / "evil.json"
    spec.write_text(json.dumps(document))
    source = generate_package(schemakit.load(str(spec)), target="typescript").file("index.ts").decode()
    row = _interface(source, "ImportOsOsSystemXRow")
    assert [json.loads(key) for key in KEY.findall(row)] == columns
    # Nothing the document says can end a comment or a line early.
    for line in source.splitlines():
        assert "\u2028" not in line
        assert "\x00" not in line
    assert source.count("/**") == source.count("*/")


def test_docs_example_types() -> None:
    source = (
        generate_package(schemakit.load(str(SAMPLES / "docs-example-dataframe.json")), target="typescript")
        .file("index.ts")
        .decode()
    )
    row = _interface(source, "VanillaSimpleModelRow")
    assert '"int_col": number;' in row
    assert '"becx_col"?: unknown;' in row
    assert (
        "export type VanillaSimpleModelPayload = VanillaSimpleModelDataframeSplit | VanillaSimpleModelDataframeRecords;"
        in source
    )
    assert '"sentiment"?: number;' in source


@pytest.mark.skipif(TSC is None, reason="TypeScript compiler not installed (set SCHEMAKIT_TSC=/path/to/tsc)")
def test_generated_typescript_compiles_strict(tmp_path: Path) -> None:
    files = []
    for index, sample in enumerate(GOLDEN_SAMPLES):
        write_package(
            generate_package(schemakit.load(str(SAMPLES / sample)), package=f"ts{index}", target="typescript"), tmp_path
        )
        files.append(str(tmp_path / f"ts{index}" / "index.ts"))
    link_node_modules(tmp_path)
    assert TSC is not None
    result = subprocess.run(
        [TSC, "--strict", "--noEmit", "--target", "es2020", "--moduleResolution", "node", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
