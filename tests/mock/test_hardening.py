"""The emulator faces any client: bodies, methods, state files and logs that try to break it."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from schemakit._exceptions import SourceError
from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS = SAMPLES / "docs-example-dataframe.json"
CHAT = SAMPLES / "foundation-model-chat.json"


def _raw(server: MockServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("size", [b"-1", b"+5", b"0x10", b"zz", b""])
def test_a_chunk_size_that_is_not_hex_digits_is_refused(size: bytes) -> None:
    with MockServer([DOCS], token="dapi-test", max_body_bytes=1024) as server:
        head = (
            b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer dapi-test\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        answer = _raw(server, head + size + b"\r\n" + b"x" * 4096 + b"\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Malformed chunked request body" in answer


def test_a_chunked_body_over_the_limit_is_413_not_buffered() -> None:
    with MockServer([DOCS], token="dapi-test", max_body_bytes=1024) as server:
        head = (
            b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer dapi-test\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        answer = _raw(server, head + b"800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413")


def test_unauthenticated_bodies_are_not_kept_and_kept_bodies_are_bounded() -> None:
    with MockServer([DOCS], token="dapi-test") as server:
        url = server.invocations_url("example-endpoint")
        httpx.post(url, content=b"x" * 100_000, headers={"Authorization": "Bearer nope"})
        [recorded] = server.requests
        assert recorded.status == 401
        assert recorded.body == b""


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "BREW"])
def test_any_method_on_a_known_path_is_405_with_allow(method: str) -> None:
    with MockServer([DOCS], token="dapi-test") as server, server.client() as client:
        response = client.request(method, "/api/2.0/serving-endpoints/example-endpoint")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, DELETE"
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"


def test_control_characters_in_a_request_line_do_not_reach_the_log() -> None:
    lines: list[str] = []
    with MockServer([DOCS], token="dapi-test", access_log=lines.append) as server:
        _raw(server, b"GET /x%1b]0;pwned%07\x1b[2J HTTP/1.1\r\nHost: x\r\n\r\n")
    assert lines
    assert all("\x1b" not in line and "\x07" not in line for line in lines)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"creation_timestamp": "yesterday"}, "creation_timestamp: expected milliseconds"),
        ({"last_updated_timestamp": 10**30}, "last_updated_timestamp: expected milliseconds"),
        ({"ready_after_seconds": 10**30}, "ready_after_seconds must be at most"),
        ({"stopped": "yes"}, "stopped: expected true or false"),
    ],
)
def test_a_damaged_state_file_is_one_clear_error(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"endpoints": {"example-endpoint": entry}}))
    with pytest.raises(SourceError, match=message):
        MockServer([DOCS], token="dapi-test", state_file=state).start()


def test_two_users_with_one_token_is_one_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    users = [{"name": "a", "token": "dapi-same"}, {"name": "b", "token": "dapi-same"}]
    state.write_text(json.dumps({"users": users}))
    with pytest.raises(SourceError, match="already belongs to 'a'"):
        MockServer([DOCS], token="dapi-test", state_file=state).start()


def test_chat_streams_server_sent_events() -> None:
    payload = {"messages": [{"role": "user", "content": "hi"}], "stream": True}
    with MockServer([CHAT], token="dapi-test") as server, server.client() as client:
        name = server.endpoints[0]
        response = client.post(f"/serving-endpoints/{name}/invocations", json=payload)
        plain = client.post(f"/serving-endpoints/{name}/invocations", json={"messages": payload["messages"]}).json()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert len([d for d in deltas if d]) >= 2 or len(chunks) >= 3
    assert "".join(deltas) == plain["choices"][0]["message"]["content"]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_a_chat_request_over_4_mb_is_413() -> None:
    big = {"messages": [{"role": "user", "content": "x" * (4 * 1024 * 1024)}]}
    with MockServer([CHAT], token="dapi-test") as server, server.client() as client:
        response = client.post(f"/serving-endpoints/{server.endpoints[0]}/invocations", json=big)
    assert response.status_code == 413
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert "at most 4,194,304 bytes" in response.json()["message"]


def test_object_requests_are_answered_unwrapped_when_the_response_allows_both(tmp_path: Path) -> None:
    # MLflow agents' documents: the 200 answer is the unwrapped answer, or {"predictions": ...} for dataframes.
    document = json.loads(CHAT.read_text())
    for path in document["paths"].values():
        content = path["post"]["responses"]["200"]["content"]["application/json"]
        answer = content["schema"]
        content["schema"] = {
            "oneOf": [
                {"title": "predictions", "type": "object", "properties": {"predictions": answer}, "required": ["predictions"]},
                {**answer, "title": "unwrapped"},
            ]
        }
    source = tmp_path / "agent.json"
    source.write_text(json.dumps(document))
    payload = {"messages": [{"role": "user", "content": "hi"}]}
    with MockServer([source], token="dapi-test") as server, server.client() as client:
        answer = client.post(f"/serving-endpoints/{server.endpoints[0]}/invocations", json=payload).json()
    assert "predictions" not in answer
    assert "choices" in answer
