"""The one HTTP layer: what every schemakit request, and every generated client's, goes through.

The workspace client, the URL loader, the emulator's client-facing helpers and the
generated clients (which carry this file in their `_runtime/`) all use these pieces,
so each rule is written once:

- `origin` / `same_origin` / `check_transport`: credentials go to one scheme, host and
  port, and never unencrypted to another machine;
- `follow` and `send` / `asend`: the one redirect loop; once a redirect leaves the
  origin, nothing further in the chain is authenticated, and a 303 (or a 301/302 of a
  POST) becomes a body-less GET;
- `Deadline`: a bound on the *whole* request (connect, headers and every read of the
  body), not on each read: a server dripping a byte a second cannot hold a caller;
- `read_capped`: a body refused as soon as it is known to exceed a size;
- `scrub` and `error_summary`: secrets masked *before* anything is cut to length, so a
  token that straddles the cut never shows in part;
- `parse_retry_after` and `backoff`: one reading of `Retry-After` (seconds or an HTTP
  date) and one backoff schedule.

httpx is imported lazily: the pure helpers need only the standard library.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "RETRY_ANY_METHOD",
    "BodyTooLarge",
    "Deadline",
    "DeadlineExceeded",
    "Hop",
    "Reply",
    "TooManyRedirects",
    "UnsendableCredentials",
    "asend",
    "backoff",
    "check_credentials",
    "check_transport",
    "error_summary",
    "follow",
    "is_loopback",
    "one_line",
    "origin",
    "origin_text",
    "parse_retry_after",
    "read_capped",
    "same_origin",
    "scrub",
    "send",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
#: Answers that mean the server did not act on the request, so any method may be sent again.
RETRY_ANY_METHOD = frozenset({429, 503})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Anything shaped like a credential, even one schemakit was never told about.
_TOKEN_PATTERNS = re.compile(
    r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}|\bdapi[0-9a-f]{16,}(-\d+)?\b|\bdose[0-9a-f]{16,}\b"
)
_MIN_SECRET = 4


# -- origins --------------------------------------------------------------------------------------


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the default port filled in; host lower-cased."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


def origin_text(url: str) -> str:
    """`scheme://host[:port]` of a URL, for messages: never its user info, path or query (which may be signed)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


def check_transport(url: str, allow_insecure_http: bool = False) -> None:
    """Refuse a URL a bearer token must not be sent to: not http(s), or plain http to another machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{origin_text(url)!r} is not an http(s) URL with a host")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(url):
        raise ValueError(
            f"refusing to send credentials over plain http to {parts.hostname!r}: use https "
            "(or allow insecure http explicitly)"
        )


# -- secrets --------------------------------------------------------------------------------------


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret, and anything shaped like a bearer token, replaced by ***."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _TOKEN_PATTERNS.sub(lambda m: f"{m.group(1)} ***" if m.group(1) else "***", text)


class UnsendableCredentials(ValueError):
    """Credentials holding a character an HTTP header cannot carry; the message never shows the value.

    httpx would raise UnicodeEncodeError (or h11 LocalProtocolError) with the whole header
    value, `Bearer <token>`, in the exception's args and repr.
    """


#: What an HTTP header value may hold: visible ASCII and inner spaces (RFC 9110 field-value, minus obs-text).
_HEADER_VALUE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*\Z")


def check_credentials(headers: Mapping[str, str], where: str = "the credentials") -> None:
    """Raise `UnsendableCredentials` (naming the header, never its value) when a header value cannot be sent."""
    for name, value in headers.items():
        if not isinstance(value, str) or _HEADER_VALUE.match(value) is None:
            raise UnsendableCredentials(
                f"{where} cannot be sent: the {name} header would hold a character HTTP headers cannot carry "
                "(non-ASCII, a control character or a line break); copy the token again"
            )


def one_line(text: str, limit: int) -> str:
    """Whitespace folded into one line, cut at `limit` characters (with an ellipsis)."""
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: max(0, limit - 1)] + "…"


def error_summary(
    body: bytes, content_type: str = "", secrets: Iterable[str] = (), limit: int = 300
) -> tuple[str | None, str]:
    """The server's error code and message from an error body, scrubbed, then cut to one short line.

    JSON bodies give `error_code` and `message` (or `error`, `detail`); HTML bodies give
    nothing worth echoing; any other text is its own message. Every piece is scrubbed
    before it is cut, so a partly printed secret is impossible.
    """
    secrets = tuple(secrets)
    code: str | None = None
    message = ""
    data: Any = None
    stripped = body.strip()
    if stripped[:1] in (b"{", b"["):
        try:
            data = json.loads(stripped.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            data = None
    if isinstance(data, Mapping):
        raw_code = data.get("error_code")
        if isinstance(raw_code, str) and raw_code:
            code = one_line(scrub(raw_code, secrets), 80)
        for key in ("message", "error", "detail"):
            value = data.get(key)
            if value:
                message = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                break
    elif stripped and not content_type.lower().startswith("text/html"):
        # Decode a bounded prefix, but scrub the whole prefix before cutting it to `limit`.
        message = stripped[: max(limit * 8, 4096)].decode("utf-8", "replace")
    return code, one_line(scrub(message, secrets), limit)


# -- time -----------------------------------------------------------------------------------------


class DeadlineExceeded(TimeoutError):
    """The whole request took longer than its deadline."""


class Deadline:
    """A point in time a whole request must finish by (monotonic clock)."""

    __slots__ = ("_ends", "seconds")

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("a deadline must be > 0 seconds")
        self.seconds = float(seconds)
        self._ends = time.monotonic() + self.seconds

    def remaining(self) -> float:
        """Seconds left, at least a millisecond (httpx treats 0 as "no timeout")."""
        return max(0.001, self._ends - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._ends

    def check(self) -> None:
        if self.expired():
            raise DeadlineExceeded(f"no complete answer within {self.seconds:g} s")

    def timeout(self, connect: float | None = None) -> httpx.Timeout:
        """An httpx timeout whose every phase ends by the deadline."""
        import httpx

        left = self.remaining()
        return httpx.Timeout(left, connect=min(left, connect) if connect else left)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now (a number of seconds, or an HTTP date); None when absent or unreadable.

    `now` is a Unix time (default: the current one), for tests.
    """
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        import calendar
        import email.utils  # only for the rare HTTP-date form; it is slow to import

        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        # An HTTP date without a zone is GMT by definition.
        epoch = when.timestamp() if when.tzinfo is not None else calendar.timegm(when.timetuple())
        current = now if now is not None else time.time()
        return max(0.0, epoch - current)
    if math.isnan(seconds) or seconds < 0 or math.isinf(seconds):
        return None
    return seconds


