"""The OpenAI-compatible routes, called by the real `openai` package as Databricks documents it.

`OpenAI(api_key=TOKEN, base_url=HOST + "/serving-endpoints")`, `model=` the endpoint; and databricks-sdk's
`w.serving_endpoints.get_open_ai_client()`. One emulator for the module.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemakit.core.resolve import resolve
from schemakit.testing import MockServer

openai = pytest.importorskip("openai")

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOKEN = "dapi-openai-routes"


def _responses_agent_document() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow.types.responses warns about `Any` type hints at import
        from mlflow.models.signature import ModelSignature
        from mlflow.types.responses import RESPONSES_AGENT_INPUT_SCHEMA, RESPONSES_AGENT_OUTPUT_SCHEMA

    from schemakit.mlflow.document import document_from_signature

    signature = ModelSignature(RESPONSES_AGENT_INPUT_SCHEMA, RESPONSES_AGENT_OUTPUT_SCHEMA).to_dict()
    return document_from_signature(
        signature, endpoint="responses-agent", served_model="agent-1", task="agent/v1/responses"
    )


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    pytest.importorskip("mlflow")
    sources: list[Any] = [
        SAMPLES / "foundation-model-chat.json",
        SAMPLES / "foundation-model-completions.json",
        SAMPLES / "foundation-model-embeddings.json",
        SAMPLES / "docs-example-dataframe.json",
        resolve(_responses_agent_document(), source="responses-agent"),
    ]
    with MockServer(sources, token=TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: MockServer) -> Iterator[Any]:
    with openai.OpenAI(api_key=TOKEN, base_url=server.url + "/serving-endpoints", max_retries=0) as running:
        yield running


def test_chat_completions(client: Any) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    answer = client.chat.completions.create(model="chat-endpoint", messages=messages, max_tokens=32)
    assert answer.choices[0].message.role == "assistant"
    assert isinstance(answer.choices[0].message.content, str)
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    again = client.chat.completions.create(model="chat-endpoint", messages=messages, max_tokens=32)
    assert again.choices[0].message.content == answer.choices[0].message.content


def test_chat_streaming_assembles_the_same_text_with_usage_on_request(client: Any) -> None:
    messages = [{"role": "user", "content": "Hello"}]
    whole = client.chat.completions.create(model="chat-endpoint", messages=messages).choices[0].message.content
    stream = client.chat.completions.create(
        model="chat-endpoint", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens > 0
    plain = list(client.chat.completions.create(model="chat-endpoint", messages=messages, stream=True))
    assert all(c.usage is None for c in plain)
    assert plain[-1].choices[0].finish_reason == "stop"


def test_completions_and_embeddings(client: Any) -> None:
    text = client.completions.create(model="completions-endpoint", prompt="Say hi").choices[0].text
    assert isinstance(text, str)
    assert text
    # The openai package asks for base64 unless told otherwise, and decodes it into floats.
    vectors = client.embeddings.create(model="embeddings-endpoint", input=["a", "b", "c"])
    assert [d.index for d in vectors.data] == [0, 1, 2]
    assert all(isinstance(x, float) for x in vectors.data[0].embedding)
    floats = client.embeddings.create(model="embeddings-endpoint", input="a", encoding_format="float")
    assert len(floats.data[0].embedding) == len(vectors.data[0].embedding)


def test_responses(client: Any) -> None:
    answer = client.responses.create(model="responses-agent", input="What is MLflow?")
    assert answer.object == "response"
    assert answer.status == "completed"
    assert answer.output_text
    events = list(client.responses.create(model="responses-agent", input="What is MLflow?", stream=True))
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == answer.output_text
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_errors_are_the_classes_openai_raises(client: Any) -> None:
    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="chat-endpoint", messages=[{"role": "user", "content": 5}])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-endpoint", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="invocations"):
        client.chat.completions.create(model="example-endpoint", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="llm/v1/chat"):
        client.embeddings.create(model="chat-endpoint", input="x")
    with (
        openai.OpenAI(api_key="wrong", base_url=client.base_url, max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.chat.completions.create(model="chat-endpoint", messages=[{"role": "user", "content": "x"}])


def test_databricks_sdk_open_ai_client(server: MockServer) -> None:
    sdk = pytest.importorskip("databricks.sdk")
    w = sdk.WorkspaceClient(host=server.url, token=TOKEN)
    with pytest.warns(DeprecationWarning, match="databricks-openai"):
        client = w.serving_endpoints.get_open_ai_client(max_retries=0)
    with client:
        answer = client.chat.completions.create(model="chat-endpoint", messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content
