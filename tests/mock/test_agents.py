"""Agents and LLMs that answer like them: the emulator's answers for ChatAgent, ResponsesAgent and ChatModel
documents (built by `from-mlflow` from MLflow's own signatures) are what MLflow's own types accept, streamed
or not. One emulator for the module."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from schemakit.core.resolve import resolve
from schemakit.testing import MockServer

pytest.importorskip("mlflow")

TOKEN = "dapi-agents"


def _types() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow.types.responses warns about `Any` type hints at import
        from mlflow.models.signature import ModelSignature
        from mlflow.types import agent, llm, responses

    return {"sig": ModelSignature, "agent": agent, "llm": llm, "responses": responses}


@pytest.fixture(scope="module")
def types() -> dict[str, Any]:
    return _types()


@pytest.fixture(scope="module")
def server(types: dict[str, Any]) -> Iterator[MockServer]:
    from schemakit.mlflow.document import document_from_signature

    sig, agent, llm, responses = types["sig"], types["agent"], types["llm"], types["responses"]
    specs = {
        "chat-agent": (agent.CHAT_AGENT_INPUT_SCHEMA, agent.CHAT_AGENT_OUTPUT_SCHEMA, "agent/v2/chat"),
        "responses-agent": (
            responses.RESPONSES_AGENT_INPUT_SCHEMA,
            responses.RESPONSES_AGENT_OUTPUT_SCHEMA,
            "agent/v1/responses",
        ),
        "chat-model": (llm.CHAT_MODEL_INPUT_SCHEMA, llm.CHAT_MODEL_OUTPUT_SCHEMA, "agent/v1/chat"),
    }
    schemas = []
    for name, (inputs, outputs, task) in specs.items():
        document = document_from_signature(
            sig(inputs, outputs).to_dict(), endpoint=name, served_model=f"{name}-1", task=task
        )
        schemas.append(resolve(document, source=name))
    with MockServer(schemas, token=TOKEN) as running:
        yield running


def _post(server: MockServer, endpoint: str, body: dict[str, Any]) -> Any:
    with server.client() as client:
        answer = client.post(f"/serving-endpoints/{endpoint}/invocations", json=body)
    assert answer.status_code == 200, answer.text
    return answer


def _events(text: str) -> list[Any]:
    out = []
    for line in text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def test_chat_agent_answers_what_chat_agent_response_accepts(server: MockServer, types: dict[str, Any]) -> None:
    agent = types["agent"]
    body = {"messages": [{"role": "user", "content": "Hello"}]}
    answer = _post(server, "chat-agent", body).json()
    parsed = agent.ChatAgentResponse(**answer)
    assert parsed.messages[0].role == "assistant"
    assert parsed.messages[0].id
    assert not parsed.messages[0].tool_calls
    chunks = [
        agent.ChatAgentChunk(**event) for event in _events(_post(server, "chat-agent", {**body, "stream": True}).text)
    ]
    assert len(chunks) >= 2
    assert "".join(c.delta.content or "" for c in chunks) == parsed.messages[0].content


def test_responses_agent_answers_what_responses_agent_response_accepts(
    server: MockServer, types: dict[str, Any]
) -> None:
    responses = types["responses"]
    body = {"input": [{"role": "user", "content": "Hello"}]}
    answer = _post(server, "responses-agent", body).json()
    parsed = responses.ResponsesAgentResponse(**answer)
    assert parsed.object == "response"
    assert parsed.error is None
    assert parsed.output[0].type == "message"
    text = parsed.output[0].content[0]["text"]
    events = [
        responses.ResponsesAgentStreamEvent(**e)
        for e in _events(_post(server, "responses-agent", {**body, "stream": True}).text)
    ]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == text
    assert events[-1].type == "response.completed"


def test_chat_model_answers_what_chat_completion_response_accepts(server: MockServer, types: dict[str, Any]) -> None:
    llm = types["llm"]
    answer = _post(server, "chat-model", {"messages": [{"role": "user", "content": "Hello"}]}).json()
    parsed = llm.ChatCompletionResponse.from_dict(answer)
    message = parsed.choices[0].message
    assert message.role == "assistant"
    assert isinstance(message.content, str)
    assert not message.tool_calls
    assert parsed.choices[0].finish_reason == "stop"


def test_each_agent_endpoint_reports_its_task(server: MockServer) -> None:
    with server.client() as client:
        tasks = {e["name"]: e.get("task") for e in client.get("/api/2.0/serving-endpoints").json()["endpoints"]}
    assert tasks == {"chat-agent": "agent/v2/chat", "responses-agent": "agent/v1/responses", "chat-model": "agent/v1/chat"}
