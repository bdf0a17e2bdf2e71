"""The package's layout is part of its design: feature subpackages, no import cycles, modest modules.

Read statically (ast), so the test sees every import, including ones inside functions, under
`TYPE_CHECKING` or a run would never reach, and imports nothing from the package under test.
"""

from __future__ import annotations

import ast
import contextlib
import re
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


#: A feature's reader of a source kind, named by `module:function` in the core's table of sources and imported
#: only when a source of that kind is read: the one sanctioned way for the core to reach a feature (the feature
#: imports the core; the core names it by string, so `import schemakit` never pulls the feature in).
LAZY_FEATURE_SOURCES = {
    ("schemakit.core.sources", "schemakit.workspace.client"),  # endpoint:[PROFILE/]NAME
    ("schemakit.core.sources", "schemakit.mlflow.document"),  # mlflow:PATH
}

_DOTTED_READER = re.compile(r"^(schemakit(?:\.\w+)+):\w+$")


def _imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import: at module level, inside functions, under `if TYPE_CHECKING:`, in `try` blocks."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _graph() -> dict[str, set[str]]:
    """Module -> the schemakit modules it imports, however deferred, or names as `module:function` to import."""
    modules = dict(_modules())
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        for node in _imports(tree):
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
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = _DOTTED_READER.match(node.value)
                if match and match.group(1) in modules and match.group(1) != name:
                    graph[name].add(match.group(1))
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in done:
            return None
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        visiting.append(node)
        for dep in sorted(graph[node]):
            found = visit(dep)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return None


def test_no_import_cycle() -> None:
    graph = _graph()
    # A package's __init__ importing its own modules is how packages work, not a cycle between features.
    for name, deps in graph.items():
        graph[name] = {
            d
            for d in deps
            if not d.startswith(name + ".") and (name, d) not in LAZY_FEATURE_SOURCES
        }
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_allow_lists_name_real_edges() -> None:
    """An allowed edge that no longer exists is a stale entry: delete it."""
    graph = _graph()
    assert {(a, b) for a, b in LAZY_FEATURE_SOURCES if b not in graph[a]} == set()


def test_the_layout_test_sees_deferred_imports() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\ndef f():\n    from b import c\n"
    )
    assert sorted(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name for n in _imports(tree)) == [
        "a",
        "b",
        "typing",
    ]


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
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                # A derived __all__ (schemakit/__init__.py sorts its table) is checked by test_api instead.
                with contextlib.suppress(ValueError):
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


def test_the_table_rules_load_without_the_engine() -> None:
    """`docs/render_rules.py` and `--list-rules` read the rule table; pyarrow is an extra, the table is not."""
    import subprocess
    import sys

    probe = "import sys, schemakit.table.rules; print(sorted({'pyarrow', 'schemakit.table.engine'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
