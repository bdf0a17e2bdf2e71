"""Hostile names through code generation (sparingly: each example runs datamodel-code-generator).

Properties: a package or a one-line CodegenError, never another exception; every Python file compiles; no raw
control or bidi character in any generated file; distinct served models get distinct methods; the TypeScript
target is held to the same text rules. (tests/security/test_codegen_names.py imports, calls and type-checks.)
"""

from __future__ import annotations

import ast
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import schemakit
from schemakit._exceptions import SchemakitError

from ..security.hostile import assert_one_line, document, raw_controls
from .strategies import fuzz_settings, fuzz_timeout, hostile_text, model_names

pytestmark = fuzz_timeout(300)

column_types = st.sampled_from(
    [
        {"type": "integer"},
        {"type": "string"},
        {"type": "number", "format": "double"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "integer", "enum": [1, 2**63 - 1]},
    ]
)
hostile_docs = st.builds(
    lambda title, models: document(models, title=title),
    hostile_text,
    st.dictionaries(
        model_names, st.dictionaries(hostile_text, column_types, min_size=1, max_size=4), min_size=1, max_size=3
    ),
)


def _generate(doc: dict[str, Any], **kwargs: Any) -> Any:
    try:
        schema = schemakit.resolve(doc)
    except SchemakitError as exc:
        assert_one_line(exc)
        return None
    try:
        return schema, schemakit.generate_package(schema, package="fuzz_pkg", **kwargs)
    except SchemakitError as exc:
        assert_one_line(exc)
        return None


@fuzz_settings(8)
@given(doc=hostile_docs, model_type=st.sampled_from(["pydantic", "dataclasses", "typeddict", "msgspec"]))
def test_hostile_names_give_compilable_python(doc: dict[str, Any], model_type: str) -> None:
    generated = _generate(doc, model_type=model_type)
    if generated is None:
        return
    schema, package = generated
    for file in package.files:
        text = file.content.decode("utf-8")
        assert not raw_controls(text), f"{file.path}: raw {raw_controls(text)}"
        if file.path.endswith(".py"):
            compile(text, file.path, "exec")
    client = ast.parse(package.file("client.py").decode())
    methods = {n.name for n in ast.walk(client) if isinstance(n, ast.FunctionDef) and n.name.startswith("predict_")}
    assert len(methods) >= len(schema.models), f"served models share a method: {sorted(methods)}"


@fuzz_settings(8)
@given(doc=hostile_docs)
def test_hostile_names_give_clean_typescript(doc: dict[str, Any]) -> None:
    generated = _generate(doc, target="typescript")
    if generated is None:
        return
    for file in generated[1].files:
        text = file.content.decode("utf-8")
        assert not raw_controls(text), f"{file.path}: raw {raw_controls(text)}"
