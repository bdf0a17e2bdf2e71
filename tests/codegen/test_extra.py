"""The `codegen` extra (issue 28): `pip install schemakit` brings neither datamodel-code-generator nor its
black and isort; the Python target then says, in one line, what to install; the TypeScript target works."""

from __future__ import annotations

import sys

import pytest

import schemakit
from schemakit._exceptions import CodegenError
from schemakit.codegen.generate import generate_package

from .conftest import ROOT, SAMPLES


def test_the_core_install_does_not_carry_the_code_generator() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("datamodel-code-generator") for dep in project["dependencies"])
    assert any(dep.startswith("datamodel-code-generator") for dep in project["optional-dependencies"]["codegen"])
    assert any(dep.startswith("datamodel-code-generator") for dep in project["optional-dependencies"]["dev"])


def test_without_the_extra_the_python_target_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = schemakit.load(str(SAMPLES / "docs-example-dataframe.json"))
    for name in [
        m for m in sys.modules if m == "datamodel_code_generator" or m.startswith("datamodel_code_generator.")
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "datamodel_code_generator", None)  # an import of it raises ImportError
    with pytest.raises(CodegenError) as refused:
        generate_package(schema)
    message = str(refused.value)
    assert "\n" not in message
    assert "pip install 'schemakit[codegen]'" in message
    # The TypeScript target needs none of it.
    package = generate_package(schema, target="typescript")
    assert package.file("index.ts")
