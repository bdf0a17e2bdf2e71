"""Event streams from a hostile server (issue 23) against the generated Python client: a line that never ends is
refused at `max_event_chars` without quadratic work, a stream is ended at `stream_timeout`, and a long stream of
small events is parsed in time linear in its size."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from ..security.hostile import HostileHandler, hostile_server
from .conftest import SAMPLES, GeneratePackage

CHAT = SAMPLES / "foundation-model-chat.json"
TOKEN = "dapi-stream-limits"
REQUEST = {"messages": [{"role": "user", "content": "hi"}]}


def _events(write: Callable[[HostileHandler], None]) -> Callable[[HostileHandler], None]:
    def answer(handler: HostileHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        handler.close_connection = True
        write(handler)

    return answer


def _endless_line(handler: HostileHandler) -> None:
    for _ in range(64):
        handler.wfile.write(b"data: " + b"x" * 65536)  # 4 MiB, never a newline


def _slow(handler: HostileHandler) -> None:
    event = json.dumps({"choices": [{"delta": {"content": "a"}}]})
    end = time.monotonic() + 8
    while time.monotonic() < end:
        handler.wfile.write(f"data: {event}\n\n".encode())
        handler.wfile.flush()
        time.sleep(0.05)


def _many(handler: HostileHandler) -> None:
    event = json.dumps({"choices": [{"delta": {"content": "a"}}]})
    handler.wfile.write((f"data: {event}\n\n" * 20_000).encode() + b"data: [DONE]\n\n")


@pytest.fixture
def package(generated: GeneratePackage) -> object:
    return generated(CHAT, "typeddict")


def test_a_line_that_never_ends_is_refused_at_the_cap(package: object) -> None:
    with hostile_server(_events(_endless_line)) as server:
        client = package.Client(f"{server.url}/serving-endpoints/x", token=TOKEN, max_event_chars=256 * 1024)  # type: ignore[attr-defined]
        started = time.monotonic()
        with pytest.raises(package.ResponseError, match="longer than 262144 characters"):  # type: ignore[attr-defined]
            list(client.stream_meta_llama_v3_1_8b_instruct(REQUEST))
        assert time.monotonic() - started < 10
        client.close()


def test_a_stream_ends_at_its_deadline(package: object) -> None:
    with hostile_server(_events(_slow)) as server:
        client = package.Client(f"{server.url}/serving-endpoints/x", token=TOKEN, stream_timeout=1.0)  # type: ignore[attr-defined]
        started = time.monotonic()
        with pytest.raises(package.TransportError, match="stream_timeout"):  # type: ignore[attr-defined]
            list(client.stream_meta_llama_v3_1_8b_instruct(REQUEST))
        assert time.monotonic() - started < 5
        client.close()


def test_many_small_events_are_all_read(package: object) -> None:
    with hostile_server(_events(_many)) as server:
        client = package.Client(f"{server.url}/serving-endpoints/x", token=TOKEN)  # type: ignore[attr-defined]
        stream = client.stream_meta_llama_v3_1_8b_instruct(REQUEST)
        assert len(list(stream)) == 20_000
        assert stream.done
        client.close()
