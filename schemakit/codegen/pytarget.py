"""The Python target: a typed package per endpoint, from the plans.

The row, params and response types come from datamodel-code-generator (the `codegen` extra), fed a
JSON Schema built from the resolved model (with class names and field identifiers chosen by schemakit,
so the templates know them). Builders, the validator, the codec and the clients come from schemakit's
own Jinja2 templates. Document content reaches generated code only as escaped literals (`repr`) or
sanitized docstrings.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemakit._exceptions import CodegenError
from schemakit.codegen.package import GENERATED_MARKER, VERSION_LINE, GeneratedFile, environment, finish
from schemakit.codegen.plans import ModelPlan, TypePlanner
from schemakit.codegen.python import escape_source, payload_types, readme_example
from schemakit.core.model import EndpointSchema

__all__ = ["MODEL_TYPES", "RUNTIME_DIR", "generate_python", "package_dependencies", "python_sources", "runtime_files"]

#: `--model-type` choices, mapped to datamodel-code-generator's output model types.
MODEL_TYPES: dict[str, str] = {
    "pydantic": "pydantic_v2.BaseModel",
    "dataclasses": "dataclasses.dataclass",
    "typeddict": "typing.TypedDict",
    "msgspec": "msgspec.Struct",
}

#: Where the runtime is vendored inside every generated Python package.
RUNTIME_DIR = "_runtime"

#: The one-line answer when the Python target runs without its optional dependency.
MISSING_GENERATOR = (
    "codegen --target python needs datamodel-code-generator, which is not installed: "
    "pip install 'schemakit[codegen]' (the TypeScript target works without it)"
)


def generate_python(
    schema: EndpointSchema,
    name: str,
    model_type: str,
    plans: list[ModelPlan],
    planner: TypePlanner,
    plans_literal: Mapping[str, Any],
) -> tuple[GeneratedFile, ...]:
    """Every file of the Python package: the rendered modules, `models.py` and the vendored runtime."""
    if model_type == "msgspec":
        _check_msgspec_keys(planner)
    header = _header(schema)
    models_source = _run_datamodel_codegen(planner, model_type, header)
    files = python_sources(schema, name, model_type, plans, planner, plans_literal)
    files["models.py"] = escape_source(models_source)
    files["py.typed"] = ""
    generated = [GeneratedFile(path, finish(text).encode("utf-8")) for path, text in sorted(files.items())]
    # The runtime is copied as it is, so `codegen --check` notices a stale copy byte for byte.
    generated.extend(runtime_files())
    generated.sort(key=lambda f: f.path)
    return tuple(generated)


def python_sources(
    schema: EndpointSchema,
    name: str,
    model_type: str,
    plans: list[ModelPlan],
    planner: TypePlanner,
    plans_literal: Mapping[str, Any],
) -> dict[str, str]:
    """The modules rendered from schemakit's own templates (all but `models.py`), as text by path."""
    from schemakit.runtime import RUNTIME_VERSION

    header = _header(schema)
    context = {
        "planner": planner,
        "schema": schema,
        "package": name,
        "model_type": model_type,
        "header": header,
        "plans": plans,
        "class_specs": planner.class_specs(),
        "class_names": sorted(planner.classes),
        "plans_literal": {p.base_key: _version_free(plans_literal[p.served.name]) for p in plans},
        "served_names": {p.base_key: p.served.name for p in plans},
        "server": schema.server,
        "runtime_major": int(RUNTIME_VERSION.split(".", 1)[0]),
        "runtime_version": RUNTIME_VERSION,
        "engine_module": _runtime_module("Engine"),
        "report_module": _runtime_module("PayloadReport"),
        "dependencies": package_dependencies(model_type, plans_literal),
        "readme_example": readme_example(name, plans[0], model_type, planner),
        "VERSION_LINE": VERSION_LINE,
        "streams": any(p.streams for p in plans),
        "endpoint_payload": " | ".join([*(f"{p.module}.Payload" for p in plans), "bytes"]),
        "endpoint_response": f"{plans[0].module}.Response" if len(plans) == 1 and plans[0].response else "Any",
        "runtime_packages": sorted({f"{name}.{p.path.rsplit('/', 1)[0].replace('/', '.')}" for p in runtime_files()}),
        "library": {
            "pydantic": "pydantic",
            "dataclasses": "dataclasses",
            "typeddict": "typing",
            "msgspec": "msgspec",
        }[model_type],
    }
    env = environment()
    files: dict[str, str] = {}
    for template_name, output in (
        ("__init__.py.j2", "__init__.py"),
        ("_version.py.j2", "_version.py"),
        ("_auth.py.j2", "_auth.py"),
        ("_codec.py.j2", "_codec.py"),
        ("_plans.py.j2", "_plans.py"),
        ("validation.py.j2", "validation.py"),
        ("errors.py.j2", "errors.py"),
        ("client.py.j2", "client.py"),
        ("README.md.j2", "README.md"),
        ("pyproject.toml.j2", "pyproject.toml"),
    ):
        files[output] = env.get_template(f"python/{template_name}").render(context)
    if any(p.column_formats for p in plans):
        files["_batching.py"] = env.get_template("python/_batching.py.j2").render(context)
    model_template = env.get_template("python/model.py.j2")
    for plan in plans:
        files[f"{plan.module}.py"] = model_template.render(
            {**context, "plan": plan, "payloads": payload_types(plan, planner)}
        )
    return files


