"""The self-contained engine: plans, unsupported keywords, and running without optional libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import schemakit
from schemakit.runtime.engine import SERVING_RULES, Engine, UnsupportedSchemaError

ENGINE = Path(__file__).resolve().parents[2] / "schemakit" / "runtime" / "engine.py"
REF_SCHEMA = {"$defs": {"n": {"type": "integer"}}, "type": "object", "properties": {"a": {"$ref": "#/$defs/n"}}}


def test_engine_imports_only_the_standard_library_and_optional_fast_libraries() -> None:
    source = ENGINE.read_text()
    assert "from ." not in source
    assert "import schemakit" not in source
    assert "from schemakit" not in source


def test_plan_is_json_and_rebuilds_the_same_engine(docs_schema: schemakit.EndpointSchema) -> None:
    plan = orjson.loads(orjson.dumps(schemakit.make_plan(docs_schema.models[0])))
    engine = Engine(plan)
    payload = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1.5, 1, "a"]]}}
    assert engine.validate(payload) == schemakit.compile_validator(docs_schema.models[0]).validate(payload)


def test_unsupported_keywords_are_listed_and_delegated_to_jsonschema() -> None:
    plan = {"model": "m", "request_schema": REF_SCHEMA, "formats": []}
    engine = Engine(plan, disable=SERVING_RULES)
    assert engine.unsupported == ["$ref"]
    assert engine.validate({"a": 1}).ok
    report = engine.validate({"a": "x"})
    assert not report.ok
    assert report.problems[0].path == "$.a"


def test_vendored_copy_without_jsonschema_or_msgspec(tmp_path: Path) -> None:
    """A generated client: the engine file alone, with jsonschema and msgspec missing."""
    (tmp_path / "engine.py").write_text(ENGINE.read_text())
    script = f"""
import sys
sys.modules["msgspec"] = None
sys.modules["jsonschema"] = None
import engine
plan = {{"model": "m", "request_schema": {{"type": "object", "properties": {{"a": {{"type": "integer"}}}}}}, "formats": []}}
e = engine.Engine(plan)
assert not e.has_fast_path
assert e.validate_json(b'{{"a": 1}}').ok
assert engine.Engine(plan, disable=engine.SERVING_RULES).validate_json(b'{{"a": 1.0}}').ok
assert not e.validate_json(b'{{"a": 123456789012345678901234567890}}').ok  # int-range, read exactly
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
        assert "nested too deeply" in report.problems[0].message
