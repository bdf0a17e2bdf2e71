"""node, tsc and the generated TypeScript package's one npm dependency (re2js), for the tests.

`tsc` is the one `make setup` installs into .venv/node (or SCHEMAKIT_TSC). re2js is looked for beside
it (the Makefile installs it there too); failing that it is installed once, with npm, into a cache
folder kept across sessions (SCHEMAKIT_NODE_CACHE, default ~/.cache/schemakit-tests/node). A test
folder gets it through a `node_modules` link, which both tsc and node find by walking up.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

from schemakit.codegen.typescript import TYPESCRIPT_DEPENDENCIES

ROOT = Path(__file__).resolve().parents[2]


def _tsc() -> str | None:
    found = os.environ.get("SCHEMAKIT_TSC") or str(ROOT / ".venv" / "node" / "node_modules" / ".bin" / "tsc")
    return found if Path(found).exists() else shutil.which("tsc")


TSC = _tsc()
NODE = shutil.which("node")
TSC_FLAGS = ["--strict", "--target", "es2022", "--module", "commonjs", "--lib", "es2022,dom", "--skipLibCheck"]


def _has_dependencies(node_modules: Path) -> bool:
    return all((node_modules / name / "package.json").is_file() for name in TYPESCRIPT_DEPENDENCIES)


@functools.cache
def node_modules() -> Path | None:
    """A node_modules folder holding the generated package's dependencies, or None (no npm, no network)."""
    if TSC is not None:
        beside = Path(TSC).resolve().parents[2]
        if beside.name == "node_modules" and _has_dependencies(beside):
            return beside
    cache = Path(os.environ.get("SCHEMAKIT_NODE_CACHE") or Path.home() / ".cache" / "schemakit-tests" / "node")
    wanted = json.dumps(TYPESCRIPT_DEPENDENCIES, sort_keys=True)
    stamp = cache / "installed.json"
    if _has_dependencies(cache / "node_modules") and stamp.is_file() and stamp.read_text() == wanted:
        return cache / "node_modules"
    npm = shutil.which("npm")
    if npm is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{version.lstrip('^')}" for name, version in TYPESCRIPT_DEPENDENCIES.items()]
    done = subprocess.run(
        [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--silent", *specs],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0 or not _has_dependencies(cache / "node_modules"):
        return None
    stamp.write_text(wanted)
    return cache / "node_modules"


def link_node_modules(folder: Path) -> None:
    """Make `folder` (and everything under it) see the dependencies, as `npm install` there would."""
    found = node_modules()
    if found is None:
        import pytest

        pytest.skip("re2js (the generated TypeScript package's dependency) could not be installed with npm")
    link = folder / "node_modules"
    if not link.exists():
        link.symlink_to(found, target_is_directory=True)


def tsc_compile(folder: Path, files: list[Path], *, emit: bool = True) -> subprocess.CompletedProcess[str]:
    """`tsc --strict` over `files` (under `folder/src` when emitting: the output goes to `folder/js`)."""
    assert TSC is not None
    link_node_modules(folder)
    out = ["--outDir", str(folder / "js"), "--rootDir", str(folder / "src")] if emit else ["--noEmit"]
    return subprocess.run(
        [TSC, *TSC_FLAGS, *out, *map(str, files)], capture_output=True, text=True, check=False, timeout=300
    )
