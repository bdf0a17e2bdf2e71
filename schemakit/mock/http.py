"""The emulator on a socket: the HTTP handler and the threading server.

HTTP-agnostic logic lives in the workspace it serves (any `schemakit.mock.wire.Workspace`; the emulator's
`MockWorkspace`); this module only reads requests (with body limits that no header can lift), answers them,
and never lets an exception become a traceback or a 500 without a JSON body.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import socketserver
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

from schemakit.mock.wire import ApiError, Headers, RecordedRequest, Response, Workspace, error_response
from schemakit.runtime import text


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "schemakit-mock"
    #: Idle keep-alive connections are closed after this many seconds, so threads do not pile up.
    timeout = 30
    #: Headers and body go out in separate writes; with Nagle's algorithm on, the body waits for a delayed ACK.
    disable_nagle_algorithm = True
    server: MockHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def __getattr__(self, name: str) -> Any:
        # http.server looks up `do_<METHOD>` and answers 501 without one; route TRACE, PROPFIND and
        # any other method like the rest, so a known path answers 405 with its `Allow` header.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._dispatch
        raise AttributeError(name)

    def _dispatch(self) -> None:
        workspace = self.server.workspace
        method = self.command
        try:
            body = self._read_body(workspace.max_body_bytes)
        except ApiError as exc:
            self.close_connection = True
            self._send(error_response(exc.status, exc.error_code, exc.message, exc.headers), method)
            self._record(method, b"", exc.status)
            return
        try:
            response = workspace.handle(
                method, self.path, Headers(self.headers.items()), body, data_plane=self.server.data_plane
            )
        except Exception as exc:  # the server must answer, whatever happens inside
            response = error_response(
                500, "INTERNAL_ERROR", f"The emulator failed on this request: {type(exc).__name__}"
            )
            if self.server.on_error is not None:
                self.server.on_error(exc)
        self._record(method, body, response.status)
        self._send(response, method)

    def _record(self, method: str, body: bytes, status: int) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        self.server.workspace.record(
            RecordedRequest(method, parsed.path, parsed.query, Headers(self.headers.items()), body, status)
        )

    def _read_body(self, limit: int) -> bytes:
        encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in encoding:
            return self._read_chunked(limit)
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise ApiError(400, "BAD_REQUEST", "Content-Length must be a whole number.") from None
        if length < 0:
            raise ApiError(400, "BAD_REQUEST", "Content-Length must not be negative.")
        if length > limit:
            raise _too_large(length, limit)
        data = self.rfile.read(length)
        if len(data) < length:
            raise ApiError(400, "BAD_REQUEST", "The request body ended before Content-Length bytes arrived.")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            # Hex digits only: int() would also read "-1", "+5" or "0x10", and a negative size
            # would slip past the limit below.
            if not size_text or len(size_text) > 16 or size_text.strip(b"0123456789abcdefABCDEF"):
                raise ApiError(400, "BAD_REQUEST", "Malformed chunked request body.")
            size = int(size_text, 16)
            if size == 0:
                # Trailer headers, up to the blank line.
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _too_large(total, limit)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ApiError(400, "BAD_REQUEST", "The chunked request body ended inside a chunk.")
            chunks.append(chunk)
            self.rfile.readline(16)

    def _send(self, response: Response, method: str) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed request lines, unsupported methods, oversized headers: answer JSON like every other error.
        # http.server says 501 for a method it has no handler for; to a client that is a method not allowed.
        status = 405 if code == 501 else code
        error_code = "METHOD_NOT_ALLOWED" if status == 405 else "BAD_REQUEST"
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            # An unreadable request line leaves the version at 0.9, which would suppress the status line.
            self.request_version = "HTTP/1.1"
        if not message:
            try:
                message = http.HTTPStatus(code).phrase
            except ValueError:
                message = "Bad request"
        self._send(error_response(status, error_code, message), getattr(self, "command", None) or "GET")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log is not None:
            self.server.access_log(text.terminal(f"{self.address_string()} - {format % args}"))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.access_log is not None:
            # The request line only: never headers, so never a token.
            # A request line http.server could not read leaves `command` and `path` unset (None or absent):
            # log what arrived, escaped, rather than fail and drop the connection without an answer.
            command = getattr(self, "command", None)
            path = getattr(self, "path", None)
            if command is None or path is None:
                line = text.terminal(str(getattr(self, "requestline", "") or "")[:300])
            else:
                line = f"{text.terminal(command)} {text.terminal(path[:300])}"
            self.server.access_log(f'"{line}" {code!s}')


def _too_large(length: int, limit: int) -> ApiError:
    return ApiError(
        413,
        "BAD_REQUEST",
        f"The request body is {length} bytes; the limit is {limit} bytes. Send fewer rows per request.",
    )


class MockHTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The emulator on a socket: one thread per connection, HTTP/1.1 keep-alive."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    block_on_close = False

    def __init__(
        self,
        workspace: Workspace,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_log: Callable[[str], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        data_plane: bool = False,
    ) -> None:
        self.workspace = workspace
        self.access_log = access_log
        self.on_error = on_error
        #: Whether this listener stands for the data-plane host of route-optimized endpoints.
        self.data_plane = data_plane
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Close the listening socket and every open connection, so nothing answers after a stop."""
        super().server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # The handler thread sees end-of-stream and finishes; it closes the socket itself.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can take seconds; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        host_text = f"[{host}]" if ":" in host else host
        return f"http://{host_text}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request is not worth a traceback on stderr.
        return
