"""Generated code is clean under a user's own checks: `mypy --strict` (no plugins) and `ruff check
--isolated` (ruff's default rules), in a fresh venv holding only the package's declared
dependencies plus mypy and ruff, for every sample and model type (and the hostile document).

The venvs are built once per dependency set and cached under the temp folder, so only the
first run pays for `pip install`; when pip cannot install, the test is skipped saying why.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import tomllib

import schemakit
from schemakit.codegen.generate import MODEL_TYPES, generate_package, write_package

from . import documents
from .conftest import SAMPLES
from .test_golden import GOLDEN_SAMPLES
from .test_hostile import _document as hostile_document
from .test_stable import COLLIDING, HOSTILE_MODELS

TOOLS = ("mypy", "ruff")
VENVS = Path(tempfile.gettempdir()) / "schemakit-codegen-venvs"

CleanVenv = Callable[[tuple[str, ...]], Path]


def _build_venv(deps: tuple[str, ...]) -> Path:
    key = hashlib.sha256(json.dumps([sys.version, *deps, *TOOLS]).encode()).hexdigest()[:16]
    root = VENVS / key
    python = root / "bin" / "python"
    if (root / ".complete").exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True, capture_output=True)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *deps, *TOOLS], capture_output=True, text=True, check=False
    )
    if pip.returncode != 0:
        pytest.skip(f"pip cannot install {' '.join(deps + TOOLS)} into a fresh venv: {pip.stderr.strip()[-300:]}")
    (root / ".complete").write_text(" ".join(deps))
    return python


@pytest.fixture(scope="session")
def clean_venv() -> CleanVenv:
    """A fresh venv (cached) holding exactly `deps` plus mypy and ruff."""
    built: dict[tuple[str, ...], Path] = {}

    def get(deps: tuple[str, ...]) -> Path:
        if deps not in built:
            built[deps] = _build_venv(deps)
        return built[deps]

    return get


def _dependencies(package: Path) -> tuple[str, ...]:
    data = tomllib.loads((package / "pyproject.toml").read_text())
    return tuple(sorted(data["project"]["dependencies"]))


def _run(python: Path, args: list[str], cwd: Path) -> tuple[int, list[str]]:
    result = subprocess.run([str(python), "-m", *args], cwd=cwd, capture_output=True, text=True, check=False)
    return result.returncode, [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


def _findings(lines: list[str]) -> tuple[list[str], list[str]]:
    """(findings in generated code, findings in the vendored runtime), summary lines dropped."""
    ours, runtime = [], []
    for line in lines:
        if line.startswith(("Found ", "Success", "[*]", "All checks")) or ": note:" in line:
            continue
        (runtime if "/_runtime/" in line else ours).append(line)
    return ours, runtime


def _generate_all(tmp_path: Path) -> dict[tuple[str, ...], list[str]]:
    """Every sample x model type (and the hostile document) written under tmp_path, grouped by dependencies."""
    groups: dict[tuple[str, ...], list[str]] = {}

    def add(name: str, generated: object) -> None:
        write_package(generated, tmp_path)  # type: ignore[arg-type]
        groups.setdefault(_dependencies(tmp_path / name), []).append(name)

    hostile, _columns = hostile_document(tmp_path / "canary")
    (tmp_path / "hostile.json").write_text(json.dumps(hostile))
    for model_type in ("pydantic", "dataclasses", "typeddict"):
        name = f"hostile_{model_type}"
        add(name, generate_package(schemakit.load(str(tmp_path / "hostile.json")), package=name, model_type=model_type))
    # Served models named like what the package uses, and column names that collide once cleaned.
    names = documents.document({f"{n}-1": documents.records_model(COLLIDING) for n in HOSTILE_MODELS}, title="names")
    (tmp_path / "names.json").write_text(json.dumps(names))
    for model_type in MODEL_TYPES:
        name = f"names_{model_type}"
        add(name, generate_package(schemakit.load(str(tmp_path / "names.json")), package=name, model_type=model_type))
    for model_type in MODEL_TYPES:
        for index, sample in enumerate(GOLDEN_SAMPLES):
            name = f"pkg_{model_type}_{index}"
            generated = generate_package(schemakit.load(str(SAMPLES / sample)), package=name, model_type=model_type)
            add(name, generated)
            # The usage example in the package's README must pass too.
            readme = generated.file("README.md").decode()
            example = readme.split("```python\n", 1)[1].split("```", 1)[0]
            (tmp_path / f"example_{name}.py").write_text(example)
            groups[_dependencies(tmp_path / name)].append(f"example_{name}.py")
    return groups


def test_generated_code_passes_mypy_strict_and_ruff_in_a_fresh_venv(tmp_path: Path, clean_venv: CleanVenv) -> None:
    runtime_findings: list[str] = []
    for deps, targets in _generate_all(tmp_path).items():
        python = clean_venv(deps)
        _code, ruff = _run(python, ["ruff", "check", "--isolated", "--output-format", "concise", *targets], tmp_path)
        _code, mypy = _run(
            python, ["mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache"), *targets], tmp_path
        )
        ours, runtime = _findings(ruff + mypy)
        assert ours == [], f"with {', '.join(deps)}:\n" + "\n".join(ours)
        runtime_findings += runtime
    # The vendored runtime is schemakit/runtime/, copied as it is: it must be as clean as the rest.
    unique = sorted(
        {line.split(":", 1)[0].split("/_runtime/", 1)[1] + ":" + line.split(":", 1)[1] for line in runtime_findings}
    )
    assert unique == [], "findings in the vendored runtime (schemakit/runtime/):\n" + "\n".join(unique[:20])


SHORT_ROW = """\
from {pkg} import vanilla_simple_model as model

good: model.DataframeSplitPayload = {{"dataframe_split": {{"columns": ["int_col", "float_col", "string_col"], "data": [(3, 10.4, "abc")]}}}}
short: model.DataframeSplitPayload = {{"dataframe_split": {{"columns": ["int_col", "float_col", "string_col"], "data": [(3, 10.4)]}}}}
wrong: model.DataframeSplitPayload = {{"dataframe_split": {{"data": [(3, "not a number", "abc")]}}}}
built: model.DataframeSplitPayload = model.to_dataframe_split([model.Row(int_col=1, float_col=0.5, string_col="a")])
"""


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_mypy_rejects_a_hand_built_split_payload_with_a_short_row(
    tmp_path: Path, clean_venv: CleanVenv, model_type: str
) -> None:
    name = f"short_{model_type}"
    write_package(
        generate_package(
            schemakit.load(str(SAMPLES / "docs-example-dataframe.json")), package=name, model_type=model_type
        ),
        tmp_path,
    )
    (tmp_path / "use.py").write_text(SHORT_ROW.format(pkg=name))
    python = clean_venv(_dependencies(tmp_path / name))
    _code, lines = _run(python, ["mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy_cache"), "use.py"], tmp_path)
    errors = [line for line in lines if line.startswith("use.py:") and ": error:" in line]
    assert sorted({int(line.split(":")[1]) for line in errors}) == [4, 5], "\n".join(lines)
