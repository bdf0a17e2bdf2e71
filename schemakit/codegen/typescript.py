"""`schemakit codegen --target typescript`: TypeScript types for the rows, params, payloads and responses.

The same plan as the Python package (class names, nested types) drives one `index.ts`
of interfaces and payload types. Keys are written as JSON string literals, so a column
named anything at all stays exactly the document's; comments go through `jsdoc`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemakit.codegen.package import GeneratedFile, environment, finish
from schemakit.codegen.plans import ClassPlan, FieldPlan, ModelPlan, TypePlanner
from schemakit.core.model import DataType, EndpointSchema, FormatKind, Kind
from schemakit.core.types import ENUMERABLE_KINDS, SCALAR_KINDS, TYPESCRIPT_COMMENT, TYPESCRIPT_TYPE

__all__ = [
    "TYPESCRIPT_DEPENDENCIES",
    "generate_typescript",
    "jsdoc",
    "package_json",
    "ts_string",
    "ts_type",
    "typescript_context",
]

_LINE_BREAKS = {"\u2028", "\u2029", "\x85", "\r", "\x0b", "\x0c"}


def ts_string(text: str) -> str:
    """A TypeScript string literal: JSON's escaping, with every non-ASCII character (U+2028 too) escaped."""
    return json.dumps(str(text), ensure_ascii=True)


def jsdoc(text: str | None, indent: str = "") -> str:
    """A `/** ... */` comment that no text can close early or break out of."""
    if not text:
        return ""
    cleaned = []
    for ch in text:
        if ch in _LINE_BREAKS:
            cleaned.append("\n")
        elif ch == "\n" or ch == "\t" or ch.isprintable():
            cleaned.append(ch)
        else:
            cleaned.append(" ")
    body = "".join(cleaned).replace("*/", "*\\/").strip()
    lines = [line.rstrip() for line in body.split("\n")]
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    inner = "".join(f"{indent} *{' ' + line if line else ''}\n" for line in lines)
    return f"{indent}/**\n{inner}{indent} */\n"


def ts_type(dtype: DataType | None, planner: TypePlanner, *, comments: bool = True) -> str:
    """The TypeScript type of a logical type's JSON values (binary and datetime are strings, noted in comments)."""
    if dtype is None:
        return "unknown"
    kind = dtype.kind
    enum = [v for v in dtype.enum if v is not None] if dtype.enum is not None else []
    text: str
    # NaN and Infinity (YAML's .nan / .inf) have no TypeScript literal type: the enum widens to number.
    enum = [v for v in enum if not isinstance(v, float) or math.isfinite(v)]
    if enum and kind in ENUMERABLE_KINDS:
        text = " | ".join(ts_string(v) if isinstance(v, str) else json.dumps(v) for v in enum)
    elif kind in SCALAR_KINDS:
        text = TYPESCRIPT_TYPE[kind]
        if comments and kind in TYPESCRIPT_COMMENT:
            text = f"{text} /* {TYPESCRIPT_COMMENT[kind]} */"
    elif kind is Kind.ARRAY:
        text = f"Array<{ts_type(dtype.items, planner, comments=comments)}>"
    elif kind is Kind.MAP:
        text = f"Record<string, {ts_type(dtype.items, planner, comments=comments)}>"
    elif kind is Kind.OBJECT:
        text = planner.nested_name(dtype) if dtype.fields else "Record<string, unknown>"
    elif kind is Kind.UNION:
        text = " | ".join(ts_type(v, planner, comments=comments) for v in dtype.variants)
    else:
        # NULL and ANY: `null | null` and `unknown | null` say nothing more.
        return TYPESCRIPT_TYPE[kind]
    if dtype.nullable:
        return f"{text} | null"
    return text


def _tensor(dtype: DataType, planner: TypePlanner) -> str:
    text = ts_type(DataType(dtype.kind, items=dtype.items, fields=dtype.fields, enum=dtype.enum), planner)
    for _ in dtype.shape or (-1,):
        text = f"Array<{text}>"
    return text


def _columns_object(fields: tuple[FieldPlan, ...], planner: TypePlanner, *, as_arrays: bool) -> str:
    parts = []
    for fld in fields:
        value = ts_type(fld.type, planner)
        if as_arrays:
            value = f"Array<{value}>"
        parts.append(f"{ts_string(fld.key)}{'' if fld.required else '?'}: {value}")
    return "{ " + "; ".join(parts) + " }"


