"""One policy, every feature: a document with errors is refused the same way, or used only when forced."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import schemakit
from schemakit._exceptions import InvalidDocumentError
from schemakit.check.validator import (
    EndpointValidator,
    PayloadValidator,
    compile_endpoint_validator,
    compile_validator,
)
from schemakit.codegen.generate import generate_package
from schemakit.core.model import EndpointSchema
from schemakit.core.policy import document_problem, require_usable
from schemakit.mock.server import MockServer


def _broken(tmp_path: Path, docs: Any) -> EndpointSchema:
    # A malformed keyword is an error: verdicts on `name` would rest on it.
    document = docs.endpoint(docs.records({"name": {"type": "string", "pattern": "(["}, "n": docs.LONG}))
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    schema = schemakit.load(str(path))
    assert schema.errors
    assert schema.models
    return schema


def _table_pick(schema: EndpointSchema, force: bool) -> Any:
    engine = pytest.importorskip("schemakit.table.engine", reason="check-table needs pyarrow")
    return engine.pick_served(schema, None, force=force)


def _mock(schema: EndpointSchema, force: bool) -> Any:
    return MockServer([schema], token="dapi-policy", force=force)


FEATURES: dict[str, Callable[[EndpointSchema, bool], Any]] = {
    "compile_validator": lambda schema, force: compile_validator(schema.models[0], force=force),
    "compile_endpoint_validator": lambda schema, force: compile_endpoint_validator(schema, force=force),
    "PayloadValidator": lambda schema, force: PayloadValidator(schema.models[0], force=force),
    "EndpointValidator": lambda schema, force: EndpointValidator(schema, force=force),
    "mock": _mock,
    "check-table": _table_pick,
    "codegen": lambda schema, force: generate_package(schema, model_type="dataclasses", force=force),
}


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_refuses_a_document_with_errors_in_the_same_words(
    tmp_path: Path, docs: Any, feature: str
) -> None:
    schema = _broken(tmp_path, docs)
    with pytest.raises(InvalidDocumentError) as refused:
        FEATURES[feature](schema, False)
    assert str(refused.value) == document_problem(schema)
    assert "schemakit validate" in str(refused.value)


@pytest.mark.parametrize("feature", FEATURES)
def test_force_proceeds_and_the_policy_says_so(tmp_path: Path, docs: Any, feature: str) -> None:
    schema = _broken(tmp_path, docs)
    assert FEATURES[feature](schema, True) is not None
    line = require_usable(schema, force=True)
    assert line is not None
    assert line.endswith("proceeding anyway (force)")


def test_a_served_model_knows_its_documents_errors(tmp_path: Path, docs: Any) -> None:
    schema = _broken(tmp_path, docs)
    assert schema.models[0].document_errors == schema.errors
    assert document_problem(schema.models[0]) == document_problem(schema)


def test_a_clean_document_is_used_without_a_word(docs: Any) -> None:
    schema = schemakit.load(str(docs.docs_example_path))
    assert require_usable(schema) is None
    assert require_usable(schema.models[0]) is None


def test_a_payload_that_is_not_json_carries_line_and_column(docs: Any) -> None:
    validator = compile_validator(schemakit.load(str(docs.docs_example_path)).models[0])
    [problem] = validator.validate_json(b'{\n  "dataframe_records": [\n    {"a": 1,,}\n  ]\n}').problems
    assert (problem.code, problem.line, problem.col) == ("invalid-json", 3, 13)
    assert problem.to_json()["line"] == 3


def test_check_names_the_line_and_column_of_bad_json(tmp_path: Path, docs: Any, run_cli: Any) -> None:
    payload = tmp_path / "p.json"
    payload.write_bytes(b'{\n  "dataframe_records": [\n    {"a": 1,,}\n  ]\n}')
    result = run_cli("check", str(docs.docs_example_path), str(payload))
    assert result.returncode == 2
    assert f"{payload}:3:13: not valid JSON" in result.stderr


def test_a_forced_emulator_answers_and_a_forced_table_check_compiles(tmp_path: Path, docs: Any) -> None:
    """Forced once is forced: what the feature builds from the models does not refuse them again."""
    import urllib.request

    schema = _broken(tmp_path, docs)
    body = json.dumps({"dataframe_records": [{"name": "x", "n": 1}]}).encode()
    with MockServer([schema], token="dapi-policy", force=True) as server:
        request = urllib.request.Request(
            f"{server.url}/serving-endpoints/{schema.title}/invocations",
            data=body,
            headers={"Authorization": "Bearer dapi-policy", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200
    served = _table_pick(schema, True)
    assert compile_validator(served).validate({"dataframe_records": [{"name": "x", "n": 1}]}).ok


@pytest.mark.parametrize("command", ["check", "codegen"])
def test_the_commands_refuse_or_say_they_proceed_with_force(
    tmp_path: Path, docs: Any, run_cli: Any, command: str
) -> None:
    schema = _broken(tmp_path, docs)
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"dataframe_records": [{"name": "x", "n": 1}]}))
    args = [schema.source, str(payload)] if command == "check" else [schema.source, "-o", str(tmp_path / "out")]
    refused = run_cli(command, *args)
    assert refused.returncode == 2
    assert refused.stderr == f"schemakit: error: {document_problem(schema)}\n"
    forced = run_cli(command, *args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stderr.startswith(f"schemakit: warning: {document_problem(schema)}; proceeding anyway (force)\n")
