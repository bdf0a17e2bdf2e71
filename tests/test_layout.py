"""The package's layout is part of its design: feature subpackages, no import cycles, modest modules.

Read statically (ast), so the test sees every module-level import, including ones a run
would never reach, and imports nothing from the package under test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "schemakit"
MAX_MODULE_LINES = 1_200


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "templates" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str | None:
    if node.level == 0:
        return node.module
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module is imported: not those in functions or `if TYPE_CHECKING:` blocks."""
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.Try):
            for inner in node.body:
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        for node in _module_level_imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                resolved = _resolve(name, node, path.name == "__init__.py")
                if resolved:
                    targets = [resolved] + [f"{resolved}.{alias.name}" for alias in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def test_no_import_cycle() -> None:
    graph = _graph()
    # A package's __init__ importing its own modules is how packages work, not a cycle between features.
    for name, deps in graph.items():
        graph[name] = {d for d in deps if not d.startswith(name + ".")}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        assert node not in visiting, " -> ".join([*visiting[visiting.index(node) :], node])
        visiting.append(node)
        for dep in sorted(graph[node]):
            visit(dep)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_layout_is_a_few_top_level_modules_and_feature_subpackages() -> None:
    top_modules = list(PACKAGE.glob("*.py"))
    subpackages = [p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()]
    assert len(top_modules) <= 8, sorted(p.name for p in top_modules)
    assert len(subpackages) >= 6, sorted(p.name for p in subpackages)


def test_no_module_is_too_long() -> None:
    long = {name: len(path.read_text().splitlines()) for name, path in _modules()}
    assert {n: size for n, size in long.items() if size > MAX_MODULE_LINES} == {}


def test_the_runtime_imports_only_the_standard_library_and_itself() -> None:
    """Generated packages carry `schemakit/runtime/` as `_runtime/`: nothing in it may import schemakit."""
    allowed_third_party = {"msgspec", "re2", "httpx"}
    for name, path in _modules():
        if not name.startswith("schemakit.runtime"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top = node.module.split(".")[0]
            elif isinstance(node, ast.Import):
                top = node.names[0].name.split(".")[0]
            else:
                continue
            assert top != "schemakit", f"{name} imports {top}: the runtime must use relative imports"
            assert top in allowed_third_party or _is_stdlib(top), f"{name} imports {top}"


def _is_stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names or name == "__future__"


def test_modules_import_only_what_other_modules_export() -> None:
    """A name taken from another schemakit module is in that module's `__all__` (or is a submodule)."""
    modules = dict(_modules())
    exported: dict[str, set[str]] = {}
    for name, path in modules.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                exported[name] = set(ast.literal_eval(node.value))
    outside = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or node.level or node.module not in exported:
                continue
            for alias in node.names:
                if alias.name not in exported[node.module] and f"{node.module}.{alias.name}" not in modules:
                    outside.append(f"{name} imports {node.module}.{alias.name}")
    assert outside == []
