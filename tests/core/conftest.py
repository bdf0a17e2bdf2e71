"""Fixtures for the core tests: document builders, a real HTTP server on 127.0.0.1, a throwaway git repository."""

from __future__ import annotations

import copy
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
DOCS_EXAMPLE = SAMPLES / "docs-example-dataframe.json"
MODEL_PATH = "/served-models/model-1/invocations"
SCHEMA_POINTER = "/paths/~1served-models~1model-1~1invocations/post/requestBody/content/application~1json/schema"

LONG = {"type": "integer", "format": "int64"}
DOUBLE = {"type": "number", "format": "double"}
STRING = {"type": "string"}


def endpoint_document(request_schema: Any, response_schema: Any | None = None, **top: Any) -> dict[str, Any]:
    """A minimal, well-formed serving document with one served model (`model-1`) taking `request_schema`."""
    post: dict[str, Any] = {
        "requestBody": {"content": {"application/json": {"schema": request_schema}}},
        "responses": {
            "200": {
                "description": "Successful operation",
                "content": {
                    "application/json": {
                        "schema": response_schema
                        if response_schema is not None
                        else {"type": "object", "properties": {"predictions": {"type": "array", "items": DOUBLE}}}
                    }
                },
            }
        },
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "test-endpoint", "version": "1"},
        "servers": [{"url": "https://example.com/serving-endpoints/test-endpoint"}],
        "paths": {MODEL_PATH: {"post": post}},
    }
    document.update(top)
    return document


def records_request(properties: dict[str, Any], required: list[str] | None = None, **branch: Any) -> dict[str, Any]:
    """A oneOf with one dataframe_records branch."""
    items: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        items["required"] = required
    return {
        "oneOf": [{"type": "object", "properties": {"dataframe_records": {"type": "array", "items": items}}, **branch}]
    }


def docs_example() -> dict[str, Any]:
    return copy.deepcopy(json.loads(DOCS_EXAMPLE.read_text()))


@pytest.fixture
def docs() -> SimpleNamespace:
    """Document builders and constants shared by the core tests."""
    return SimpleNamespace(
        endpoint=endpoint_document,
        records=records_request,
        docs_example=docs_example,
        samples=SAMPLES,
        docs_example_path=DOCS_EXAMPLE,
        model_path=MODEL_PATH,
        schema_pointer=SCHEMA_POINTER,
        LONG=LONG,
        DOUBLE=DOUBLE,
        STRING=STRING,
    )


@pytest.fixture
def write_doc(tmp_path: Path) -> Callable[..., Path]:
    """`write_doc(document, name="doc.json")` writes a document (dict → JSON, str → text) and returns its path."""

    def write(document: Any, name: str = "doc.json") -> Path:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        return path

    return write


# -- a real HTTP server ----------------------------------------------------------------------------


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (a bounded wait, released when the server stops).
    delay: float = 0.0
    #: Stream the body in chunks without a Content-Length.
    chunked: bool = False


@dataclass
class LocalServer:
    """A stdlib HTTP server on 127.0.0.1 in a thread; records each request's path and headers."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _start_server() -> tuple[LocalServer, ThreadingHTTPServer, threading.Thread]:
    state = LocalServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = state.routes.get(self.path.split("?")[0], Route(404, b'{"error": "not found"}'))
            if route.delay:
                state.stop.wait(route.delay)
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(route.body), 4096):
                    chunk = route.body[start : start + 4096]
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that gave up (the timeout test) closes the socket mid-answer: expected here.
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return state, server, thread


@pytest.fixture
def route() -> type[Route]:
    """The `Route` class: `http_server.routes["/x"] = route(200, body)`."""
    return Route


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    state, server, thread = _start_server()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def second_http_server() -> Iterator[LocalServer]:
    """Another server on another port: a different origin for redirect tests."""
    state, server, thread = _start_server()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# -- a git repository --------------------------------------------------------------------------------


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., str]:
    """`commit(path, text)` commits a file in a fresh repository (the cwd for the CLI) and returns the commit id."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env_args = ["-c", "user.name=schemakit tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)

    def commit(path: str, text: str, message: str = "update") -> str:
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        subprocess.run(["git", "-C", str(repo), "add", path], check=True)
        subprocess.run(["git", "-C", str(repo), *env_args, "commit", "-q", "-m", message], check=True)
        result = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    commit.repo = repo  # type: ignore[attr-defined]
    return commit
