"""The self-contained engine: plans, unsupported keywords, and running without optional libraries."""

from __future__ import annotations

import ast
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import schemakit
from schemakit.check.validator import make_plan
from schemakit.runtime.engine import SERVING_RULES, Engine, UnsupportedSchemaError, unsupported_keywords

RUNTIME = Path(__file__).resolve().parents[2] / "schemakit" / "runtime"
REF_SCHEMA = {"$defs": {"n": {"type": "integer"}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}}
#: What a runtime module may import besides the standard library and its siblings (relative imports);
#: the HTTP layer speaks through httpx, which every generated client depends on.
OPTIONAL_IMPORTS = {"msgspec", "re2"}
HTTP_IMPORTS = {"httpx"}


def _absolute_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names.update(str(arg.value).split(".")[0] for arg in node.args if isinstance(arg, ast.Constant))
    return names


@pytest.mark.parametrize("module", sorted(p.name for p in RUNTIME.glob("*.py")))
def test_runtime_imports_only_the_standard_library_and_optional_fast_libraries(module: str) -> None:
    names = _absolute_imports(RUNTIME / module) - {"__future__"}
    allowed = OPTIONAL_IMPORTS | (HTTP_IMPORTS if module == "http.py" else set())
    outside = {n for n in names if n not in sys.stdlib_module_names and n not in allowed}
    assert not outside, f"{module} imports {sorted(outside)}"


def test_runtime_modules_stay_small() -> None:
    for path in RUNTIME.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 800, path.name


def test_plan_is_json_and_rebuilds_the_same_engine(docs_schema: schemakit.EndpointSchema) -> None:
    plan = orjson.loads(orjson.dumps(make_plan(docs_schema.models[0])))
    engine = Engine(plan)
    payload = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1.5, 1, "a"]]}}
    assert engine.validate(payload) == schemakit.compile_validator(docs_schema.models[0]).validate(payload)


def test_the_runtime_refuses_unsupported_keywords_naming_keyword_and_pointer() -> None:
    plan = {"model": "m", "request_schema": REF_SCHEMA, "formats": []}
    assert unsupported_keywords(plan) == ["$ref"] == unsupported_keywords(REF_SCHEMA)
    with pytest.raises(UnsupportedSchemaError, match=r"uses \$ref at /properties/a/\$ref: references are never"):
        Engine(plan)
    nested = {"type": "object", "unevaluatedProperties": False, "items": [{"type": "string"}]}
    with pytest.raises(UnsupportedSchemaError, match="items \\(array form\\) at /items"):
        Engine({"model": "m", "request_schema": nested, "formats": []})
    assert unsupported_keywords(nested) == ["items (array form)", "unevaluatedProperties"]


def test_the_library_delegates_to_jsonschema_without_ever_retrieving(tmp_path: Path) -> None:
    from schemakit.check.validator import jsonschema_fallback

    plan = {"model": "m", "request_schema": REF_SCHEMA, "formats": []}
    engine = Engine(plan, disable=SERVING_RULES, fallback=jsonschema_fallback)
    assert engine.unsupported == ["$ref"]
    assert engine.validate({"a": 1}).ok
    report = engine.validate({"a": "x"})
    assert not report.ok
    assert report.problems[0].path == "$.a"
    canary = tmp_path / "canary.json"
    canary.write_text('{"type": "string", "description": "CANARY-CONTENT"}')
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        for hostile in (
            {"$dynamicRef": canary.as_uri()},
            {"$ref": f"http://127.0.0.1:{port}/s.json"},
            {"$id": f"http://127.0.0.1:{port}/base/", "properties": {"x": {"$ref": "other.json"}}},
            {"$schema": canary.as_uri(), "type": "string"},
        ):
            hostile_plan = {"model": "m", "request_schema": hostile, "formats": []}
            found = Engine(hostile_plan, fallback=jsonschema_fallback).validate({"x": 5})
            text = found.to_text() + orjson.dumps(found.to_json()).decode()
            assert "CANARY-CONTENT" not in text
            if not found.ok:
                assert found.problems[0].code in ("unresolved-ref", "type"), text
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected


def test_vendored_runtime_without_jsonschema_msgspec_or_re2(tmp_path: Path) -> None:
    """A generated package: the runtime directory alone, as `_runtime/`, with the optional libraries missing."""
    shutil.copytree(RUNTIME, tmp_path / "_runtime", ignore=shutil.ignore_patterns("__pycache__"))
    script = f"""
import sys
sys.modules["msgspec"] = None
sys.modules["jsonschema"] = None
sys.modules["re2"] = None
sys.modules["schemakit"] = None
from _runtime import require
from _runtime import engine
from _runtime.patterns import LINEAR_PATTERNS
require(1, "pkg")
assert not LINEAR_PATTERNS
plan = {{"model": "m", "request_schema": {{"type": "object", "properties": {{"a": {{"type": "integer"}}}}}}, "formats": []}}
e = engine.Engine(plan)
assert not e.has_fast_path
assert e.validate_json(b'{{"a": 1}}').ok
assert engine.Engine(plan, disable=engine.SERVING_RULES).validate_json(b'{{"a": 1.0}}').ok
assert not e.validate_json(b'{{"a": 123456789012345678901234567890}}').ok  # int-range, read exactly
assert not e.validate_json(b'{{"a": ' + b'7' * 5000 + b'}}').ok  # int-range, not a crash
print(e.validate_json(b'{{"a": "7"}}').problems[0].message)
try:
    engine.Engine({{"model": "m", "request_schema": {REF_SCHEMA!r}, "formats": []}})
except engine.UnsupportedSchemaError as exc:
    print("refused:", exc)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert '$.a: expected long, got string "7"' in result.stdout
    assert "refused: the request schema of 'm' uses $ref" in result.stdout


def test_unsupported_schema_error_is_a_value_error() -> None:
    assert issubclass(UnsupportedSchemaError, ValueError)


def test_bad_max_errors() -> None:
    with pytest.raises(ValueError, match="max_errors"):
        Engine({"model": "m", "request_schema": {}, "formats": []}, max_errors=0)


def test_deeply_nested_payloads_are_invalid_json_not_a_crash() -> None:
    import schemakit

    validator = schemakit.compile_validator(schemakit.load("samples/docs-example-dataframe.json").models[0])
    for data in (b"[" * 100_000 + b"]" * 100_000, b'{"dataframe_records": ' + b"[" * 5000 + b"]" * 5000 + b"}"):
        report = validator.validate_json(data)
        assert not report.ok
        assert [p.code for p in report.problems] == ["invalid-json"]
        assert "nested more than 128 levels deep" in report.problems[0].message
