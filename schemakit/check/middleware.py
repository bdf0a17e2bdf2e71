"""ASGI and WSGI middleware: validate JSON request bodies before they reach the app (or the endpoint).

For services that proxy requests to a serving endpoint: an invalid body is answered
with 400 and the report as JSON, in the shape serving endpoints use for errors::

    {"error_code": "BAD_REQUEST", "message": "<compact report>", "report": {...}}

A body over the endpoint's request size limit (the `payload-too-large` rule: 16 MB,
4 MB for foundation-model, external-model and agent endpoints) is answered with 413
as soon as it is known, before the rest is read. A valid body is handed on unchanged. Paths
ending in `/served-models/<name>/invocations` are checked against that served model; other
POSTs against every served model (traffic may reach any of them) when given a whole
`EndpointSchema`.

The body is read within `body_timeout` seconds (30 by default), counted from the first read: a
client that sends its headers and then drips its body a byte at a time (a slowloris) gets 408 and its
buffer is dropped, so each connection holds at most `max_body` bytes for at most that long. A WSGI
server hands the app a blocking stream the middleware cannot put a deadline on: set the server's own
timeout (gunicorn `--timeout`, uWSGI `harakiri`).

Without `paths=`, every POST is checked: right for a service that only proxies. In an app
with routes of its own, name the proxied ones, exactly or as patterns
(`paths=["/invocations", "/models/*/invocations"]`); with Starlette or FastAPI::

    app.add_middleware(PayloadValidationASGIMiddleware, validator=schema, paths=["/invocations"])
"""

from __future__ import annotations

import asyncio
import fnmatch
import io
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import orjson

from schemakit.check.validator import EndpointReport, EndpointValidator, PayloadValidator, compile_endpoint_validator
from schemakit.core.model import EndpointSchema
from schemakit.runtime.report import PayloadReport

__all__ = ["PayloadValidationASGIMiddleware", "PayloadValidationWSGIMiddleware"]

#: Bodies above this size are refused with 413 before any parsing (a million-row payload is ~30 MB).
DEFAULT_MAX_BODY = 256 * 1024 * 1024
#: Seconds a client has to send a whole body once the middleware starts reading it (ASGI).
DEFAULT_BODY_TIMEOUT = 30.0

_SERVED_MODEL_PATH = re.compile(r"/served-models/(?P<name>[^/]+)/invocations/?$")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Gate:
    """What both middlewares share: which requests to check, and how to answer a bad one."""

    def __init__(
        self,
        validator: PayloadValidator | EndpointValidator | EndpointSchema,
        paths: Iterable[str] | None,
        methods: Iterable[str],
        max_body: int,
    ) -> None:
        if isinstance(validator, EndpointSchema):
            validator = compile_endpoint_validator(validator)
        self.validator = validator
        #: One model's `validate_json`, called as it is (the path does not choose the model).
        self._one = validator.validate_json if isinstance(validator, PayloadValidator) else None
        # Exact paths, or shell-style patterns (`/models/*/invocations`, `/api/*`): `*` and `?` match
        # within a path, so one pattern covers a family of routes and leaves the app's others alone.
        self.paths = None if paths is None else tuple(paths)
        self._exact = frozenset(p for p in self.paths or () if not any(c in p for c in "*?["))
        self._patterns = tuple(p for p in self.paths or () if p not in self._exact)
        self.methods = frozenset(m.upper() for m in methods)
        limits = (
            [v.max_request_bytes for v in validator.validators.values()]
            if isinstance(validator, EndpointValidator)
            else [validator.max_request_bytes]
        )
        # Any served model may take the request: the largest limit decides when to stop reading.
        limit = None if not limits or None in limits else max(x for x in limits if x is not None)
        self.request_limit = limit
        self.max_body = max_body if limit is None else min(max_body, limit)

    def applies(self, method: str, path: str) -> bool:
        if method not in self.methods and method.upper() not in self.methods:  # ASGI and WSGI send it uppercase
            return False
        if self.paths is None:
            return True
        return path in self._exact or any(fnmatch.fnmatchcase(path, pattern) for pattern in self._patterns)

    def validate(self, path: str, body: bytes) -> PayloadReport | EndpointReport:
        if self._one is not None:
            return self._one(body)
        if isinstance(self.validator, EndpointValidator):
            match = _SERVED_MODEL_PATH.search(path)
            if match is not None and match["name"] in self.validator.validators:
                return self.validator.validators[match["name"]].validate_json(body)
        return self.validator.validate_json(body)

    @staticmethod
    def status(report: PayloadReport | EndpointReport) -> int:
        """413 when the body is over the size limit (as the server answers), else 400."""
        reports = report.reports.values() if isinstance(report, EndpointReport) else (report,)
        too_large = [r for r in reports if r.counts.get("payload-too-large")]
        return 413 if too_large and len(too_large) == len([r for r in reports if not r.ok]) else 400

    @staticmethod
    def rejection(report: PayloadReport | EndpointReport) -> bytes:
        return orjson.dumps(
            {"error_code": "BAD_REQUEST", "message": report.to_text(), "report": report.to_json()},
            option=orjson.OPT_NON_STR_KEYS,
        )

    def too_large(self) -> bytes:
        code = "payload-too-large" if self.request_limit is not None and self.max_body == self.request_limit else None
        message = f"request body is over the {self.max_body:,}-byte limit"
        body: dict[str, Any] = {"error_code": "BAD_REQUEST", "message": message}
        if code is not None:
            body["report"] = {"ok": False, "problems": [{"code": code, "severity": "error", "message": message}]}
        return orjson.dumps(body)


