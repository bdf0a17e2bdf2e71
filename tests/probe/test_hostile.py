"""A slow, failing or lying server: the probe stays within its budget and deadline and says what it did not do.

The servers are stdlib `http.server`s on 127.0.0.1, each counting the requests it received.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import schemakit
from schemakit.probe.report import render_probe
from schemakit.probe.runner import ProbeOptions, open_target, run_probe

from .conftest import SAMPLES

Behaviour = Callable[[BaseHTTPRequestHandler, bytes], None]


class Server:
    def __init__(self, behaviour: Behaviour) -> None:
        self.count = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with outer.lock:
                    outer.count += 1
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    behaviour(self, body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/invocations"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], Server]]:
    started: list[Server] = []

    def start(behaviour: Behaviour) -> Server:
        server = Server(behaviour)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json") -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="module")
def schema() -> schemakit.EndpointSchema:
    return schemakit.load(str(SAMPLES / "docs-example-dataframe.json"))


def test_a_slow_server_cannot_hold_the_run_past_its_deadline(
    serve: Callable[[Behaviour], Server], schema: schemakit.EndpointSchema
) -> None:
    def slow(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        time.sleep(3)
        _answer(handler, 200, b'{"predictions": [1.0]}')

    server = serve(slow)
    options = ProbeOptions(budget=40, rate=0, concurrency=2, deadline=2.0, request_timeout=10)
    began = time.monotonic()
    report = run_probe(schema, open_target(schema, server.url), options)
    elapsed = time.monotonic() - began
    assert elapsed < 2.0 + 1.5  # the deadline holds (a request in flight is cut at it)
    assert server.count <= 40
    assert report.judged == 0
    assert report.exit_code == 2
    text = "\n".join(report.not_done)
    assert "got no complete answer (no complete answer within" in text
    assert "not sent: the run's deadline of 2 s passed" in text
    assert "not sent: over the budget of 40" in text


def test_a_dripping_server_is_cut_at_the_request_timeout(
    serve: Callable[[Behaviour], Server], schema: schemakit.EndpointSchema
) -> None:
    def drip(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(30):
            handler.wfile.write(b"X-Drip: 1\r\n")
            handler.wfile.flush()
            time.sleep(0.2)

    server = serve(drip)
    options = ProbeOptions(budget=2, rate=0, concurrency=2, deadline=30, request_timeout=1.0)
    began = time.monotonic()
    report = run_probe(schema, open_target(schema, server.url), options)
    assert time.monotonic() - began < 3.0
    assert [o.kind for o in report.outcomes()] == ["no-answer", "no-answer"]


def test_budget_and_rate_hold_against_a_failing_server(
    serve: Callable[[Behaviour], Server], schema: schemakit.EndpointSchema
) -> None:
    def fail(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        _answer(handler, 500, b'{"error_code": "INTERNAL_ERROR", "message": "boom\\u001b[31m"}')

    server = serve(fail)
    options = ProbeOptions(budget=7, rate=20, concurrency=3, deadline=30)
    began = time.monotonic()
    report = run_probe(schema, open_target(schema, server.url), options)
    assert server.count == 7
    assert time.monotonic() - began >= 6 / 20  # seven starts at 20 a second span at least 0.3 s
    assert report.exit_code == 1
    assert [o.kind for o in report.outcomes()] == ["server-error"] * 7
    text = render_probe(report, "text")
    assert "5xx answers: " in text
    assert "\x1b" not in text  # the server's text is escaped
    assert "boom\\u001b[31m" in text


def test_a_server_that_accepts_anything_and_answers_garbage(
    serve: Callable[[Behaviour], Server], schema: schemakit.EndpointSchema, tmp_path: Path
) -> None:
    seen_auth: list[str] = []

    def garbage(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        seen_auth.append(handler.headers.get("Authorization", ""))
        # Echoes the credentials it was sent: they must not reach the report or the recording.
        _answer(
            handler, 200, b"<html>ok " + handler.headers.get("Authorization", "").encode() + b"</html>", "text/html"
        )

    server = serve(garbage)
    options = ProbeOptions(budget=20, rate=0, concurrency=2, deadline=30)
    target = open_target(schema, server.url, headers={"Authorization": "Bearer dapi0123456789abcdef0123"})
    report = run_probe(schema, target, options, record=tmp_path / "rec")
    assert seen_auth == ["Bearer dapi0123456789abcdef0123"] * 20
    kinds = {o.kind for o in report.outcomes()}
    assert kinds == {"accepted-invalid", "response-mismatch"}
    mismatch = next(o for o in report.outcomes() if o.kind == "response-mismatch")
    assert "not JSON (text/html" in mismatch.detail
    assert report.exit_code == 1
    for fmt in ("text", "json", "markdown", "junit"):
        assert "0123456789abcdef" not in render_probe(report, fmt)
    for path in (tmp_path / "rec").rglob("*.json"):
        assert "0123456789abcdef" not in path.read_text()
    recorded = json.loads((tmp_path / "rec" / "cases" / "00001.json").read_text())
    assert recorded["answer"]["body"] == "<html>ok ***</html>"


def test_a_schema_valid_payload_rejected_is_reported_with_the_server_answer(
    serve: Callable[[Behaviour], Server], schema: schemakit.EndpointSchema
) -> None:
    def picky(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        payload = json.loads(body) if body.startswith(b"{") else None
        if isinstance(payload, dict) and "dataframe_split" in payload and "params" not in payload:
            _answer(handler, 200, b'{"predictions": [0.5]}')
        else:
            _answer(handler, 400, b'{"error_code": "BAD_REQUEST", "message": "no"}')

    server = serve(picky)
    report = run_probe(schema, open_target(schema, server.url), ProbeOptions(budget=400, rate=0, concurrency=4))
    rejected = [o for o in report.disagreements if o.kind == "rejected-valid"]
    assert rejected
    assert all(o.detail == "HTTP 400: BAD_REQUEST no" for o in rejected)
    assert {o.case.format for o in rejected} == {"dataframe_split", "dataframe_records"}
    group = next(g for g in report.groups if g.format == "dataframe_split")
    assert group.score is not None
    assert 0 < group.score < 1


def test_target_headers_never_follow_a_redirect_off_the_target(
    serve: Callable[[Behaviour], Server], schema: schemakit.EndpointSchema
) -> None:
    elsewhere_auth: list[str] = []

    def elsewhere(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        elsewhere_auth.append(handler.headers.get("Authorization", ""))
        _answer(handler, 200, b'{"predictions": [0.5]}')

    other = serve(elsewhere)
    # Another origin: same host, another port.
    location = other.url.replace("127.0.0.1", "localhost")

    def redirect(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.send_response(307)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server = serve(redirect)
    target = open_target(schema, server.url, headers={"Authorization": "Bearer dapi0123456789abcdef0123"})
    report = run_probe(schema, target, ProbeOptions(budget=3, rate=0, concurrency=1))
    assert report.sent == 3
    assert elsewhere_auth == ["", "", ""]
