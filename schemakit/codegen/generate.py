"""`schemakit codegen`: a typed client package per endpoint, from the resolved model.

One pass for every target: check the options and the document, plan the served models (modules,
class names, none taking a name the generated modules use: `codegen.reserved`), then hand the plans
to the target's module from `TARGETS`. Output is deterministic: the same document and options give
byte-identical files.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from typing import Any

from schemakit._exceptions import CodegenError
from schemakit.codegen import pytarget, typescript
from schemakit.codegen.naming import module_name
from schemakit.codegen.package import (
    GENERATED_MARKER,
    VERSION_LINE,
    CodegenResult,
    GeneratedFile,
    GeneratedPackage,
    write_package,
)
from schemakit.codegen.plans import ModelPlan, TypePlanner, plan_models
from schemakit.codegen.pytarget import MODEL_TYPES, RUNTIME_DIR, package_dependencies, runtime_files
from schemakit.codegen.reserved import reserved_identifiers
from schemakit.core.model import EndpointSchema
from schemakit.core.policy import require_usable

__all__ = [
    "GENERATED_MARKER",
    "MODEL_TYPES",
    "RUNTIME_DIR",
    "TARGETS",
    "VERSION_LINE",
    "CodegenResult",
    "GeneratedFile",
    "GeneratedPackage",
    "generate_package",
    "package_dependencies",
    "runtime_files",
    "write_package",
]

Target = Callable[
    [EndpointSchema, str, str, list[ModelPlan], TypePlanner, Mapping[str, Any]], tuple[GeneratedFile, ...]
]

#: `--target` choices: each is one module's entry point, given the same plans.
TARGET_MODULES: dict[str, Target] = {
    "python": pytarget.generate_python,
    "typescript": typescript.generate_typescript,
}
TARGETS = tuple(TARGET_MODULES)


def generate_package(
    schema: EndpointSchema,
    *,
    package: str | None = None,
    model_type: str = "pydantic",
    target: str = "python",
    unsupported: str = "warn",
    force: bool = False,
) -> GeneratedPackage:
    """Generate the package for one endpoint, in memory.

    `target` is `python` (the typed package) or `typescript` (`index.ts`: types, builders, a
    validator and a fetch client; `model_type` does not apply to it). A document with errors
    is refused (InvalidDocumentError), as `schemakit validate` would report them. When a served
    model's schema uses a keyword the vendored runtime does not evaluate, `unsupported="warn"`
    adds a warning to the result and `"refuse"` raises CodegenError.
    """
    if target not in TARGET_MODULES:
        raise CodegenError(f"unknown target {target!r} (choose one of: {', '.join(TARGETS)})")
    if model_type not in MODEL_TYPES:
        choices = ", ".join(MODEL_TYPES)
        raise CodegenError(f"unknown model type {model_type!r} (choose one of: {choices})")
    if unsupported not in ("warn", "refuse"):
        raise CodegenError(f"unknown unsupported-keyword policy {unsupported!r} (choose warn or refuse)")
    # The library's policy (the CLI's too): no code from a document without models, or with errors.
    require_usable(schema, force=force)
    name = package if package is not None else module_name(schema.title, fallback="endpoint") + "_client"
    if package is None and not name.isascii():
        name = "endpoint_client"
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise CodegenError(f"--package {name!r} is not a valid Python package name (use letters, digits and _)")
    planner = TypePlanner(reserved_identifiers())
    plans = plan_models(schema, planner)
    plans_literal = _plans_literal(schema)
    warnings = _unsupported_warnings(plans_literal, unsupported)
    files = TARGET_MODULES[target](schema, name, model_type, plans, planner, plans_literal)
    return GeneratedPackage(name, "typescript" if target == "typescript" else model_type, files, warnings)


def _unsupported_warnings(plans: Mapping[str, Any], policy: str) -> tuple[str, ...]:
    out = []
    for served, plan in plans.items():
        keywords = list(plan.get("unsupported") or ())
        if not keywords:
            continue
        message = (
            f"served model {served!r} uses JSON Schema keyword(s) the vendored runtime does not evaluate "
            f"({', '.join(keywords)}): the generated validator will refuse to check its payloads "
            "(use --unsupported refuse to make this an error)"
        )
        if policy == "refuse":
            raise CodegenError(message)
        out.append(message)
    return tuple(out)


def _plans_literal(schema: EndpointSchema) -> dict[str, Any]:
    from schemakit.check.validator import make_plan

    return {served.name: make_plan(served) for served in schema.models}