class PayloadValidationASGIMiddleware:
    """ASGI middleware: `app = PayloadValidationASGIMiddleware(app, schemakit.load("schema.json"))`."""

    def __init__(
        self,
        app: ASGIApp,
        validator: PayloadValidator | EndpointValidator | EndpointSchema,
        *,
        paths: Iterable[str] | None = None,
        methods: Iterable[str] = ("POST",),
        max_body: int = DEFAULT_MAX_BODY,
        body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if body_timeout is not None and not body_timeout > 0:
            raise ValueError("body_timeout must be a positive number of seconds (or None: no deadline)")
        self.app = app
        self.gate = _Gate(validator, paths, methods, max_body)
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or not self.gate.applies(scope.get("method", ""), scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        deadline = _Deadline(self.body_timeout) if self.body_timeout is not None else None
        try:
            body = await self._read(receive)
        except asyncio.CancelledError:
            if deadline is None or not deadline.fired:
                raise
            deadline.absorb()
            message = f"the request body was not received within {self.body_timeout:g} s"
            await _asgi_answer(send, 408, orjson.dumps({"error_code": "REQUEST_TIMEOUT", "message": message}))
            return
        finally:
            if deadline is not None:
                deadline.done()
        if body is None:
            return
        if body is _TOO_LARGE:
            await _asgi_answer(send, 413, self.gate.too_large())
            return
        report = self.gate.validate(scope.get("path", ""), body)
        if not report.ok:
            await _asgi_answer(send, self.gate.status(report), self.gate.rejection(report))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect as the server reports it

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body; None when the client went away, `_TOO_LARGE` past `max_body`."""
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body: bytes = message.get("body", b"")
        if message.get("more_body", False) or len(body) > self.gate.max_body:
            # The body in several messages (the usual one-message body needs no list and no join).
            chunks = [body]
            size = len(body)
            more = bool(message.get("more_body", False))
            while size <= self.gate.max_body and more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
                more = bool(message.get("more_body", False))
            if size > self.gate.max_body:
                return _TOO_LARGE
            body = b"".join(chunks)
        return body


#: What `_read` returns for a body over the limit (compared by identity).
_TOO_LARGE = b"\x00too large"


class _Deadline:
    """Cancels the reading task when the body takes too long: `asyncio.timeout` without a task per request.

    The timer only fires while reading (`done` switches it off before anything else is awaited), so the
    cancellation always lands in `_read` and is absorbed there.
    """

    __slots__ = ("_handle", "_task", "fired", "reading")

    def __init__(self, seconds: float) -> None:
        self._task = asyncio.current_task()
        self.fired = False
        self.reading = True
        self._handle = asyncio.get_running_loop().call_later(seconds, self._fire)

    def _fire(self) -> None:
        if self.reading and self._task is not None:
            self.fired = True
            self._task.cancel()

    def done(self) -> None:
        self.reading = False
        self._handle.cancel()

    def absorb(self) -> None:
        uncancel = getattr(self._task, "uncancel", None)  # Python 3.11+: count the cancellation as handled
        if uncancel is not None:
            uncancel()


async def _asgi_answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PayloadValidationWSGIMiddleware:
    """WSGI middleware: `app = PayloadValidationWSGIMiddleware(app, schemakit.load("schema.json"))`."""

    def __init__(
        self,
        app: WSGIApp,
        validator: PayloadValidator | EndpointValidator | EndpointSchema,
        *,
        paths: Iterable[str] | None = None,
        methods: Iterable[str] = ("POST",),
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.app = app
        self.gate = _Gate(validator, paths, methods, max_body)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not self.gate.applies(environ.get("REQUEST_METHOD", ""), path):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.gate.max_body:
            _drain(environ["wsgi.input"], length)
            return _wsgi_answer(start_response, "413 Request Entity Too Large", self.gate.too_large())
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        report = self.gate.validate(path, body)
        if not report.ok:
            status = "413 Request Entity Too Large" if self.gate.status(report) == 413 else "400 Bad Request"
            return _wsgi_answer(start_response, status, self.gate.rejection(report))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


#: A body over the limit by at most this much is read and dropped before the 413, so that a client
#: that sends its whole body before reading the answer (most do) gets the 413, not a broken pipe.
_DRAIN_BYTES = 64 * 1024 * 1024


def _drain(stream: Any, length: int) -> None:
    if length > _DRAIN_BYTES:
        return
    while length > 0:
        chunk = stream.read(min(length, 1 << 16))
        if not chunk:
            return
        length -= len(chunk)


def _wsgi_answer(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
