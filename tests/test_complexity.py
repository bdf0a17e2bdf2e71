"""Modest functions and classes: no function over cyclomatic complexity 30, no class over 300 lines.

Measured with the standard library's ast, counting as radon counts (radon grade D or better is 30 or
less): one for the function, one per `if`/`elif`/conditional expression, loop (and its `else`), `except`
(and a `try`'s `else`), `assert`, comprehension clause and each extra operand of `and`/`or`, one per
`case`. Nested functions and classes count on their own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "schemakit"
MAX_COMPLEXITY = 30
MAX_CLASS_LINES = 300

#: TEMPORARY (issue 28): functions over the limit in areas other engineers are changing this wave
#: (runtime, mock, workspace, diff). The lead deletes an entry when its function is split; a new
#: entry needs a reason, not a habit.
TEMPORARY_OVER_LIMIT: set[str] = set()
#: TEMPORARY (issue 28), as above: classes over the limit in the emulator and the runtime.
TEMPORARY_LONG_CLASSES: set[str] = set()
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class _Complexity(ast.NodeVisitor):
    def __init__(self) -> None:
        self.value = 1

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, (ast.If, ast.IfExp, ast.Assert, ast.match_case)):
            self.value += 1
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.value += 1 + bool(node.orelse)
        elif isinstance(node, ast.Try):
            self.value += len(node.handlers) + bool(node.orelse)
        elif isinstance(node, ast.BoolOp):
            self.value += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            self.value += 1 + len(node.ifs)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
                self.visit(child)


def complexity(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    counter = _Complexity()
    for statement in function.body:
        if not isinstance(statement, (*FUNCTIONS, ast.ClassDef)):
            counter.visit(statement)
    return counter.value


def _definitions() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "templates" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

        def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.AST]]:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (*FUNCTIONS, ast.ClassDef)):
                    name = f"{prefix}.{child.name}"
                    yield name, child
                    yield from walk(child, name)
                else:
                    yield from walk(child, prefix)

        yield from walk(ast.parse(path.read_text()), module)


def test_no_function_is_too_complex() -> None:
    over = {
        name: complexity(node)
        for name, node in _definitions()
        if isinstance(node, FUNCTIONS) and complexity(node) > MAX_COMPLEXITY
    }
    assert {n: c for n, c in over.items() if n not in TEMPORARY_OVER_LIMIT} == {}
    # An allowed function that is now simple enough leaves the list.
    assert set(over) >= TEMPORARY_OVER_LIMIT, sorted(TEMPORARY_OVER_LIMIT - set(over))


def test_no_class_is_too_long() -> None:
    long = {
        name: node.end_lineno - node.lineno + 1
        for name, node in _definitions()
        if isinstance(node, ast.ClassDef) and node.end_lineno is not None
    }
    over = {n: size for n, size in long.items() if size > MAX_CLASS_LINES}
    assert {n: size for n, size in over.items() if n not in TEMPORARY_LONG_CLASSES} == {}
    assert set(over) >= TEMPORARY_LONG_CLASSES, sorted(TEMPORARY_LONG_CLASSES - set(over))


def test_the_measure_counts_branches() -> None:
    source = "def f(a, b):\n    if a and b:\n        return [x for x in a if x]\n    for _ in b:\n        pass\n"
    [function] = ast.parse(source).body
    assert isinstance(function, ast.FunctionDef)
    assert complexity(function) == 1 + 1 + 1 + 2 + 1
