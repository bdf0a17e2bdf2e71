"""Served models named after what the generated modules define or use (issue 23): the names table is derived
from the templates (`schemakit.codegen.reserved`), and a package whose served models take EVERY derived
name, in both languages, imports, passes `mypy --strict` (Python) and `tsc --strict` (TypeScript)."""

from __future__ import annotations

import importlib
import keyword
import subprocess
import sys
from pathlib import Path

import pytest

import schemakit
from schemakit.codegen.generate import generate_package, write_package
from schemakit.codegen.naming import model_modules
from schemakit.codegen.reserved import (
    python_identifiers,
    reserved_identifiers,
    typescript_exports,
    typescript_identifiers,
)

from . import documents
from .node import NODE, TSC, tsc_compile

# What the red team found breaking the Python client and `tsc` on the TypeScript one.
FOUND = ["parse_answer", "require", "retry_delay", "report", "plan", "base_client", "chat_chunk", "client_options"]
FOUND += ["invalid_payload_error", "object", "array", "promise", "client", "versions", "plans"]


def test_the_derivation_finds_what_the_templates_use() -> None:
    python = python_identifiers()
    for name in ("parse_answer", "require", "retry_delay", "client", "errors", "models", "httpx", "ChatStream"):
        assert name in python, name
    exports = typescript_exports()
    for name in ("Report", "Plan", "BaseClient", "ChatChunk", "ClientOptions", "InvalidPayloadError"):
        assert name in exports, name
    for name in ("VERSIONS", "PLANS", "Client", "Object", "Promise", "AsyncGenerator"):
        assert name in typescript_identifiers(), name
    # Data of the probe document never counts as a template name.
    assert not any("zzprobe" in name.lower() for name in reserved_identifiers())


def test_no_served_model_module_takes_a_reserved_name() -> None:
    names = sorted(reserved_identifiers()) + FOUND
    modules = model_modules(names, reserved=reserved_identifiers())
    assert len(set(modules.values())) == len(modules)
    for module in modules.values():
        assert module.isidentifier()
        assert not keyword.iskeyword(module)
        assert module not in reserved_identifiers()


def _hostile_schema(tmp_path: Path, derived: frozenset[str], tag: str) -> schemakit.EndpointSchema:
    # Each language's package takes every name derived for it (the other's cannot shadow anything in it).
    names = sorted({*FOUND, *(n for n in derived if n.strip("_$") and "$" not in n)})
    row = {"x": {"type": "integer"}, "y": {"type": "string"}}
    doc = documents.document(dict.fromkeys(names, documents.records_model(row)), title="reserved-names")
    return schemakit.load(str(documents.write(tmp_path / f"{tag}.json", doc)))


def test_python_package_for_every_reserved_name_imports_and_passes_mypy_strict(tmp_path: Path) -> None:
    out, schema = tmp_path, _hostile_schema(tmp_path, python_identifiers(), "python")
    write_package(generate_package(schema, package="reserved_pkg", model_type="pydantic"), out)
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module("reserved_pkg")
        for served in schema.models:
            assert any(
                served.name == getattr(package, m).NAME for m in package.__all__ if hasattr(getattr(package, m), "NAME")
            )
        module = next(getattr(package, m) for m in ("parse_answer", "parse_answer_model") if hasattr(package, m))
        assert module.validate({"dataframe_records": [{"x": 1, "y": "a"}]}).ok
    finally:
        sys.path.remove(str(out))
        for loaded in [m for m in sys.modules if m == "reserved_pkg" or m.startswith("reserved_pkg.")]:
            del sys.modules[loaded]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(out / ".mypy"), "reserved_pkg"],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line and "/_runtime/" not in line]
    assert errors == [], result.stdout[-3000:]


@pytest.mark.skipif(TSC is None or NODE is None, reason="tsc or node not installed")
def test_typescript_package_for_every_reserved_name_compiles_strict(tmp_path: Path) -> None:
    out, schema = tmp_path, _hostile_schema(tmp_path, typescript_identifiers(), "typescript")
    write_package(generate_package(schema, package="reserved_ts", target="typescript"), out / "src")
    result = tsc_compile(out, [out / "src" / "reserved_ts" / "index.ts"], emit=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
