"""The one HTTP layer: the rules every request of schemakit and of generated clients follows."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from schemakit.runtime import http

TOKEN = "dapi0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), (" 7 ", 7.0), ("-1", None), ("nan", None), ("inf", None), ("soon", None), ("", None)],
)
def test_retry_after_seconds(value: str, expected: float | None) -> None:
    assert http.parse_retry_after(value) == expected


def test_retry_after_http_date() -> None:
    now = 1_700_000_000.0  # 2023-11-14T22:13:20Z
    assert http.parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now=now) == pytest.approx(30.0)
    assert http.parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now=now) == 0.0


def test_error_summary_scrubs_before_it_cuts() -> None:
    for offset in range(280, 301):
        code, message = http.error_summary(("x" * offset + TOKEN + " tail").encode(), "text/plain", [TOKEN], limit=300)
        assert code is None
        pieces = {TOKEN[i : i + 8] for i in range(len(TOKEN) - 7)}
        assert not any(piece in message for piece in pieces), (offset, message)
    code, message = http.error_summary(b'{"error_code": "X ' + TOKEN.encode() + b'", "message": "m"}', "", [TOKEN])
    assert code == "X ***"
    assert message == "m"
    assert http.error_summary(b"<html>" + TOKEN.encode(), "text/html", [TOKEN]) == (None, "")


def test_scrub_masks_token_shapes_it_was_never_told_about() -> None:
    assert http.scrub(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer ***"
    assert http.scrub(f"echo {TOKEN}") == "echo ***"


def test_a_redirect_off_the_origin_drops_credentials_for_the_rest_of_the_chain() -> None:
    home = "https://ws.example.com/api"
    hop = http.Hop("GET", home, None, True)
    away = http.follow(hop, 302, "https://elsewhere.example.net/x", home)
    assert away is not None
    assert not away.authenticated
    back = http.follow(away, 302, "https://ws.example.com/api/2", home)
    assert back is not None
    assert not back.authenticated
    post = http.follow(http.Hop("POST", home, b"{}", True), 303, "/other", home)
    assert post == http.Hop("GET", "https://ws.example.com/other", None, True)
    with pytest.raises(http.TooManyRedirects):
        http.follow(hop, 302, "file:///etc/passwd", home)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost", True),
        ("http://example.com", False),
        ("ftp://example.com", False),
    ],
)
def test_check_transport(url: str, ok: bool) -> None:
    if ok:
        http.check_transport(url)
    else:
        with pytest.raises(ValueError):
            http.check_transport(url)


@pytest.fixture
def dripping_headers() -> Iterator[int]:
    """Sends a status line and headers one byte every 0.3 s: each read is quick, the whole is not."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\nok":
                if stop.is_set():
                    break
                try:
                    conn.send(bytes([byte]))
                except OSError:
                    break
                time.sleep(0.3)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


@pytest.mark.timeout(20)
def test_the_deadline_bounds_headers_dripped_a_byte_at_a_time(dripping_headers: int) -> None:
    with httpx.Client() as client, pytest.raises(http.DeadlineExceeded):
        http.send(client, "GET", f"http://127.0.0.1:{dripping_headers}/", deadline=http.Deadline(1.5))


@pytest.mark.timeout(20)
def test_the_async_deadline_bounds_them_too(dripping_headers: int) -> None:
    async def call() -> None:
        async with httpx.AsyncClient() as client:
            await http.asend(client, "GET", f"http://127.0.0.1:{dripping_headers}/", deadline=http.Deadline(1.5))

    with pytest.raises(http.DeadlineExceeded):
        asyncio.run(call())
