"""Streamed answers: `"stream": true` chat and completions requests, as server-sent events.

The serving platform answers a streaming request with `text/event-stream`: one
`data: {chunk}` event per piece of the answer, in OpenAI's chunk shape
(`chat.completion.chunk` with `choices[].delta`, or `text_completion` with
`choices[].text`), then `data: [DONE]`. The emulator cuts its deterministic answer
into such chunks, so a client that assembles the stream gets exactly the
non-streamed answer's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["SSE_CONTENT_TYPE", "responses_events", "stream_events", "wants_stream"]

SSE_CONTENT_TYPE = "text/event-stream"
#: Characters per chunk: small, so even a short answer comes in several events.
_CHUNK_CHARS = 8
#: The most content events per choice.
_MAX_PIECES = 512


def wants_stream(payload: Mapping[str, Any]) -> bool:
    """A chat, completions or Responses request that asks for a stream (`"stream": true`, exactly)."""
    return payload.get("stream") is True and any(key in payload for key in ("messages", "prompt", "input"))


def stream_events(answer: Any, payload: Mapping[str, Any], include_usage: bool | None = None) -> bytes:
    """The whole event stream for a non-streamed `answer` (a chat completion or a text completion).

    `include_usage` is `stream_options.include_usage` of the OpenAI-compatible routes: True adds a last chunk
    with `usage` and no choices, False leaves usage out; None (the invocations route) sends the usage chunk
    when the answer has usage.
    """
    body = answer if isinstance(answer, Mapping) else {}
    if isinstance(body.get("output"), list) and body.get("object") == "response":
        return responses_events(body)
    if isinstance(body.get("messages"), list) and "choices" not in body:
        return _chat_agent_events(body)
    chat = "messages" in payload
    base = {key: body[key] for key in ("id", "model", "created") if key in body}
    base["object"] = "chat.completion.chunk" if chat else "text_completion"
    choices = body.get("choices") if isinstance(body.get("choices"), list) else []
    events: list[dict[str, Any]] = []
    for position, choice in enumerate(choices or [{}]):
        choice = choice if isinstance(choice, Mapping) else {}
        index = choice.get("index", position)
        text = _choice_text(choice, chat)
        # Longer answers come in longer pieces: the number of events stays bounded, whatever the text's length.
        size = max(_CHUNK_CHARS, -(-len(text) // _MAX_PIECES))
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        if len(pieces) == 1:
            # At least two content events, so clients are tested on assembling pieces.
            pieces = [pieces[0][: len(pieces[0]) // 2], pieces[0][len(pieces[0]) // 2 :]]
        for number, piece in enumerate(pieces):
            if chat:
                delta: dict[str, Any] = {"content": piece}
                if number == 0:
                    delta = {"role": "assistant", **delta}
                events.append({**base, "choices": [{"index": index, "delta": delta, "finish_reason": None}]})
            else:
                events.append({**base, "choices": [{"index": index, "text": piece, "finish_reason": None}]})
        finish = choice.get("finish_reason") or "stop"
        closing: dict[str, Any] = {"index": index, "finish_reason": finish}
        closing["delta" if chat else "text"] = {} if chat else ""
        events.append({**base, "choices": [closing]})
    if include_usage is not False and isinstance(body.get("usage"), Mapping):
        events.append({**base, "choices": [], "usage": body["usage"]})
    elif include_usage:
        events.append({**base, "choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})
    out = bytearray()
    for event in events:
        out += b"data: " + orjson.dumps(event) + b"\n\n"
    out += b"data: [DONE]\n\n"
    return bytes(out)


def _chat_agent_events(body: Mapping[str, Any]) -> bytes:
    """A ChatAgent's stream: `ChatAgentChunk`s, each a `delta` message piece under the message's id."""
    out = bytearray()
    for message in body["messages"]:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        size = max(_CHUNK_CHARS, -(-len(text) // _MAX_PIECES))
        for i in range(0, max(len(text), 1), size):
            delta = {"role": message.get("role", "assistant"), "content": text[i : i + size], "id": message.get("id")}
            out += b"data: " + orjson.dumps({"delta": delta}) + b"\n\n"
    out += b"data: [DONE]\n\n"
    return bytes(out)


def responses_events(response: Mapping[str, Any]) -> bytes:
    """The Responses API event stream for `response`: created, the text in deltas, done events, completed."""
    message = response["output"][0]
    text = message["content"][0]["text"]
    size = max(16, -(-len(text) // _MAX_PIECES))
    pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    in_progress = {**response, "status": "in_progress", "output": [], "usage": None}
    item_open = {**message, "status": "in_progress", "content": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": in_progress},
        {"type": "response.in_progress", "response": in_progress},
        {"type": "response.output_item.added", "output_index": 0, "item": item_open},
        {
            "type": "response.content_part.added",
            "item_id": message["id"],
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": message["id"],
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "logprobs": [],
            }
        )
    events += [
        {
            "type": "response.output_text.done",
            "item_id": message["id"],
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": message["id"],
            "output_index": 0,
            "content_index": 0,
            "part": message["content"][0],
        },
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        {"type": "response.completed", "response": response},
    ]
    out = bytearray()
    for number, event in enumerate(events):
        event = {**event, "sequence_number": number}
        out += b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
    return bytes(out)


def _choice_text(choice: Mapping[str, Any], chat: bool) -> str:
    if chat:
        message = choice.get("message")
        content = message.get("content") if isinstance(message, Mapping) else None
    else:
        content = choice.get("text")
    return content if isinstance(content, str) else ""
