"""The Python target's pieces of text: literals, annotations, the typed JSON payloads, the README example.

Everything reads the resolved model through the plans (`schemakit.codegen.plans`); document text
reaches the output only through `py_literal` (repr) or sanitized docstrings.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping
from typing import Any

from schemakit._exceptions import CodegenError
from schemakit.codegen.plans import ClassPlan, ModelPlan, TypePlanner, literal_ints
from schemakit.core.model import DataType, FormatKind, Kind
from schemakit.core.types import PYTHON_ANNOTATION, PYTHON_JSON_ANNOTATION, SCALAR_KINDS

__all__ = [
    "escape_source",
    "from_import",
    "long_string",
    "ruff_def",
    "ruff_string",
    "isort_key",
    "json_type",
    "payload_types",
    "py_literal",
    "python_type",
    "readme_example",
    "tensor_type",
]


def py_literal(value: Any) -> str:
    """A Python literal for a JSON-like value; strings through `repr`, so no text can escape its quotes."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else 'float("-inf")'
        return repr(value)
    if isinstance(value, str):
        # repr escapes every unprintable character: controls, bidi overrides, U+2028/2029.
        text = repr(value)
        # Prefer double quotes, as formatters do; only when the text holds no quote of either kind.
        if text[0] == "'" and '"' not in value:
            return '"' + text[1:-1] + '"'
        return text
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{py_literal(str(k))}: {py_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        if len(value) == 1:
            return f"({py_literal(value[0])},)"
        return "(" + ", ".join(py_literal(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    raise CodegenError(f"cannot write {type(value).__name__} as a Python literal")


def isort_key(name: str) -> tuple[int, str]:
    # The order ruff's isort and RUF022 expect: CONSTANTS, then Classes, then everything else.
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name


def ruff_string(text: str) -> str:
    """A string literal quoted as `ruff format` quotes it: double quotes unless the text holds more of them."""
    literal = repr(text)
    want = "'" if text.count('"') > text.count("'") else '"'
    if literal[0] == want:
        return literal
    body = literal[1:-1].replace("\\" + literal[0], literal[0]).replace(want, "\\" + want)
    return want + body + want


def long_string(text: str, indent: int, width: int = 120) -> str:
    """A string literal at `indent` spaces, as `ruff format` leaves it at `width`: one literal when the line
    fits, else an implicit concatenation of pieces one a line (never a line of thousands of characters)."""
    whole = ruff_string(text)
    if indent + len(whole) + 1 <= width:
        return whole
    pad = " " * indent
    size = max(16, width - indent - 24)  # escapes can lengthen a piece; leave room for them
    pieces = [ruff_string(text[i : i + size]) for i in range(0, len(text), size)]
    return f"\n{pad}".join(pieces)


def ruff_def(head: str, params: list[str], returns: str, indent: int = 4, width: int = 120) -> str:
    """A `def` line as `ruff format` lays it out at `width`: one line, else the parameters on one indented
    line, else one a line with a trailing comma (what ruff does with a signature too long for either)."""
    pad = " " * indent
    line = f"{pad}{head}({', '.join(params)}) -> {returns}:"
    if len(line) <= width:
        return line
    inner = f"{pad}    {', '.join(params)}"
    if len(inner) <= width:
        return f"{pad}{head}(\n{inner}\n{pad}) -> {returns}:"
    lines = "".join(f"{pad}    {param},\n" for param in params)
    return f"{pad}{head}(\n{lines}{pad}) -> {returns}:"


def from_import(names: list[str], module: str = ".") -> str:
    """`from MODULE import a, b` as ruff's isort writes it: one line when it fits, else one name a line."""
    ordered = sorted(names, key=isort_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= 88:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in ordered) + ")"


def python_type(dtype: DataType | None, planner: TypePlanner) -> str:
    """The Python annotation for a logical type, matching what datamodel-code-generator writes."""
    if dtype is None:
        return "Any"
    kind = dtype.kind
    text: str
    if kind in SCALAR_KINDS:
        text = PYTHON_ANNOTATION[kind]
    elif kind is Kind.ARRAY:
        text = f"list[{python_type(dtype.items, planner)}]"
    elif kind is Kind.MAP:
        text = f"dict[str, {python_type(dtype.items, planner)}]"
    elif kind is Kind.OBJECT:
        text = f"models.{planner.nested_name(dtype)}" if dtype.fields else "dict[str, Any]"
    elif kind is Kind.UNION:
        text = " | ".join(python_type(v, planner) for v in dtype.variants)
    else:
        return PYTHON_ANNOTATION[kind]
    return f"{text} | None" if dtype.nullable else text


def tensor_type(dtype: DataType, planner: TypePlanner) -> str:
    """Nested lists for a tensor: one level per dimension of its shape."""
    text = python_type(DataType(dtype.kind, items=dtype.items, fields=dtype.fields), planner)
    for _ in dtype.shape or (-1,):
        text = f"list[{text}]"
    return text


def readme_example(package: str, plan: ModelPlan, model_type: str, planner: TypePlanner) -> str:
    """A short, runnable usage example for the package's first served model."""
    module = plan.module
    lines = [f"from {package} import Client, {module}", ""]
    needs_datetime = False

    def sample(dtype: DataType) -> str:
        nonlocal needs_datetime
        kind = dtype.kind
        enum = [v for v in dtype.enum if v is not None] if dtype.enum else []
        if enum:
            return py_literal(enum[0])
        if kind is Kind.BOOLEAN:
            return "True"
        if kind in (Kind.INTEGER, Kind.LONG):
            return "1"
        if kind in (Kind.FLOAT, Kind.DOUBLE):
            return "0.5"
        if kind is Kind.BINARY:
            return 'b"raw bytes"'
        if kind is Kind.DATETIME:
            needs_datetime = True
            return "datetime(2024, 1, 1, tzinfo=UTC)"
        if kind is Kind.ARRAY:
            return f"[{sample(dtype.items)}]" if dtype.items is not None else "[]"
        if kind is Kind.MAP:
            return f'{{"key": {sample(dtype.items)}}}' if dtype.items is not None else "{}"
        if kind is Kind.OBJECT and dtype.fields:
            return instance(f"models.{planner.nested_name(dtype)}", planner.classes[planner.nested_name(dtype)])
        if kind is Kind.UNION and dtype.variants:
            return sample(dtype.variants[0])
        if kind is Kind.STRING:
            return '"text"'
        return '"value"'

    def instance(type_name: str, cls: ClassPlan) -> str:
        chosen = [f for f in cls.fields if f.required] or cls.fields[:3]
        if model_type == "typeddict":
            return "{" + ", ".join(f"{py_literal(f.key)}: {sample(f.type)}" for f in chosen) + "}"
        return f"{type_name}(" + ", ".join(f"{f.ident}={sample(f.type)}" for f in chosen) + ")"

    body: list[str] = []
    call = "payload"
    if plan.is_object_request and plan.row is not None:
        body.append(f"request = {instance(module + '.Request', plan.row)}")
        body.append(f"payload = {module}.to_request(request)")
    elif plan.row is not None and plan.column_formats:
        annotation = f": list[{module}.Row]" if model_type == "typeddict" else ""
        body.append(f"rows{annotation} = [{instance(module + '.Row', plan.row)}]")
        builder = {
            "dataframe_split": "to_dataframe_split",
            "dataframe_records": "to_dataframe_records",
            "instances": "to_instances",
            "inputs": "to_inputs",
        }[plan.column_formats[0]]
        params = ""
        if plan.params is not None and plan.params.fields:
            first = plan.params.fields[0]
            value = sample(first.type)
            params = (
                f", params={{{py_literal(first.key)}: {value}}}"
                if model_type == "typeddict"
                else f", params={module}.Params({first.ident}={value})"
            )
        body.append(f"payload = {module}.{builder}(rows{params})")
    elif plan.tensor_formats:
        kind, tensor = next(iter(plan.tensor_formats.items()))
        value = sample(DataType(tensor.kind))
        for size in reversed(tensor.shape or (-1,)):
            value = f"[{value}]" if size == -1 else f"[{value}] * {size}"
        body.append(f"payload = {module}.to_{kind}({value})")
    else:
        body.append("payload: dict[str, object] = {}")
    body.append("")
    body.append(f"report = {module}.validate({call})  # same verdicts and messages as `schemakit check`")
    body.append("print(report.ok, report.to_text())")
    body.append("")
    body.append("# Host and token as `schemakit fetch` finds them: arguments, DATABRICKS_HOST/DATABRICKS_TOKEN,")
    body.append("# ~/.databrickscfg profiles (profile=...), or databricks-sdk's unified auth when installed.")
    body.append("with Client.from_workspace() as client:")
    body.append(f"    response = client.predict_{module}(payload)")
    if plan.response is not None and any(f.key == "predictions" for f in plan.response.fields):
        accessor = 'response["predictions"]' if model_type == "typeddict" else "response.predictions"
        body.append(f"    print({accessor})")
    else:
        body.append("    print(response)")
    names = ["Client", module, *(["models"] if "models." in "\n".join(body) else [])]
    lines[0] = f"from {package} import {', '.join(sorted(names, key=isort_key))}"
    imports = ["from datetime import UTC, datetime", ""] if needs_datetime else []
    return "\n".join([*imports, *lines, *body])


def escape_source(source: str) -> str:
    """Generated Python text with every unprintable character (bidi controls, U+2028/2029, C0/C1
    controls) written as an escape: they can only sit inside string literals and docstrings, where
    the escape means the same character, so no reader sees text the interpreter reads otherwise."""
    out = []
    for ch in source:
        if ch in "\n\t" or ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def json_type(dtype: DataType | None) -> str:
    """The annotation of a logical type's JSON value, for the TypedDicts of hand-built payloads."""
    if dtype is None:
        return "Any"
    kind = dtype.kind
    enum = [v for v in dtype.enum if v is not None] if dtype.enum else []
    if kind in (Kind.INTEGER, Kind.LONG) and not literal_ints(enum):
        enum = []
    if enum and kind in (Kind.STRING, Kind.INTEGER, Kind.LONG, Kind.BOOLEAN):
        text = "Literal[" + ", ".join(py_literal(v) for v in enum) + "]"
    elif kind in SCALAR_KINDS:
        text = PYTHON_JSON_ANNOTATION[kind]
    elif kind is Kind.ARRAY:
        text = f"list[{json_type(dtype.items)}]"
    elif kind is Kind.MAP:
        text = f"dict[str, {json_type(dtype.items)}]"
    elif kind is Kind.OBJECT:
        text = "dict[str, Any]"
    elif kind is Kind.UNION:
        text = " | ".join(dict.fromkeys(json_type(v) for v in dtype.variants))
    elif kind is Kind.NULL:
        return "None"
    else:
        return "Any"
    return f"{text} | None" if dtype.nullable and text != "Any" else text


def _typed_dict(name: str, doc: str, fields: list[tuple[str, str, bool]]) -> str:
    """A TypedDict: class syntax when every key is an identifier, the functional form otherwise."""
    if all(key.isidentifier() and not keyword.iskeyword(key) and key.isascii() for key, _t, _r in fields):
        body = "".join(
            f"    {key}: {annotation if required else f'NotRequired[{annotation}]'}\n"
            for key, annotation, required in fields
        )
        return f'class {name}(TypedDict):\n    """{doc}"""\n\n{body}'.rstrip()
    items = ", ".join(
        f"{py_literal(key)}: {py_literal(annotation if required else f'NotRequired[{annotation}]')}"
        for key, annotation, required in fields
    )
    return f"#: {doc}\n{name} = TypedDict({py_literal(name)}, {{{items}}})"


def _tensor_json(dtype: DataType) -> str:
    text = json_type(DataType(dtype.kind, items=dtype.items, fields=dtype.fields, enum=dtype.enum))
    for _ in dtype.shape or (-1,):
        text = f"list[{text}]"
    return text


def payload_types(plan: ModelPlan, planner: TypePlanner) -> dict[str, Any]:
    """TypedDicts for each payload the served model accepts, and their union `Payload`.

    dataframe_split rows are tuples of the column types, in the document's column order, so a
    type checker rejects a short row or a string in a number column of a hand-built payload.
    """
    defs: list[str] = []
    names: dict[str, str] = {}
    params = "ParamsJSON" if plan.params is not None else "dict[str, Any]"
    if plan.params is not None:
        defs.append(
            _typed_dict(
                "ParamsJSON",
                "Inference parameters as JSON.",
                [(f.key, json_type(f.type), False) for f in plan.params.fields],
            )
        )
    if plan.row is not None:
        row_doc = "The request body as JSON." if plan.is_object_request else "One row as JSON, keyed by column name."
        defs.append(_typed_dict("RowJSON", row_doc, [(f.key, json_type(f.type), f.required) for f in plan.row.fields]))
    if plan.is_object_request:
        return {"defs": defs, "names": names, "union": "RowJSON" if plan.row is not None else "dict[str, Any]"}
    for fmt in plan.served.formats:
        kind = fmt.kind
        title = "".join(w.title() for w in kind.value.split("_"))
        if kind is FormatKind.DATAFRAME_SPLIT and plan.split_columns:
            cells = [json_type(f.type) for f in plan.split_columns]
            keys = ", ".join(py_literal(f.key) for f in plan.split_columns)
            defs.append(
                f"#: One dataframe_split row: a value per column, in column order.\nSplitRow = tuple[{', '.join(cells)}]"
            )
            defs.append(
                _typed_dict(
                    "DataframeSplit",
                    "The dataframe_split object: column names, and rows in their order.",
                    [
                        ("columns", f"list[Literal[{keys}]]", False),
                        ("data", "list[SplitRow]", True),
                        ("index", "list[int | str]", False),
                    ],
                )
            )
            inner = "DataframeSplit"
        elif kind is FormatKind.DATAFRAME_RECORDS and plan.row is not None:
            inner = "list[RowJSON]"
        elif kind is FormatKind.INSTANCES:
            inner = (
                "list[RowJSON]"
                if fmt.columns and plan.row is not None
                else _tensor_json(fmt.tensor or DataType(Kind.ANY))
            )
        elif kind is FormatKind.INPUTS:
            if fmt.columns and plan.inputs_columns:
                defs.append(
                    _typed_dict(
                        "InputsColumns",
                        "Columnar inputs: a list of values per column.",
                        [(f.key, f"list[{json_type(f.type)}]", f.required) for f in plan.inputs_columns],
                    )
                )
                inner = "InputsColumns"
            else:
                inner = _tensor_json(fmt.tensor or DataType(Kind.ANY))
        else:
            continue
        name = f"{title}Payload"
        defs.append(
            _typed_dict(name, f"A {kind.value} payload.", [(kind.value, inner, True), ("params", params, False)])
        )
        names[kind.value] = name
    union = " | ".join(names.values()) or "dict[str, Any]"
    return {"defs": defs, "names": names, "union": union}
