"""What the security tests and the fuzzing suite share: canaries, a recording listener, a CLI runner, hostile servers.

Canaries are distinctive strings: a leak anywhere is found by a substring search. The token is not shaped like a
real `dapi<hex>` token, so only explicit scrubbing (not the token-shape pattern) can hide it: a test that passes
proves the value itself was scrubbed.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SAMPLE = SAMPLES / "docs-example-dataframe.json"

#: A token that must never be seen again once handed to schemakit.
TOKEN = "dapi-CANARY-tok-5f1e9a7c3b2d4e6f8a0b"
#: What the canary file holds; no byte of it may reach any output.
CANARY_TEXT = "CANARY-FILE-CONTENT-7d1f0c"
#: What the recording listener answers with, should anything ever ask it.
REMOTE_TEXT = "CANARY-REMOTE-CONTENT-93ab"

TRACEBACK_MARKS = ("Traceback (most recent call last)", "internal error", "SCHEMAKIT_DEBUG")
#: Characters no text output may carry raw: C0 controls but tab/newline, DEL, C1, bidi overrides and isolates.
RAW_CONTROLS = frozenset(
    [chr(c) for c in range(0x20) if c not in (0x09, 0x0A)]
    + [chr(0x7F)]
    + [chr(c) for c in range(0x80, 0xA0)]
    + list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u2028\u2029")
)


def leaks(text: str, secret: str = TOKEN, window: int = 10) -> bool:
    """True when any `window`-character piece of `secret` is in `text` (a token cut in half still leaks)."""
    return any(secret[i : i + window] in text for i in range(len(secret) - window + 1))


def assert_one_line(exc: BaseException, secrets: Iterable[str] = (TOKEN,)) -> None:
    """A library error is one line and names no secret (called from `except` blocks that accept any error)."""
    assert "\n" not in str(exc), f"a multi-line error: {str(exc)[:400]!r}"
    for secret in secrets:
        for text in (str(exc), repr(exc)):
            assert not leaks(text, secret), f"a secret in {type(exc).__name__}: {text[:400]!r}"


def raw_controls(text: str) -> list[str]:
    return sorted({repr(c) for c in text if c in RAW_CONTROLS})


# -- documents -------------------------------------------------------------------------------------------------


def records_branch(properties: Mapping[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        items["required"] = list(required)
    return {"type": "object", "properties": {"dataframe_records": {"type": "array", "items": items}}}


def document(
    models: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    title: str = "hostile-endpoint",
    version: str = "1",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A serving document; `models` maps served-model names to the properties of a dataframe_records row."""
    models = models if models is not None else {"m-1": {"x": {"type": "integer"}}}
    paths = {
        f"/served-models/{name}/invocations": {
            "post": {
                "requestBody": {"content": {"application/json": {"schema": {"oneOf": [records_branch(props)]}}}},
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"predictions": {"type": "array", "items": {"type": "number"}}},
                                }
                            }
                        },
                    }
                },
            }
        }
        for name, props in models.items()
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "servers": [{"url": f"https://example.databricks.com/serving-endpoints/{title}"}],
        "paths": paths,
    }
    doc.update(extra or {})
    return doc


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# -- a listener that records connections -----------------------------------------------------------------------


@dataclass
class Listener:
    """A TCP listener on 127.0.0.1 that records every connection and answers HTTP with REMOTE_TEXT.

    Hostile documents point their URIs at it: `connections` must stay 0.
    """

    sock: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))
    connections: int = 0
    received: list[bytes] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Listener:
        self.sock.settimeout(0.05)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        body = json.dumps({"type": "string", "enum": [REMOTE_TEXT], "$id": REMOTE_TEXT}).encode()
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with contextlib.suppress(OSError):
                conn.settimeout(1)
                self.received.append(conn.recv(65536))
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n%s" % (len(body), body)
                )
            conn.close()

    def reset(self) -> None:
        self.connections = 0
        self.received.clear()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


