"""Issue 13 in the model: object requests know which request they are, whether they stream, and the role gap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import schemakit
from schemakit.core.model import FormatKind, RequestKind

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _object_document(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body["required"] = list(required)
    return {
        "openapi": "3.1.0",
        "info": {"title": "llm", "version": "1"},
        "servers": [{"url": "https://example.com"}],
        "paths": {
            "/served-models/m/invocations": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


def _message(roles: list[str]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"role": {"type": "string", "enum": roles}, "content": {"type": "string"}},
        },
    }


TEXTS = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
ITEMS = {"type": "array", "items": {"type": "object", "properties": {"role": {"type": "string"}}}}

CASES = [
    ("chat", {"messages": _message(["system", "user", "assistant"]), "stream": {"type": "boolean"}}, RequestKind.CHAT, True),
    ("completions", {"prompt": TEXTS, "max_tokens": {"type": "integer"}}, RequestKind.COMPLETIONS, False),
    ("embeddings", {"input": TEXTS}, RequestKind.EMBEDDINGS, False),
    ("responses", {"input": ITEMS, "custom_inputs": {"type": "object"}, "databricks_options": {"type": "object"}},
     RequestKind.RESPONSES, False),
    ("chat-agent", {"messages": _message(["system", "user"]), "context": {"type": "object"},
                    "custom_inputs": {"type": "object"}}, RequestKind.CHAT_AGENT, False),
    ("other", {"question": {"type": "string"}}, RequestKind.OTHER, False),
]  # fmt: skip


@pytest.mark.parametrize(("name", "properties", "kind", "streaming"), CASES, ids=[c[0] for c in CASES])
def test_the_model_knows_the_request_kind(
    name: str, properties: dict[str, Any], kind: RequestKind, streaming: bool
) -> None:
    schema = schemakit.resolve(_object_document(properties))
    [fmt] = schema.models[0].formats
    assert fmt.kind is FormatKind.OBJECT
    assert fmt.request is kind
    assert fmt.streaming is streaming
    assert schema.errors == ()


def test_required_field_and_task_of_each_kind() -> None:
    assert RequestKind.CHAT.required_field == "messages"
    assert RequestKind.CHAT_AGENT.required_field == "messages"
    assert RequestKind.COMPLETIONS.required_field == "prompt"
    assert RequestKind.EMBEDDINGS.required_field == "input"
    assert RequestKind.RESPONSES.required_field == "input"
    assert RequestKind.OTHER.required_field is None
    assert RequestKind.CHAT.task == "llm/v1/chat"


def test_agent_fields_are_recorded() -> None:
    properties = CASES[3][1]
    [fmt] = schemakit.resolve(_object_document(properties)).models[0].formats
    assert fmt.agent_fields == ("custom_inputs", "databricks_options")


def test_keyed_formats_have_no_request_kind() -> None:
    schema = schemakit.load(str(SAMPLES / "docs-example-dataframe.json"))
    assert all(f.request is None and not f.streaming for f in schema.models[0].formats)


def test_a_chat_role_enum_without_system_is_a_warning() -> None:
    schema = schemakit.resolve(_object_document({"messages": _message(["user", "assistant"])}, ("messages",)))
    [warning] = [d for d in schema.diagnostics if d.code == "chat-role-missing-system"]
    assert warning.severity == "warning"
    assert warning.pointer.endswith("/properties/messages/items/properties/role/enum")
    assert schemakit.validate_document(_object_document({"messages": _message(["user", "assistant"])})).ok
    strict = schemakit.validate_document(_object_document({"messages": _message(["user", "assistant"])}), strict=True)
    assert not strict.ok


def test_the_published_chat_document_gets_the_warning_and_streams() -> None:
    schema = schemakit.load(str(SAMPLES / "foundation-model-chat.json"))
    [fmt] = schema.models[0].formats
    assert fmt.request is RequestKind.CHAT
    assert fmt.streaming
    assert "chat-role-missing-system" in {d.code for d in schema.warnings}


def test_a_role_enum_with_system_or_without_enum_is_fine() -> None:
    for messages in (_message(["system", "user"]), {"type": "array", "items": {"type": "object"}}):
        schema = schemakit.resolve(_object_document({"messages": messages}))
        assert "chat-role-missing-system" not in {d.code for d in schema.diagnostics}


def test_an_object_request_beside_dataframe_formats_is_a_format_of_its_own() -> None:
    """What `from-mlflow` writes for agents: the LLM body beside the dataframe formats MLflow also takes."""
    split = {
        "type": "object",
        "required": ["dataframe_split"],
        "properties": {"dataframe_split": {"type": "object", "properties": {"data": {"type": "array"}}}},
    }
    agent = {
        "type": "object",
        "required": ["messages"],
        "properties": {"messages": _message(["system", "user", "assistant"]), "custom_inputs": {"type": "object"}},
    }
    document = _object_document({})
    body = document["paths"]["/served-models/m/invocations"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"oneOf": [split, agent]}
    answer = {"type": "object", "properties": {"messages": _message(["assistant"])}}
    document["paths"]["/served-models/m/invocations"]["post"]["responses"]["200"]["content"] = {
        "application/json": {"schema": answer}
    }
    report = schemakit.validate_document(document, strict=True)
    assert report.ok, [str(d) for d in report.diagnostics]
    split_format, object_format = report.schema.models[0].formats
    assert split_format.kind is FormatKind.DATAFRAME_SPLIT
    assert (object_format.kind, object_format.request) == (FormatKind.OBJECT, RequestKind.CHAT_AGENT)
    assert object_format.agent_fields == ("custom_inputs",)
    body["schema"] = {"oneOf": [split, {"type": "object", "properties": {"question": {"type": "string"}}}]}
    assert [d.code for d in schemakit.validate_document(document).errors] == ["unknown-input-format"]
