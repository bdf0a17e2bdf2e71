"""Fixtures for code generation tests: generate a package into a temp folder and import it, cleanly."""

from __future__ import annotations

import importlib
import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import schemakit
from schemakit.codegen.generate import generate_package, write_package

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
GOLDEN = Path(__file__).resolve().parent / "golden"
_counter = itertools.count()

# Golden packages are data, never tests, whatever their modules are called.
collect_ignore_glob = ["golden/*"]

GeneratePackage = Callable[..., ModuleType]


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[GeneratePackage]:
    """`generated("docs-example-dataframe.json", "pydantic")` writes and imports a package under a unique name.

    The package and its modules leave sys.modules and sys.path when the test ends.
    """
    names: list[str] = []
    sys.path.insert(0, str(tmp_path))

    def make(source: str | Path, model_type: str = "pydantic") -> ModuleType:
        path = Path(source) if Path(source).is_absolute() else SAMPLES / source
        name = f"skgen_{next(_counter)}_{model_type}"
        write_package(generate_package(schemakit.load(str(path)), package=name, model_type=model_type), tmp_path)
        names.append(name)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield make
    sys.path.remove(str(tmp_path))
    for module in list(sys.modules):
        if any(module == n or module.startswith(n + ".") for n in names):
            del sys.modules[module]