# -- running the CLI ---------------------------------------------------------------------------------------------


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment minus ambient credentials, with HOME at `home` (no ~/.databrickscfg of the user's)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "ARM_", "AZURE_", "GOOGLE_")) and k != "SCHEMAKIT_DEBUG"
    }
    env.update(HOME=str(home), NO_COLOR="1", PYTHONIOENCODING="utf-8", **extra)
    return env


@dataclass
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:
        return (
            f"schemakit {' '.join(self.args)!r} -> {self.code}\nstdout: {self.out[-3000:]}\nstderr: {self.err[-3000:]}"
        )


def run_cli(*args: str, env: Mapping[str, str] | None = None, input: str = "", cwd: Path | None = None) -> Run:
    """`schemakit ARGS` in this process through main()'s error translation; `mock` (a server) in a real process."""
    if args[:1] != ("mock",):
        from ..conftest import run_cli_in_process

        done = run_cli_in_process(*args, env=env, input=input.encode(), cwd=cwd)
        decode = lambda data: data.decode("utf-8", "backslashreplace").replace("\r\n", "\n").replace("\r", "\n")  # noqa: E731
        return Run(args, done.returncode, decode(done.stdout_bytes), decode(done.stderr_bytes))
    proc = subprocess.run(
        [sys.executable, "-m", "schemakit", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        env=dict(env) if env is not None else None,
        input=input,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    return Run(args, proc.returncode, proc.stdout, proc.stderr)


def run_inprocess(*args: str) -> Run:
    """`schemakit.cli.main.main(ARGS)` in this process (the fuzzing suite: no interpreter start-up per example)."""
    from schemakit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    return Run(
        tuple(args), code if isinstance(code, int) else (0 if code is None else 2), out.getvalue(), err.getvalue()
    )


def assert_clean(
    run: Run,
    codes: Iterable[int] = (0, 1, 2),
    secrets: Iterable[str] = (TOKEN,),
    canaries: Iterable[str] = (CANARY_TEXT, REMOTE_TEXT),
    one_line: bool = True,
) -> None:
    """The promises every command keeps: a documented exit code, no traceback, one-line errors, no leak.

    `one_line=False` for the few answers documented to explain themselves over several lines (a not-ready endpoint).
    """
    assert run.code in set(codes), str(run)
    for mark in TRACEBACK_MARKS:
        assert mark not in run.text, str(run)
    if run.code == 2 and one_line:
        lines = [line for line in run.err.splitlines() if line.strip()]
        assert len(lines) == 1, f"exit 2 needs a one-line error:\n{run}"
    for secret in secrets:
        assert not leaks(run.text, secret), f"token leaked:\n{run}"
    for canary in canaries:
        assert canary not in run.text, f"content from outside the inputs:\n{run}"


# -- hostile HTTP servers ----------------------------------------------------------------------------------------

Answer = Callable[["HostileHandler"], None]


class HostileHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with what the server's `answer` does; records the request."""

    server: HostileServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1 << 20))
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        with contextlib.suppress(OSError):
            self.server.answer(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def reply(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


class HostileServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that gave up leaves a broken pipe behind

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def hostile_server(answer: Answer) -> Iterator[HostileServer]:
    server = HostileServer(answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def echo_token(handler: HostileHandler, token: str = TOKEN) -> dict[str, Any]:
    """A JSON error that carries the token in every field a client might print."""
    return {
        "error_code": f"BAD_{token}",
        "message": f"bad token {token}",
        "details": [{"reason": token, "metadata": {"token": token}}],
        "state": {"ready": "NOT_READY", "config_update": "NOT_UPDATING"},
        "deployment_state_message": token,
    }


def drip(handler: HostileHandler, seconds: float = 60.0, every: float = 1.0) -> None:
    """Headers at once, then one byte of body every `every` seconds: a per-read timeout never fires."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(every)
