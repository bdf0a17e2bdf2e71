"""The ASGI and WSGI middleware over real sockets on 127.0.0.1 (uvicorn, wsgiref)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import uvicorn

from schemakit import EndpointSchema, PayloadValidationASGIMiddleware, PayloadValidationWSGIMiddleware

PATH = "/served-models/vanilla_simple_model-2/invocations"
GOOD = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 2.5, "a"]]}}
BAD = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, "abc", "a"]]}}


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


async def echo_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    answer = json.dumps({"forwarded": json.loads(body)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer})


def echo_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"forwarded": json.loads(body)}).encode()]


@pytest.fixture
def asgi_url(docs_schema: EndpointSchema) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = PayloadValidationASGIMiddleware(echo_asgi, docs_schema)
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def wsgi_url(docs_schema: EndpointSchema) -> Iterator[str]:
    app = PayloadValidationWSGIMiddleware(echo_wsgi, docs_schema)
    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.parametrize("server", ["asgi_url", "wsgi_url"])
def test_valid_body_is_forwarded_unchanged(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    status, body = post(url + PATH, json.dumps(GOOD).encode())
    assert status == 200
    assert body == {"forwarded": GOOD}


@pytest.mark.parametrize("server", ["asgi_url", "wsgi_url"])
def test_invalid_body_gets_400_with_the_report(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    status, body = post(url + PATH, json.dumps(BAD).encode())
    assert status == 400
    assert body["error_code"] == "BAD_REQUEST"
    assert "row 0, column float_col ($.dataframe_split.data[0][1]): expected double" in body["message"]
    assert body["report"]["ok"] is False
    assert body["report"]["problems"][0]["code"] == "type"


@pytest.mark.parametrize("server", ["asgi_url", "wsgi_url"])
def test_body_that_is_not_json_gets_400(server: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(server)
    status, body = post(url + PATH, b"{not json")
    assert status == 400
    assert body["report"]["problems"][0]["code"] == "invalid-json"


def test_add_middleware_with_path_patterns_leaves_the_apps_own_routes_alone(docs_schema: EndpointSchema) -> None:
    starlette = pytest.importorskip("starlette.applications")
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def forward(request: Any) -> Any:
        return JSONResponse({"forwarded": await request.json()})

    async def feedback(request: Any) -> Any:
        return JSONResponse({"thanks": await request.json()})

    app = starlette.Starlette(
        routes=[
            Route("/invocations", forward, methods=["POST"]),
            Route("/models/{name}/invocations", forward, methods=["POST"]),
            Route("/feedback", feedback, methods=["POST"]),
        ]
    )
    # As FastAPI and Starlette apps add middleware: the class and its keyword arguments.
    app.add_middleware(
        PayloadValidationASGIMiddleware, validator=docs_schema, paths=["/invocations", "/models/*/invocations"]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        base = f"http://127.0.0.1:{port}"
        assert post(f"{base}/invocations", json.dumps(GOOD).encode())[0] == 200
        assert post(f"{base}/invocations", json.dumps(BAD).encode())[0] == 400
        assert post(f"{base}/models/ads/invocations", json.dumps(BAD).encode())[0] == 400
        status, answer = post(f"{base}/feedback", json.dumps({"stars": 5}).encode())
        assert (status, answer) == (200, {"thanks": {"stars": 5}})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
