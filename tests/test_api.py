"""The public API is a deliberate, pinned list; everything else is private."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import schemakit
from schemakit import _exceptions

#: Derived from the one list in schemakit/__init__.py (`_LAZY`): add a public name there, nowhere else.
PUBLIC = sorted([*schemakit._LAZY, "__version__"])
INIT = Path(schemakit.__file__)
GUIDE = INIT.parents[1] / "docs" / "core.md"
_BLOCK = re.compile(r"<!-- public-api -->\n(?P<body>.*?)<!-- /public-api -->", re.DOTALL)


def test_public_names_are_derived_and_sorted() -> None:
    assert schemakit.__all__ == PUBLIC
    assert sorted(PUBLIC) == PUBLIC
    # Internal machinery, not API: the plan the engine is built from.
    assert "make_plan" not in PUBLIC


def test_the_typing_block_names_the_same_objects_as_the_table() -> None:
    """Type checkers read the `if TYPE_CHECKING:` imports; they must say exactly what the table says."""
    typed: dict[str, tuple[str, str]] = {}
    aliases: dict[str, str] = {}
    [block] = [
        node
        for node in ast.parse(INIT.read_text()).body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    for node in block.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                typed[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            [target] = node.targets
            assert isinstance(target, ast.Name)
            aliases[target.id] = node.value.id
    for public, private in aliases.items():
        typed[public] = typed.pop(private)
    assert typed == schemakit._LAZY


def render_public_api() -> str:
    by_module: dict[str, list[str]] = {}
    for name, (module, _) in sorted(schemakit._LAZY.items()):
        by_module.setdefault(module, []).append(f"`{name}`")
    rows = [f"| `{module}` | {', '.join(names)} |" for module, names in sorted(by_module.items())]
    return "\n".join(["| Where it lives | Names (all importable from `schemakit`) |", "|---|---|", *rows]) + "\n"


def test_the_guide_lists_the_public_api_from_the_table() -> None:
    match = _BLOCK.search(GUIDE.read_text())
    assert match is not None, "docs/core.md lacks the <!-- public-api --> block"
    expected = render_public_api()
    assert match["body"] == expected, "docs/core.md's public API list is stale; it should read:\n" + expected


def test_every_public_name_is_importable() -> None:
    for name in PUBLIC:
        assert getattr(schemakit, name) is not None, name


#: The feature subpackages, named like the CLI verbs, the test folders and the guides.
FEATURES = {"check", "cli", "codegen", "core", "diff", "mlflow", "mock", "runtime", "workspace"}


def test_layout_top_level_modules_are_private_and_features_are_subpackages() -> None:
    public_modules = {"testing"}
    modules = [m for m in pkgutil.iter_modules(schemakit.__path__) if not m.ispkg]
    packages = {m.name for m in pkgutil.iter_modules(schemakit.__path__) if m.ispkg}
    for module in modules:
        assert module.name.startswith("_") or module.name in public_modules, module.name
    assert len(modules) + 1 <= 8, [m.name for m in modules]  # + __init__
    assert packages >= FEATURES, FEATURES - packages


def test_every_module_imports_and_is_documented() -> None:
    # Command modules import lazily; importing them here proves they load on their own.
    for module in pkgutil.walk_packages(schemakit.__path__, prefix="schemakit."):
        if module.name.endswith("__main__") or ".templates" in module.name:
            continue
        imported = importlib.import_module(module.name)
        assert imported.__doc__, f"{module.name} has no docstring"


def test_exception_hierarchy_is_drawn_and_each_has_an_exit_code() -> None:
    drawing = _exceptions.__doc__ or ""
    classes = [obj for _, obj in inspect.getmembers(_exceptions, inspect.isclass) if issubclass(obj, schemakit.SchemakitError)]
    assert len(classes) >= 20
    for cls in classes:
        assert cls.__name__ in drawing, f"{cls.__name__} is missing from the hierarchy in _exceptions' docstring"
        assert cls.exit_code in (1, 2), cls
        assert cls.__name__ in PUBLIC, f"{cls.__name__} is not exported"
    assert schemakit.InvalidPayloadError.exit_code == 1
    assert schemakit.SourceError("x: no such file").format_message() == "x: no such file"


def test_lazy_commands_all_load() -> None:
    from click.testing import CliRunner

    from schemakit.cli.main import LAZY_COMMANDS, cli

    runner = CliRunner()
    for name in LAZY_COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output