def package_dependencies(model_type: str, plans: Mapping[str, Any]) -> list[str]:
    """What a generated Python package really imports: httpx, its model library, re2 for patterns."""
    deps = ["httpx>=0.27"]
    if model_type == "pydantic":
        deps.append("pydantic>=2.6")
    elif model_type == "msgspec":
        deps.append("msgspec>=0.18")
    if any(_has_pattern(plan.get("request_schema")) for plan in plans.values()):
        deps.append("google-re2>=1.1")
    return deps


def _has_pattern(node: Any) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if isinstance(item.get("pattern"), str):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _version_free(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A plan without the served-model name and path: `_plans.py` fills them in from `_version.py`."""
    return {k: v for k, v in plan.items() if k not in ("model", "path")}


def _runtime_module(name: str) -> str:
    """The runtime module defining `name`, relative to the runtime package (it may move between modules)."""
    runtime = importlib.import_module("schemakit.runtime.engine")
    module = str(getattr(runtime, name).__module__)
    return module.removeprefix("schemakit.runtime.")


def runtime_files() -> list[GeneratedFile]:
    """Every module of `schemakit/runtime/` (sub-folders too, no caches), as `_runtime/...`, in path order."""
    root = Path(__file__).resolve().parent.parent / "runtime"
    out: list[GeneratedFile] = []
    try:
        for path in sorted(root.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(root).as_posix()
            out.append(GeneratedFile(f"{RUNTIME_DIR}/{relative}", path.read_bytes()))
    except OSError as exc:
        raise CodegenError(f"cannot read the runtime {root}: {exc.strerror}") from exc
    if not any(f.path == f"{RUNTIME_DIR}/__init__.py" for f in out):
        raise CodegenError(f"the runtime {root} has no __init__.py")
    return out


def _check_msgspec_keys(planner: TypePlanner) -> None:
    """msgspec itself refuses, at import, a renamed field holding quotes, backslashes or control characters."""
    for plan in planner.classes.values():
        for fld in plan.fields:
            if any(ch in fld.key for ch in '"\\') or any(ord(ch) < 0x20 for ch in fld.key):
                raise CodegenError(
                    f"msgspec cannot represent the field {fld.key!r} (msgspec refuses quotes, backslashes and "
                    "control characters in renamed fields): use --model-type pydantic, dataclasses or typeddict"
                )


def _header(schema: EndpointSchema) -> str:
    # No version here: a version-only upgrade must change `_version.py` alone.
    title = _one_line_literal(schema.title)
    return (
        f"{GENERATED_MARKER} from the query schema of endpoint {title}.\n"
        "# Do not edit: rerun `schemakit codegen` to update it."
    )


def _one_line_literal(text: str) -> str:
    # repr escapes newlines and unprintable characters; ascii() also bidi controls and U+2028/2029.
    return ascii(str(text))


def _run_datamodel_codegen(planner: TypePlanner, model_type: str, header: str) -> str:
    if not planner.classes:
        return f'{header}\n"""No row, params or response types: this endpoint takes no structured input."""\n'
    try:
        from datamodel_code_generator import InputFileType, PythonVersion, generate
        from datamodel_code_generator.enums import DataModelType
        from datamodel_code_generator.format import DatetimeClassType, Formatter
    except ImportError:
        raise CodegenError(MISSING_GENERATOR) from None
    options: dict[str, Any] = {
        "input_file_type": InputFileType.JsonSchema,
        "output_model_type": DataModelType(MODEL_TYPES[model_type]),
        "target_python_version": PythonVersion.PY_311,
        # The builtin formatter is in-process and version-independent: byte-identical output everywhere.
        "formatters": [Formatter.BUILTIN],
        "use_standard_collections": True,
        "use_union_operator": True,
        "use_schema_description": True,
        "use_field_description": True,
        "use_title_as_name": True,
        "skip_root_model": True,
        "strict_nullable": True,
        "enum_field_as_literal": "all",
        # Closed prefixItems arrays are written with minItems == maxItems, which this turns into tuples.
        "use_tuple_for_fixed_items": True,
        "use_double_quotes": True,
        "disable_timestamp": True,
        "keep_model_order": True,
        "output_datetime_class": DatetimeClassType.Datetime,
        "aliases": planner.aliases(),
        "custom_file_header": f'{header}\n"""Row, params and response types (made with datamodel-code-generator)."""',
    }
    if model_type == "pydantic" and planner.aliases():
        # Renamed fields can then be set by their Python name as well as by their JSON key.
        options["allow_population_by_field_name"] = True
    if model_type == "dataclasses":
        options["keyword_only"] = True
    try:
        output = generate(json.dumps(planner.json_schema()), **options)
    except Exception as exc:
        raise CodegenError(f"datamodel-code-generator failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(output, str):
        raise CodegenError("datamodel-code-generator returned no code")
    _check_class_names(output, planner)
    return output


def _check_class_names(source: str, planner: TypePlanner) -> None:
    """Every class the templates refer to must exist under the planned name."""
    import ast

    tree = ast.parse(source)
    defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    missing = sorted(set(planner.classes) - defined)
    if missing:
        raise CodegenError(f"datamodel-code-generator did not produce the expected classes: {', '.join(missing)}")
