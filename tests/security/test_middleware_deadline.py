"""Issue 23: the ASGI middleware buffered up to 16 MB per connection with no time limit (a slowloris).

A client that sends its headers and then drips its body a byte at a time held a connection, and its
buffer, for as long as it liked. The body now has `body_timeout` seconds (30 by default) from the first
read: then the answer is 408 and the buffer is dropped. Real sockets on 127.0.0.1 under uvicorn.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

import schemakit
from schemakit import PayloadValidationASGIMiddleware

from .hostile import SAMPLE

pytestmark = pytest.mark.timeout(30)

PATH = "/served-models/vanilla_simple_model-2/invocations"
GOOD = b'{"dataframe_split": {"columns": ["int_col"], "data": [[1]]}}'


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"forwarded": true}'})


@contextlib.contextmanager
def _serve(app: Any) -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _send(port: int, body: bytes, *, every: float = 0.0, declared: int | None = None) -> bytes:
    """POST `body` a piece at a time (one byte every `every` seconds when dripping); the raw answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {declared if declared is not None else len(body)}\r\n\r\n"
        conn.sendall(head.encode())
        if every:
            conn.settimeout(0.001)
            for byte in body:
                with contextlib.suppress(OSError):
                    conn.sendall(bytes([byte]))
                try:
                    answer = conn.recv(65536)
                except (TimeoutError, BlockingIOError):
                    time.sleep(every)
                    continue
                except OSError:
                    break
                return answer
            conn.settimeout(20)
        else:
            conn.sendall(body)
        return conn.recv(65536)


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemakit.load(str(SAMPLE))


def test_a_dripping_body_gets_408(schema: Any) -> None:
    app = PayloadValidationASGIMiddleware(_app, schema, body_timeout=1.0)
    with _serve(app) as port:
        started = time.monotonic()
        answer = _send(port, GOOD * 100, every=0.05)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"REQUEST_TIMEOUT" in answer
        assert time.monotonic() - started < 10
        # A body that never comes at all: headers only.
        answer = _send(port, b"", declared=100)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        # The server goes on answering.
        assert _send(port, GOOD).startswith(b"HTTP/1.1 200")


def test_bodies_within_the_deadline_pass(schema: Any) -> None:
    app = PayloadValidationASGIMiddleware(_app, schema, body_timeout=5.0)
    with _serve(app) as port:
        assert _send(port, GOOD, every=0.01).startswith(b"HTTP/1.1 200")
        assert _send(port, GOOD).startswith(b"HTTP/1.1 200")
        assert _send(port, b'{"dataframe_split": 1}').startswith(b"HTTP/1.1 400")


def test_the_default_deadline_and_bad_values(schema: Any) -> None:
    assert PayloadValidationASGIMiddleware(_app, schema).body_timeout == 30.0
    assert PayloadValidationASGIMiddleware(_app, schema, body_timeout=None).body_timeout is None
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="body_timeout"):
            PayloadValidationASGIMiddleware(_app, schema, body_timeout=bad)