# The system's randomness: no seeded state shared with the application's own `random` use.
_JITTER = random.SystemRandom()


def backoff(attempt: int, base: float, cap: float, *, jitter: bool = True) -> float:
    """Seconds before retry `attempt` (0-based): doubling from `base`, capped, with "equal jitter"."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    if not jitter:
        return float(ceiling)
    # Never less than half the step, so retries still back off, yet clients spread out.
    return float(ceiling / 2 + _JITTER.uniform(0, ceiling / 2))


# -- bodies ---------------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """A response body over the caller's limit; `declared` is its Content-Length when it gave one."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


def _declared_length(response: httpx.Response, limit: int) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and len(declared) < 20 and int(declared) > limit:
        raise BodyTooLarge(int(declared))


def read_capped(response: httpx.Response, limit: int, deadline: Deadline | None = None) -> bytes:
    """A streamed response's body, refused as soon as it exceeds `limit` bytes or outlives `deadline`."""
    _declared_length(response, limit)
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(None)
        chunks.append(chunk)
        if deadline is not None:
            deadline.check()
    return b"".join(chunks)


async def aread_capped(response: httpx.Response, limit: int, deadline: Deadline | None = None) -> bytes:
    """`read_capped` for an async response."""
    _declared_length(response, limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(None)
        chunks.append(chunk)
        if deadline is not None:
            deadline.check()
    return b"".join(chunks)


# -- the redirect loop ----------------------------------------------------------------------------


class TooManyRedirects(Exception):
    """More than MAX_REDIRECTS redirects (`looped`), or a redirect to something that is not http(s)."""

    def __init__(self, message: str, *, looped: bool = False) -> None:
        super().__init__(message)
        self.looped = looped


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete answer: status, headers, the (capped) body and the URL that gave it."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    #: False when a redirect took the request off the origin, where credentials are never sent.
    authenticated: bool = True

    @property
    def reason(self) -> str:
        """The standard reason phrase of the status ("Not Found"), never the server's own text."""
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value if value is not None else self.headers.get(name)


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a redirect chain: where to, how, and whether credentials may go with it."""

    method: str
    url: str
    content: bytes | None
    authenticated: bool


def follow(hop: Hop, status: int, location: str | None, home: str) -> Hop | None:
    """The next request after an answer, or None when the answer is final.

    Credentials stay with `home`'s origin: once a hop leaves it, `authenticated` is
    False for the rest of the chain, even if a later redirect comes back.
    """
    if status not in REDIRECT_STATUSES or not location:
        return None
    import httpx

    try:
        target = str(httpx.URL(hop.url).join(location))
    except (ValueError, httpx.InvalidURL):
        raise TooManyRedirects("redirected to an unreadable location") from None
    if urlsplit(target).scheme not in ("http", "https"):
        raise TooManyRedirects("redirected to a location that is not http(s)")
    method, content = hop.method, hop.content
    if status == 303 or (status in (301, 302) and method not in _IDEMPOTENT):
        method, content = "GET", None
    return Hop(method, target, content, hop.authenticated and same_origin(target, home))


HeadersFor = Callable[[Hop], Mapping[str, str]]


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    credentials: Callable[[], Mapping[str, str]] | None = None,
    deadline: Deadline,
    max_bytes: int = DEFAULT_MAX_BYTES,
    connect_timeout: float | None = None,
    max_redirects: int = MAX_REDIRECTS,
) -> Reply:
    """One request with redirects followed by hand, bounded in time and size as a whole.

    `credentials()` gives the headers that authenticate; they are added only to hops on
    `url`'s origin. Raises httpx's exceptions for transport failures, DeadlineExceeded,
    BodyTooLarge and TooManyRedirects.
    """
    hop = Hop(method, url, content, True)
    watchdog = _Watchdog(deadline)
    try:
        for _ in range(max_redirects + 1):
            deadline.check()
            request_headers = _headers_for(hop, headers, credentials)
            with client.stream(
                hop.method,
                hop.url,
                headers=request_headers,
                content=hop.content,
                timeout=deadline.timeout(connect_timeout),
                extensions={"trace": watchdog.trace},
            ) as response:
                nxt = follow(hop, response.status_code, response.headers.get("location"), url)
                if nxt is None:
                    body = read_capped(response, max_bytes, deadline)
                    return Reply(response.status_code, dict(response.headers), body, hop.url, hop.authenticated)
            hop = nxt
    except Exception as exc:
        if watchdog.fired:
            raise DeadlineExceeded(f"no complete answer within {deadline.seconds:g} s") from None
        _unreadable_location(exc)
        raise
    finally:
        watchdog.cancel()
    raise TooManyRedirects(f"redirected more than {max_redirects} times", looped=True)


class _Watchdog:
    """Closes a new connection's socket when the deadline passes, so a server dripping its headers
    a byte at a time cannot outlast the deadline (each read alone would be within its timeout).

    httpx's documented `trace` extension hands over the network stream when a connection opens;
    a connection reused from the pool was opened for an earlier request, whose own watchdog is gone,
    so there the per-read timeout (never longer than what remains) is the bound.
    """

    def __init__(self, deadline: Deadline) -> None:
        import threading

        self.fired = False
        self._streams: list[Any] = []
        self._timer = threading.Timer(deadline.remaining(), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            if stream is not None:
                self._streams.append(stream)

    def _fire(self) -> None:
        self.fired = True
        for stream in self._streams:
            # Best effort: the blocked reader sees the closed socket as an error.
            with contextlib.suppress(Exception):
                stream.close()

    def cancel(self) -> None:
        self._timer.cancel()


async def asend(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    credentials: Callable[[], Mapping[str, str]] | None = None,
    deadline: Deadline,
    max_bytes: int = DEFAULT_MAX_BYTES,
    connect_timeout: float | None = None,
    max_redirects: int = MAX_REDIRECTS,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Reply:
    """`send` for an async client (the same loop, the same rules)."""
    import asyncio

    hop = Hop(method, url, content, True)
    for _ in range(max_redirects + 1):
        deadline.check()
        request_headers = _headers_for(hop, headers, credentials)

        async def exchange(current: Hop = hop, sent: Mapping[str, str] = request_headers) -> Reply | Hop:
            async with client.stream(
                current.method,
                current.url,
                headers=dict(sent),
                content=current.content,
                timeout=deadline.timeout(connect_timeout),
            ) as response:
                nxt = follow(current, response.status_code, response.headers.get("location"), url)
                if nxt is not None:
                    return nxt
                body = await aread_capped(response, max_bytes, deadline)
                return Reply(response.status_code, dict(response.headers), body, current.url, current.authenticated)

        # The event loop can cancel a dripping read outright: the deadline holds for headers too.
        task = asyncio.ensure_future(exchange())
        done, _ = await asyncio.wait({task}, timeout=deadline.remaining())
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise DeadlineExceeded(f"no complete answer within {deadline.seconds:g} s")
        try:
            outcome = task.result()
        except Exception as exc:
            _unreadable_location(exc)
            raise
        if isinstance(outcome, Reply):
            return outcome
        hop = outcome
    raise TooManyRedirects(f"redirected more than {max_redirects} times", looped=True)


def _unreadable_location(exc: Exception) -> None:
    """httpx reads a redirect's Location while it receives the answer (even when it does not follow
    it), so `Location: javascript:...` fails there, as InvalidURL or UnsupportedProtocol: one kind of
    error for every unusable redirect."""
    import httpx

    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        raise TooManyRedirects("redirected to a location that is not an http(s) URL") from None


def _headers_for(
    hop: Hop, headers: Mapping[str, str] | None, credentials: Callable[[], Mapping[str, str]] | None
) -> dict[str, str]:
    sent = dict(headers or {})
    if hop.content is None:
        sent.pop("Content-Type", None)
        sent.pop("content-type", None)
    if hop.authenticated and credentials is not None:
        fresh = credentials()
        check_credentials(fresh)
        sent.update(fresh)
    return sent


def is_idempotent(method: str) -> bool:
    return method.upper() in _IDEMPOTENT
