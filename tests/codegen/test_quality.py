"""The generated code passes `mypy --strict` and `ruff check` for every sample and model type."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import schemakit
from schemakit.codegen.generate import MODEL_TYPES, generate_package, write_package

from .conftest import SAMPLES
from .test_golden import GOLDEN_SAMPLES
from .test_hostile import _document as hostile_document

MYPY_CONFIG = """\
[mypy]
strict = True
python_version = 3.10

# The validation engine uses jsonschema (untyped) only when it is installed.
[mypy-jsonschema.*]
ignore_missing_imports = True
"""

RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF,C4"


def test_generated_code_passes_mypy_strict_and_ruff(tmp_path: Path) -> None:
    packages: list[str] = []
    examples: list[str] = []
    hostile, _columns = hostile_document(tmp_path / "canary")
    (tmp_path / "hostile.json").write_text(json.dumps(hostile))
    for model_type in ("pydantic", "dataclasses", "typeddict"):
        name = f"hostile_{model_type}"
        schema = schemakit.load(str(tmp_path / "hostile.json"))
        write_package(generate_package(schema, package=name, model_type=model_type), tmp_path)
        packages.append(name)
    for model_type in MODEL_TYPES:
        for index, sample in enumerate(GOLDEN_SAMPLES):
            name = f"pkg_{model_type}_{index}"
            schema = schemakit.load(str(SAMPLES / sample))
            generated = generate_package(schema, package=name, model_type=model_type)
            write_package(generated, tmp_path)
            packages.append(name)
            # The usage example in the package's README must type-check too.
            readme = generated.file("README.md").decode()
            example = readme.split("```python\n", 1)[1].split("```", 1)[0]
            (tmp_path / f"example_{name}.py").write_text(example)
            examples.append(f"example_{name}.py")
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--target-version",
            "py310",
            "--select",
            RUFF_RULES,
            "--ignore",
            "E501,RUF036",
            "--output-format",
            "concise",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    (tmp_path / "mypy.ini").write_text(MYPY_CONFIG)
    # One mypy process for every package of every model type: start-up dominates its run time.
    mypy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            "mypy.ini",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            *packages,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
