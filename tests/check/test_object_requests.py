"""Object requests (chat, completions, embeddings): the server's required fields, known document gaps, size limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import schemakit
from schemakit import PayloadValidator, compile_validator

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def chat() -> PayloadValidator:
    return compile_validator(schemakit.load(str(SAMPLES / "foundation-model-chat.json")).models[0])


@pytest.fixture(scope="module")
def embeddings() -> PayloadValidator:
    return compile_validator(schemakit.load(str(SAMPLES / "foundation-model-embeddings.json")).models[0])


def codes(report: schemakit.PayloadReport) -> list[str]:
    return [p.code for p in report.problems]


@pytest.mark.parametrize("payload", [{}, {"max_tokens": 3}, {"prompt": "hi"}])
def test_chat_refuses_a_body_without_messages(chat: PayloadValidator, payload: Any) -> None:
    report = chat.validate(payload)
    assert not report.ok
    assert "required-field" in codes(report), report.to_text()
    problem = next(p for p in report.problems if p.code == "required-field")
    assert "messages" in problem.message
    assert "column" not in problem.message
    off = compile_validator(chat.model, disable=["required-field"]).validate(payload)
    assert "required-field" not in codes(off)


def test_embeddings_refuses_an_empty_body(embeddings: PayloadValidator) -> None:
    report = embeddings.validate_json(b"{}")
    assert not report.ok
    # The document lists `input` as required: JSON Schema says so once, the serving rule does not repeat it.
    assert codes(report) == ["required"]
    assert "'input'" in report.problems[0].message


def test_required_field_applies_without_a_required_list() -> None:
    plan = {
        "model": "e",
        "request_schema": {"type": "object", "properties": {"input": {"type": "string"}}},
        "formats": [{"kind": "object", "key": None, "schema": {"type": "object", "properties": {"input": {}}}}],
    }
    from schemakit.runtime.engine import Engine

    assert [p.code for p in Engine(plan).validate({}).problems] == ["required-field"]
    assert Engine(plan).validate({"input": "x"}).ok


def test_a_system_message_is_accepted_with_a_warning(chat: PayloadValidator) -> None:
    payload = {"messages": [{"role": "system", "content": "be brief"}, *HI]}
    for report in (chat.validate(payload), chat.validate_json(json.dumps(payload))):
        assert report.ok, report.to_text()
        assert [(p.code, p.severity, p.path) for p in report.problems] == [
            ("known-document-gap", "warning", "$.messages[0].role")
        ]
    # Switched off, the document is read as written: its enum has no system role.
    strict_reading = compile_validator(chat.model, disable=["known-document-gap"]).validate(payload)
    assert codes(strict_reading) == ["enum"]
    assert codes(chat.validate({"messages": [{"role": "wizard", "content": "x"}]})) == ["enum"]


def test_whole_number_float_in_a_chat_field_is_refused_without_speaking_of_columns(chat: PayloadValidator) -> None:
    # MLflow's LLM path refuses 2.0 for an integer field (unlike a dataframe column, which it casts).
    report = chat.validate({"messages": HI, "max_tokens": 1.0})
    assert not report.ok
    (problem,) = report.problems
    assert (problem.code, problem.severity, problem.path) == ("float-for-integer", "error", "$.max_tokens")
    assert "column" not in problem.message
    assert codes(chat.validate({"messages": HI, "max_tokens": 1.5})) == ["type"]


def test_payload_too_large_uses_the_endpoint_limit(chat: PayloadValidator) -> None:
    assert chat.plan["max_request_bytes"] == 4 * 1024 * 1024
    docs = compile_validator(schemakit.load(str(SAMPLES / "docs-example-dataframe.json")).models[0])
    assert docs.plan["max_request_bytes"] == 16 * 1024 * 1024
    body = json.dumps({"messages": [{"role": "user", "content": "x" * (4 * 1024 * 1024)}]}).encode()
    report = chat.validate_json(body)
    assert codes(report) == ["payload-too-large"]
    assert "4 MB" in report.problems[0].message
    assert compile_validator(chat.model, max_request_bytes=8 * 1024 * 1024).validate_json(body).ok
    assert compile_validator(chat.model, disable=["payload-too-large"]).validate_json(body).ok
    small = compile_validator(docs.model, max_request_bytes=10)
    assert codes(small.validate_json(b'{"dataframe_records": [{"int_col": 1}]}')) == ["payload-too-large"]


def test_check_cli_on_the_chat_sample(run_cli: Any, tmp_path: Path) -> None:
    spec = str(SAMPLES / "foundation-model-chat.json")
    empty = tmp_path / "empty.json"
    empty.write_text("{}")
    result = run_cli("check", spec, str(empty))
    assert result.returncode == 1
    assert "[required-field]" in result.stdout
    system = tmp_path / "system.json"
    system.write_text(json.dumps({"messages": [{"role": "system", "content": "x"}, *HI]}))
    result = run_cli("check", spec, str(system))
    assert result.returncode == 0, result.stdout
    assert "warning [known-document-gap]" in result.stdout
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"messages": HI, "pad": "x" * 2000}))
    result = run_cli("check", spec, str(big), "--max-request-bytes", "1000")
    assert result.returncode == 1
    assert "[payload-too-large]" in result.stdout


def test_list_rules_prints_every_payload_rule(run_cli: Any) -> None:
    result = run_cli("check", "--list-rules")
    assert result.returncode == 0, result.stderr
    for code in [*schemakit.SERVING_RULES, *schemakit.check.validator.SCHEMA_CODES]:
        assert f"\n{code} " in "\n" + result.stdout, code
