"""Issue 12, crashes in generated code: hostile names, big enums, non-finite enums, the package folder's mode.

Served models named after modules the generated code imports (`os`, `httpx`, `time`, `asyncio`, `quote`...), after
names it defines (`Client`, `errors`, `models`), Python keywords and builtins (`None`, `True`, `type`, `self`),
library names (`Any`, `Field`, `BaseModel`) and names that collide once sanitised (`a-b`, `a_b`, `a.b`, `A-B`) get
distinct safe names: the package generates, imports, answers real calls against the emulator, and passes
`mypy --strict` and ruff.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.codegen.generate import generate_package, write_package
from schemakit.testing import MockServer

from ..codegen.node import link_node_modules
from .hostile import ROOT, assert_clean, document, run_cli, write_json

pytestmark = pytest.mark.timeout(60)

HOSTILE_MODEL_NAMES = [
    "os", "httpx", "time", "type", "self", "annotations", "asyncio", "quote", "json", "sys", "re", "typing",
    "client", "errors", "models", "validation", "Client", "AsyncClient", "_runtime", "_auth", "_plans", "_codec",
    "None", "True", "False", "Any", "Field", "BaseModel", "Struct", "TypedDict", "dataclass", "Optional",
    "class", "import", "def", "__init__", "__name__", "_", "0", "1st", "a-b", "a_b", "a.b", "A-B", "a--b",
]  # fmt: skip
MODEL_TYPES = ["pydantic", "dataclasses", "typeddict", "msgspec"]
ROW = {"n": 1, "s": "x"}


def _doc(big_enum: bool = True) -> dict[str, object]:
    # msgspec decodes enum ints only within 64 bits (a documented limit it refuses clearly); the others take 2^63+.
    enum = [1, 2**63, 2**64 - 1] if big_enum else [1, 2]
    props = {"n": {"type": "integer", "enum": enum}, "s": {"type": "string"}, "self": {"type": "string"}}
    return document(dict.fromkeys(HOSTILE_MODEL_NAMES, props), title="hostile-names")


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, ModuleType], Path]]:
    out = tmp_path_factory.mktemp("names")
    doc = write_json(out / "doc.json", _doc())
    schemas = {True: schemakit.load(str(doc)), False: schemakit.load(str(write_json(out / "small.json", _doc(False))))}
    names = {t: f"hostile_names_{t}" for t in MODEL_TYPES}
    failures = []
    for model_type, name in names.items():
        schema = schemas[model_type != "msgspec"]
        try:
            write_package(generate_package(schema, package=name, model_type=model_type), out)
        except SchemakitError as exc:
            failures.append(f"{model_type}: {exc}")
    if failures:
        pytest.fail("hostile served-model names were refused instead of renamed: " + "; ".join(failures))
    sys.path.insert(0, str(out))
    importlib.invalidate_caches()
    try:
        # The live calls go to an emulator of the 64-bit document: big enums in the emulator have their own test.
        yield out, {t: importlib.import_module(n) for t, n in names.items()}, out / "small.json"
    finally:
        sys.path.remove(str(out))
        for module in [m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in names.values())]:
            del sys.modules[module]


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_hostile_names_generate_import_and_answer(
    packages: tuple[Path, dict[str, ModuleType], Path], model_type: str
) -> None:
    _out, modules, doc = packages
    pkg = modules[model_type]
    methods = sorted(m for m in dir(pkg.Client) if m.startswith("predict_"))
    assert len(methods) == len(HOSTILE_MODEL_NAMES), f"names collided: {methods}"
    with MockServer([doc], token="dapi-test") as server:
        base = server.endpoint_url("hostile-names")
        with pkg.Client(base, token="dapi-test", max_retries=0) as client:
            for method in methods:
                getattr(client, method)({"dataframe_records": [ROW]}, validate=False)
        paths = {r.path for r in server.requests}
    for name in HOSTILE_MODEL_NAMES:
        assert any(p.endswith(f"/served-models/{name}/invocations") for p in paths), (
            f"{name!r} was never called: {sorted(paths)}"
        )


def test_hostile_names_pass_mypy_strict_and_ruff(packages: tuple[Path, dict[str, ModuleType], Path]) -> None:
    out, modules, _doc_path = packages
    names = [m.__name__ for m in modules.values()]
    # Type-check for the oldest Python the generated package says it supports.
    oldest = re.search(r'requires-python\s*=\s*">=\s*(3\.\d+)', (out / names[0] / "pyproject.toml").read_text())
    version = oldest.group(1) if oldest else "3.10"
    (out / "mypy.ini").write_text(
        f"[mypy]\nstrict = True\npython_version = {version}\n\n[mypy-jsonschema.*]\nignore_missing_imports = True\n"
    )
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--target-version", "py310", "--select", "E,F,W,I,B,UP,SIM,RUF,C4", "--ignore", "E501,RUF036", "--output-format", "concise", *names],
        cwd=out, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", str(out / ".mypy_cache"), *names],
        cwd=out, capture_output=True, text=True, check=False, timeout=280,
    )  # fmt: skip
    assert (ruff.returncode, mypy.returncode) == (0, 0), (
        f"ruff:\n{ruff.stdout[-4000:]}{ruff.stderr[-1000:]}\nmypy:\n{mypy.stdout[-4000:]}{mypy.stderr[-1000:]}"
    )


test_hostile_names_pass_mypy_strict_and_ruff = pytest.mark.timeout(300)(test_hostile_names_pass_mypy_strict_and_ruff)


def test_enum_ints_beyond_64_bits_in_the_emulator_and_check(tmp_path: Path, env: dict[str, str]) -> None:
    doc = write_json(
        tmp_path / "doc.json", document({"m-1": {"n": {"type": "integer", "enum": [1, 2**63, 2**64 + 1]}}})
    )
    payload = {"dataframe_records": [{"n": 1}, {"n": 2**63}]}
    with MockServer([doc], token="dapi-test") as server, server.client() as client:
        answer = client.post("/serving-endpoints/hostile-endpoint/served-models/m-1/invocations", json=payload)
        assert answer.status_code < 500, answer.text
    assert_clean(run_cli("check", str(doc), str(write_json(tmp_path / "p.json", payload)), env=env), codes=(0, 1))


@pytest.mark.parametrize("names", [["a-b", "a_b"], ["a.b", "A-B"], ["None", "none"], ["x" * 300, "x" * 301]])
def test_colliding_names_cli(tmp_path: Path, names: list[str], env: dict[str, str]) -> None:
    doc = write_json(tmp_path / "doc.json", document({n: {"n": {"type": "integer"}} for n in names}, title="collide"))
    run = run_cli("codegen", str(doc), "-o", str(tmp_path / "out"), env=env)
    assert_clean(run, codes=(0,))


def _tsc() -> str | None:
    local = ROOT / ".venv" / "node" / "node_modules" / ".bin" / "tsc"
    return os.environ.get("SCHEMAKIT_TSC") or (str(local) if local.exists() else shutil.which("tsc"))


def test_non_finite_enum_values_are_refused_or_compile(tmp_path: Path, env: dict[str, str]) -> None:
    doc = json.dumps(
        document({"m-1": {"f": {"type": "number", "enum": ["NANX", "INFX", "NINFX", 1.5]}}}, title="nonfinite")
    )
    path = tmp_path / "doc.yaml"
    path.write_text(doc.replace('"NANX"', ".nan").replace('"INFX"', ".inf").replace('"NINFX"', "-.inf"))
    validate = run_cli("validate", str(path), env=env)
    assert_clean(validate)
    codegen = run_cli("codegen", "--target", "typescript", str(path), "-o", str(tmp_path / "ts"), env=env)
    assert_clean(codegen)
    if validate.code == 0:
        assert codegen.code == 0, f"validate accepted what codegen refuses\n{codegen}"
    if codegen.code != 0:
        return
    tsc = _tsc()
    if tsc is None:
        pytest.skip("TypeScript compiler not installed (set SCHEMAKIT_TSC)")
    files = [str(p) for p in (tmp_path / "ts").rglob("*.ts")]
    link_node_modules(tmp_path)  # the generated package's one dependency, re2js
    compiled = subprocess.run(
        [tsc, "--strict", "--noEmit", "--target", "es2020", "--moduleResolution", "node", *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o755), (0o077, 0o700), (0o002, 0o775)])
def test_package_folder_follows_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    generated = generate_package(
        schemakit.load(str(ROOT / "samples" / "docs-example-dataframe.json")), package="umask_pkg"
    )
    old = os.umask(umask)
    try:
        write_package(generated, tmp_path)
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "umask_pkg").stat().st_mode)
    assert mode == expected, f"package folder is {oct(mode)} under umask {oct(umask)}"
