"""Helpers for the workspace tests: running the CLI, tiny stdlib servers for faults, constants.

Every server listens on loopback on a free port. The stub servers (`StubServer`) answer with whatever a test's
handler returns and record what they were sent, so a test can check which headers reached which host.
"""

from __future__ import annotations

import http.client
import http.server
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "docs-example-dataframe.json"
ENDPOINT = "example-endpoint"
#: Distinctive, so a leak anywhere is found by a plain substring search.
ADMIN_TOKEN = "dapi-admin-5ecret-7f3a9c1e2b4d6f80"
ALICE_TOKEN = "dapi-alice-5ecret-19e8d7c6b5a40312"

AMBIENT_PREFIXES = ("DATABRICKS_", "ARM_", "GOOGLE_CREDENTIALS", "AZURE_")


def cli_env(**extra: str) -> dict[str, str]:
    """The current (cleaned) environment plus `extra`, for a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(AMBIENT_PREFIXES)}
    env.pop("SCHEMAKIT_DEBUG", None)
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`schemakit ARGS` in process, through the same error translation as `python -m schemakit`."""
    from tests.conftest import run_cli_in_process  # in process (pytest loaded it as tests.conftest)

    return run_cli_in_process(*args, env=env if env is not None else cli_env(), input=input)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[Seen, "StubServer"], Reply]


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) leaves a broken pipe behind: expected, not worth a traceback.
        return


@dataclass
class StubServer:
    """A stdlib HTTP server whose answers come from `handler`; records every request it gets."""

    handler: Handler
    host: str = "127.0.0.1"
    seen: list[Seen] = field(default_factory=list)
    _httpd: http.server.ThreadingHTTPServer | None = None

    def __enter__(self) -> StubServer:
        stub = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                stub.seen.append(request)
                status, headers, content = stub.handler(request, stub)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = do_PATCH = _serve

        httpd = _QuietServer((self.host, 0), _Handler)
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://{self.host}:{self._httpd.server_address[1]}"


def forward(upstream: str, request: Seen) -> Reply:
    """Send `request` on to `upstream` (the emulator) as it came, and return its answer."""
    host_port = upstream.removeprefix("http://")
    connection = http.client.HTTPConnection(host_port, timeout=30)
    try:
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length", "connection")}
        connection.request(request.method, request.path, body=request.body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        kept = {k: v for k, v in response.getheaders() if k.lower() in ("content-type", "retry-after")}
        return response.status, kept, content
    finally:
        connection.close()


def json_reply(status: int, text: str, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, text.encode()


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def oidc_handler(access_token: str, client_id: str, client_secret: str) -> Handler:
    """An OAuth authorization server for machine-to-machine logins: discovery and a client-credentials grant."""
    import base64
    import json

    expected = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

    def handle(request: Seen, server: StubServer) -> Reply:
        if request.method == "GET" and request.path.endswith("/.well-known/oauth-authorization-server"):
            base = server.url
            return json_reply(
                200,
                json.dumps(
                    {
                        "issuer": f"{base}/oidc",
                        "authorization_endpoint": f"{base}/oidc/v1/authorize",
                        "token_endpoint": f"{base}/oidc/v1/token",
                    }
                ),
            )
        if request.method == "POST" and request.path == "/oidc/v1/token":
            if request.headers.get("authorization") != expected or b"grant_type=client_credentials" not in request.body:
                return json_reply(401, '{"error": "invalid_client"}')
            return json_reply(
                200, json.dumps({"access_token": access_token, "token_type": "Bearer", "expires_in": 3600})
            )
        return json_reply(404, '{"error": "not found"}')

    return handle
