"""Issue 23: the shipped sample proxies forwarded any method's body as a POST, to any workspace path.

`samples/apps/asgi_proxy.py` sent PUT, PATCH and DELETE bodies upstream unvalidated (the middleware checks
POST bodies), as POSTs, and built the upstream URL from the request path, so `..` (also `%2e%2e`, a
backslash) reached any workspace POST API with the proxy's token. Now only a POST to an invocation route
of a known served model goes upstream, to a URL built from the validated route; other methods there get
405, other paths 404. Real sockets on 127.0.0.1: uvicorn in front, a recording server as the upstream.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import runpy
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import uvicorn

from .hostile import ROOT, TOKEN, HostileHandler, hostile_server

pytestmark = pytest.mark.timeout(60)

APPS = ROOT / "samples" / "apps"
MODEL = "vanilla_simple_model-2"
GOOD = json.dumps({"dataframe_split": {"columns": ["int_col"], "data": [[1]]}}).encode()
HOSTILE_PATHS = [
    "/served-models/../api/2.0/secrets/put/invocations",
    f"/served-models/{MODEL}/../../api/2.0/jobs/create",
    f"/served-models/{MODEL}/invocations/../../../api/2.0/jobs/create",
    "/served-models/%2e%2e/api/2.0/jobs/create/invocations",
    f"/served-models/{MODEL}%2f..%2f..%2fapi/invocations",
    "/served-models/..%5c..%5capi/invocations",
    "/served-models/..\\..\\api/invocations",
    "//served-models/x/invocations",
    "/served-models/unknown-model/invocations",
    "/api/2.0/serving-endpoints",
    f"/served-models/{MODEL}/invocations/extra",
]


@contextlib.contextmanager
def _asgi(app: Any) -> Iterator[int]:
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


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _wsgi(app: Any) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _request(port: int, method: str, path: str, body: bytes = GOOD) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)  # the path goes out exactly as written
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def answer(handler: HostileHandler) -> None:
        handler.reply(200, b'{"predictions": [1.0]}')

    with hostile_server(answer) as server:
        monkeypatch.setenv("UPSTREAM", f"http://127.0.0.1:{server.server_address[1]}/serving-endpoints/ep")
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        yield server


def test_asgi_proxy_forwards_only_validated_posts_to_invocation_routes(upstream: Any) -> None:
    app = runpy.run_path(str(APPS / "asgi_proxy.py"), run_name="sample")["app"]
    with _asgi(app) as port:
        for method in ("PUT", "PATCH", "DELETE", "GET"):
            assert _request(port, method, f"/served-models/{MODEL}/invocations", b'{"anything": 1}') == 405
        for path in HOSTILE_PATHS:
            assert _request(port, "POST", path) in (400, 404), path
        assert upstream.seen == []
        assert _request(port, "POST", f"/served-models/{MODEL}/invocations", b'{"dataframe_split": 7}') == 400
        assert upstream.seen == []
        assert _request(port, "POST", f"/served-models/{MODEL}/invocations") == 200
        assert _request(port, "POST", "/invocations") == 200
    assert [(method, path) for method, path, _headers in upstream.seen] == [
        ("POST", f"/serving-endpoints/ep/served-models/{MODEL}/invocations"),
        ("POST", "/serving-endpoints/ep/invocations"),
    ]


def test_wsgi_proxy_answers_only_posts_to_invocation_routes() -> None:
    app = runpy.run_path(str(APPS / "wsgi_proxy.py"), run_name="sample")["application"]
    with _wsgi(app) as port:
        for method in ("PUT", "PATCH", "DELETE"):
            assert _request(port, method, f"/served-models/{MODEL}/invocations", b'{"anything": 1}') == 405
        for path in HOSTILE_PATHS:
            if "\\" not in path:  # wsgiref refuses nothing; the route does
                assert _request(port, "POST", path) in (400, 404), path
        assert _request(port, "POST", f"/served-models/{MODEL}/invocations") == 200
