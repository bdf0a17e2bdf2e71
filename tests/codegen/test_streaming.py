"""Streaming chat methods of generated clients, over real server-sent events from the emulator."""

from __future__ import annotations

import asyncio

import pytest

from schemakit.testing import MockServer

from .conftest import SAMPLES, GeneratePackage

CHAT = SAMPLES / "foundation-model-chat.json"
TOKEN = "dapi-stream"


@pytest.fixture
def server() -> MockServer:
    with MockServer([CHAT], token=TOKEN) as running:
        yield running


def _base(server: MockServer, pkg: object) -> str:
    return f"{server.url}/serving-endpoints/{pkg.ENDPOINT}"  # type: ignore[attr-defined]


@pytest.mark.parametrize("model_type", ["pydantic", "typeddict"])
def test_sync_stream_yields_typed_chunks_and_assembles_the_message(
    generated: GeneratePackage, server: MockServer, model_type: str
) -> None:
    pkg = generated(CHAT, model_type)
    chat = pkg.meta_llama_v3_1_8b_instruct
    request = {"messages": [{"role": "user", "content": "hello there"}], "max_tokens": 20}
    with pkg.Client(_base(server, pkg), token=TOKEN) as client:
        whole = client.predict_meta_llama_v3_1_8b_instruct(chat.to_request(request))
        stream = client.stream_meta_llama_v3_1_8b_instruct(request)
        chunks = list(stream)
    assert stream.done
    assert len([c for c in chunks if c.get("choices")]) >= 2
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    expected = (
        whole["choices"][0]["message"]["content"] if model_type == "typeddict" else whole.choices[0].message.content
    )
    assert stream.text == expected
    assert stream.message == {"role": "assistant", "content": expected}
    assert stream.finish_reason == "stop"


def test_stream_retries_429_before_the_stream_starts(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated(CHAT, "dataclasses")
    server.configure(pkg.ENDPOINT, throttle_queries=1, retry_after=0)
    with pkg.Client(_base(server, pkg), token=TOKEN, backoff=0.01) as client:
        stream = client.stream_meta_llama_v3_1_8b_instruct({"messages": [{"role": "user", "content": "hi"}]})
        text = "".join(
            piece
            for chunk in stream
            for choice in chunk.get("choices", [])
            for piece in [choice.get("delta", {}).get("content", "")]
        )
    assert text == stream.text
    assert stream.text
    posts = [r for r in server.requests if r.path.endswith("/invocations")]
    assert len(posts) == 2  # one 429, then the stream


def test_stream_errors_are_typed(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated(CHAT, "dataclasses")
    with pkg.Client(_base(server, pkg), token="dapi-wrong") as client, pytest.raises(pkg.EndpointError) as caught:
        client.stream_meta_llama_v3_1_8b_instruct({"messages": [{"role": "user", "content": "hi"}]})
    assert caught.value.status in (401, 403)
    assert "dapi-wrong" not in str(caught.value)


def test_async_stream(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated(CHAT, "msgspec")

    async def run() -> tuple[list[object], str]:
        async with pkg.AsyncClient(_base(server, pkg), token=TOKEN) as client:
            stream = await client.stream_meta_llama_v3_1_8b_instruct({"messages": [{"role": "user", "content": "hi"}]})
            chunks = [chunk async for chunk in stream]
            return chunks, stream.text

    chunks, text = asyncio.run(run())
    assert len(chunks) >= 3
    assert text
