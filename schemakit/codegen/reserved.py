"""Every identifier the generated modules define or use, in both languages, derived from the templates.

A served model becomes a Python module beside `client.py` and a TypeScript namespace beside
`BaseClient`: named `require`, `report` or `client_options`, it would shadow what the package itself
imports or defines. Rather than keep a list by hand (which goes stale with every template change),
the names are read from the templates themselves:

- Python: the package is rendered for a probe document (`templates/probe.json`: every feature a
  template has a branch for) in every model type, each module is parsed with `ast`, and every name it
  binds or reads is kept when it appears in a template's own text (so names that came from the probe
  document are not);
- TypeScript: every identifier of `runtime.ts` and `index.ts.j2` outside comments and strings, and the
  names `runtime.ts` exports.

The result is computed once per process (about a tenth of a second).
"""

from __future__ import annotations

import ast
import functools
import json
import re

from schemakit.codegen.package import templates_dir
from schemakit.codegen.plans import TypePlanner, plan_models
from schemakit.codegen.pytarget import MODEL_TYPES, RUNTIME_DIR, python_sources
from schemakit.core.resolve import resolve

__all__ = ["python_identifiers", "reserved_identifiers", "typescript_exports", "typescript_identifiers"]

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# Comments, then string and template literals (their text names nothing in the module's scope).
_TS_NOISE = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'", re.DOTALL)
_TS_EXPORT = re.compile(
    r"^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:class|interface|type|function\*?|const|let|var|enum)\s+"
    r"([A-Za-z_$][\w$]*)",
    re.MULTILINE,
)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@functools.cache
def reserved_identifiers() -> frozenset[str]:
    """The names no served model's module, class prefix or class may take (both languages)."""
    return python_identifiers() | typescript_identifiers()


@functools.cache
def python_identifiers() -> frozenset[str]:
    """Names the generated Python modules bind or read, and the package's own module names."""
    folder = templates_dir()
    template_text = "\n".join(p.read_text("utf-8") for p in sorted((folder / "python").glob("*.j2")))
    in_templates = set(_IDENTIFIER.findall(template_text))
    probe = resolve(json.loads((folder / "probe.json").read_text("utf-8")), source="probe.json")
    from schemakit.check.validator import make_plan

    plans_literal = {served.name: make_plan(served) for served in probe.models}
    found: set[str] = {RUNTIME_DIR, "models"}
    parsed: set[str] = set()
    for model_type in MODEL_TYPES:
        planner = TypePlanner()
        plans = plan_models(probe, planner)
        probe_modules = {plan.module for plan in plans}
        sources = python_sources(probe, "zzprobe_client", model_type, plans, planner, plans_literal)
        for path, text in sources.items():
            if not path.endswith(".py") or text in parsed:
                continue
            parsed.add(text)
            stem = path[: -len(".py")]
            if stem not in probe_modules:
                found.add(stem)
            found |= _python_names(ast.parse(text))
    return frozenset(name for name in found if name in in_templates)


def _python_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Attribute):
            # `self.retry_delay`, `errors.ClientError`: harmless as attributes, yet a module of that name
            # would be confusing beside them; keeping them costs a `_model` suffix at most.
            names.add(node.attr)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def _typescript_sources() -> tuple[str, str]:
    folder = templates_dir() / "typescript"
    return (folder / "runtime.ts").read_text("utf-8"), (folder / "index.ts.j2").read_text("utf-8")


@functools.cache
def typescript_exports() -> frozenset[str]:
    """What `runtime.ts` exports (and `index.ts` re-exports with `export *`)."""
    runtime, _index = _typescript_sources()
    return frozenset(_TS_EXPORT.findall(runtime))


@functools.cache
def typescript_identifiers() -> frozenset[str]:
    """Every identifier of the TypeScript runtime and the index template outside comments and strings."""
    runtime, index = _typescript_sources()
    code = _TS_NOISE.sub(" ", runtime) + "\n" + _TS_NOISE.sub(" ", _JINJA.sub(" ", index))
    return frozenset(_IDENTIFIER.findall(code)) | typescript_exports()