def _payloads(plan: ModelPlan, planner: TypePlanner) -> list[tuple[str, str, str]]:
    """(type name, doc, TypeScript type) for each payload shape the model accepts."""
    params = f"; params?: {plan.params.name}" if plan.params is not None else ""
    row = plan.row.name if plan.row is not None else "Record<string, unknown>"
    shapes: list[tuple[str, str, str]] = []
    for fmt in plan.served.formats:
        name = plan.prefix + "".join(w.title() for w in fmt.kind.value.split("_"))
        if fmt.kind is FormatKind.DATAFRAME_SPLIT:
            names = " | ".join(ts_string(f.key) for f in plan.split_columns) or "string"
            # A tuple of the column types in column order: tsc rejects a short row or a wrong cell.
            cells = ", ".join(ts_type(f.type, planner, comments=False) for f in plan.split_columns)
            rows = f"[{cells}]" if plan.split_columns else "Array<unknown>"
            body = (
                f"{{ dataframe_split: {{ columns?: Array<{names}>; data: Array<{rows}>; "
                f"index?: Array<number | string> }}{params} }}"
            )
            doc = "A dataframe_split payload: rows as tuples of the column types, in column order."
        elif fmt.kind is FormatKind.DATAFRAME_RECORDS:
            body = f"{{ dataframe_records: Array<{row}>{params} }}"
            doc = "A dataframe_records payload: one object per row."
        elif fmt.kind is FormatKind.INSTANCES:
            inner = f"Array<{row}>" if fmt.columns else _tensor(fmt.tensor or DataType(Kind.ANY), planner)
            body = f"{{ instances: {inner}{params} }}"
            doc = "An instances payload."
        elif fmt.kind is FormatKind.INPUTS:
            inner = (
                _columns_object(plan.inputs_columns, planner, as_arrays=True)
                if fmt.columns
                else _tensor(fmt.tensor or DataType(Kind.ANY), planner)
            )
            body = f"{{ inputs: {inner}{params} }}"
            doc = "An inputs payload."
        else:
            continue
        shapes.append((name, doc, body))
    return shapes


def typescript_context(plans: list[ModelPlan], planner: TypePlanner) -> dict[str, Any]:
    """What `templates/typescript/index.ts.j2` renders: interfaces, payload unions, per-model names."""
    interfaces = []
    for name in sorted(planner.classes):
        cls: ClassPlan = planner.classes[name]
        fields = [
            (jsdoc(f.description, "  "), ts_string(f.key), "" if f.required else "?", ts_type(f.type, planner))
            for f in cls.fields
        ]
        interfaces.append((jsdoc(cls.description), name, fields))
    models = []
    for plan in plans:
        shapes = _payloads(plan, planner)
        union = " | ".join(name for name, _doc, _body in shapes)
        if plan.is_object_request and plan.row is not None:
            union = plan.row.name
        kinds = {
            fmt.kind.value: f"{plan.prefix}{''.join(w.title() for w in fmt.kind.value.split('_'))}"
            for fmt in plan.served.formats
        }
        models.append(
            {
                "plan": plan,
                "doc": jsdoc(f"Served model {plan.module} (its exact name: VERSIONS.models.{plan.module})."),
                "shapes": [(jsdoc(doc), name, body) for name, doc, body in shapes],
                "shape_names": {k: v for k, v in kinds.items() if any(v == n for n, _d, _b in shapes)},
                "payload": union or "Record<string, unknown>",
                "response": plan.response.name if plan.response is not None else "unknown",
                "split_keys": "[" + ", ".join(ts_string(f.key) for f in plan.split_columns) + "]",
                "required_split": "[" + ", ".join(ts_string(f.key) for f in plan.split_columns if f.required) + "]",
                "inputs_keys": "[" + ", ".join(ts_string(f.key) for f in plan.inputs_columns) + "]",
            }
        )
    return {"interfaces": interfaces, "models": models}


#: The generated package's one dependency: RE2 for document patterns (linear time, the Python engine's syntax).
TYPESCRIPT_DEPENDENCIES = {"re2js": "^2.10.0"}


def package_json(name: str) -> bytes:
    """The package's manifest: its name and `re2js` (no document version: `VERSIONS` is the one line a bump changes)."""
    manifest = {
        "name": name.replace("_", "-"),
        "version": "0.0.0",
        "private": True,
        "description": "Generated by schemakit codegen: rerun it to update this package.",
        "main": "index.ts",
        "types": "index.ts",
        "dependencies": TYPESCRIPT_DEPENDENCIES,
    }
    return (json.dumps(manifest, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def generate_typescript(
    schema: EndpointSchema,
    name: str,
    model_type: str,
    plans: list[ModelPlan],
    planner: TypePlanner,
    plans_literal: Mapping[str, Any],
) -> tuple[GeneratedFile, ...]:
    """`index.ts`, `runtime.ts`, `package.json` and `README.md` of the TypeScript target."""
    header = (
        f"// Generated by schemakit codegen from the query schema of endpoint {ts_string(schema.title)}.\n"
        "// Do not edit: rerun `schemakit codegen` to update it."
    )
    env = environment()
    context = {
        "planner": planner,
        **typescript_context(plans, planner),
        "schema": schema,
        "package": name,
        "header": header,
        "title_ts": ts_string(schema.title),
        "version_ts": ts_string(schema.version),
        "server_ts": ts_string(schema.server) if schema.server is not None else "null",
        # Version-free plans: the served-model name comes from VERSIONS, so an upgrade changes one line.
        "plans_ts": {
            p.module: json.dumps(
                {k: v for k, v in plans_literal[p.served.name].items() if k not in ("model", "path")}, ensure_ascii=True
            )
            for p in plans
        },
        "versions_ts": "{ schema: "
        + ts_string(schema.version)
        + ", models: { "
        + ", ".join(f"{p.module}: {ts_string(p.served.name)}" for p in plans)
        + " } }",
    }
    files = [
        GeneratedFile(target, finish(env.get_template(f"typescript/{template}").render(context)).encode("utf-8"))
        for template, target in (("index.ts.j2", "index.ts"), ("README.md.j2", "README.md"))
    ]
    runtime = Path(__file__).resolve().parent / "templates" / "typescript" / "runtime.ts"
    files.append(GeneratedFile("runtime.ts", runtime.read_bytes()))
    files.append(GeneratedFile("package.json", package_json(name)))
    return tuple(sorted(files, key=lambda f: f.path))
