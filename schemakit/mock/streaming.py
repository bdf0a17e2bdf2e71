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

__all__ = ["SSE_CONTENT_TYPE", "stream_events", "wants_stream"]

SSE_CONTENT_TYPE = "text/event-stream"
#: Characters per chunk: small, so even a short answer comes in several events.
_CHUNK_CHARS = 8
#: The most content events per choice.
_MAX_PIECES = 512


def wants_stream(payload: Mapping[str, Any]) -> bool:
    """A chat or completions request that asks for a stream (`"stream": true`, exactly)."""
    return payload.get("stream") is True and ("messages" in payload or "prompt" in payload)


def stream_events(answer: Any, payload: Mapping[str, Any], include_usage: bool | None = None) -> bytes:
    """The whole event stream for a non-streamed `answer` (a chat completion or a text completion).

    `include_usage` is `stream_options.include_usage` of the OpenAI-compatible routes: True adds a last chunk
    with `usage` and no choices, False leaves usage out; None (the invocations route) sends the usage chunk
    when the answer has usage.
    """
    body = answer if isinstance(answer, Mapping) else {}
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


def _choice_text(choice: Mapping[str, Any], chat: bool) -> str:
    if chat:
        message = choice.get("message")
        content = message.get("content") if isinstance(message, Mapping) else None
    else:
        content = choice.get("text")
    return content if isinstance(content, str) else ""
