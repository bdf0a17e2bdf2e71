"""How the workspace client talks to a workspace: retries, error mapping and scrubbing, over `runtime.http`.

- every request is bounded as a whole (`runtime.http.Deadline`); 429 and 503 are retried for every
  method (the server did not act on the request), other 5xx and dropped connections only for GET,
  with exponential backoff and jitter, honouring ``Retry-After`` up to a cap;
- redirects are followed by the one redirect loop (`runtime.http.send`): credentials go only to the
  workspace's own origin;
- the token never appears in a message, a log line or an exception: every answer is scrubbed once,
  when it is decoded, and error bodies are scrubbed before they are cut to one line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from schemakit._exceptions import (
    AuthenticationError,
    EndpointNotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    TransportError,
    WorkspaceError,
)
from schemakit._version import __version__
from schemakit.runtime import http
from schemakit.runtime.parse import TOO_DEEP, json_too_deep

if TYPE_CHECKING:
    import httpx

    from schemakit.workspace.auth import Credentials

__all__ = [
    "Call",
    "RetryPolicy",
    "WorkspaceTransport",
]

logger = logging.getLogger("schemakit.workspace")

_RETRY_ANY_METHOD = http.RETRY_ANY_METHOD
_RETRY_IDEMPOTENT = frozenset({500, 502, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD"})
_SERVER_MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: `retries` more attempts after the first, backoff doubling from `backoff` seconds."""

    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 20.0
    #: A `Retry-After` longer than this is not waited for: the call fails at once and says so.
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("retry settings must be >= 0")

    def delay(self, attempt: int) -> float:
        """Seconds before retry number `attempt` (0-based): exponential, capped, with jitter."""
        # "Equal jitter": never less than half the step, so retries still back off, yet clients spread out.
        return http.backoff(attempt, self.backoff, self.max_backoff)


class _TransientTransportError(TransportError):
    """A failure worth retrying for an idempotent request (refused, timed out, dropped); still a TransportError."""


@dataclass(frozen=True, slots=True)
class Call:
    """What a request is for, so an error can say what the user was doing and what it needs."""

    action: str
    endpoint: str | None = None
    needs: str | None = None


class WorkspaceTransport:
    """The plumbing under `Workspace`: one logical request at a time, with retries and readable errors.

    Subclasses supply `_near_names` (the hint a 404 gives); everything here speaks HTTP, not endpoints.
    """

    def __init__(
        self,
        credentials: Credentials,
        policy: RetryPolicy,
        *,
        timeout: float,
        max_bytes: int,
        sleep: Callable[[float], None],
    ) -> None:
        import httpx  # here, not at module level: `import schemakit` must stay fast for the command line

        self._credentials = credentials
        self._policy = policy
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._sleep = sleep
        self._secrets: set[str] = set(credentials.secrets)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=False,
            headers={"User-Agent": f"schemakit/{__version__}", "Accept": "application/json"},
        )

    @property
    def host(self) -> str:
        return self._credentials.host

    @property
    def auth_description(self) -> str:
        """Where the credential came from, for messages: "token from DATABRICKS_TOKEN"."""
        return self._credentials.auth_description

    def close(self) -> None:
        self._client.close()

    def _near_names(self, name: str) -> str:
        return ""

    def _json(self, method: str, path: str, call: Call, *, json_body: Any = None) -> Any:
        reply = self._send(method, path, call, json_body=json_body)
        return self._decode(self._checked(reply, call), call)

    def _checked(self, reply: http.Reply, call: Call) -> http.Reply:
        self._check(reply, call)
        return reply

    def _decode(self, reply: http.Reply, call: Call) -> Any:
        if not reply.body.strip():
            return {}
        try:
            data = _loads(reply.body)
        except ValueError:
            raise WorkspaceError(
                f"{self.host} answered {_doing(call)} with something that is not JSON (HTTP {reply.status})",
                status=reply.status,
            ) from None
        # A server may echo the token in any field (a deployment message, a log line): mask it once, here,
        # so no status, exception text or repr built from the answer can show it.
        return _scrub_json(data, self._secrets)

    def _check(self, reply: http.Reply, call: Call) -> None:
        if 300 <= reply.status < 400:
            # Redirects are followed; one left over had no usable Location, and its body is no answer.
            raise WorkspaceError(
                f"{self.host} answered {_doing(call)} with HTTP {reply.status} and no redirect to follow",
                status=reply.status,
            )
        if reply.status < 400:
            return
        code, message = self._server_error(reply)
        said = f": {message}" if message else ""
        if not reply.authenticated and reply.status in (401, 403):
            target = http.origin_text(reply.url)
            raise AuthenticationError(
                f"{self.host} redirected the request {_doing(call)} to {target}, which answered HTTP "
                f"{reply.status}{said}; credentials are never sent to another host, so that cannot work: "
                "use the workspace's own URL as the host",
                status=reply.status,
                error_code=code,
            )
        if reply.status == 401:
            raise AuthenticationError(
                f"{self.host} rejected the {self.auth_description} (HTTP 401{said}); it is wrong, expired or "
                "revoked: create a new token or check that setting",
                status=401,
                error_code=code,
            )
        if reply.status == 403:
            target = f"{call.action} endpoint '{call.endpoint}'" if call.endpoint else call.action
            needs = f"that needs {call.needs}, which" if call.needs else "which"
            grant = (
                f"; someone with CAN_MANAGE can grant it: schemakit endpoint permissions {call.endpoint} "
                f"--grant USER={call.needs}"
                if call.endpoint and call.needs
                else ""
            )
            raise PermissionDeniedError(
                f"permission denied to {target}: {needs} the {self.auth_description} does not have "
                f"(HTTP 403{said}){grant}",
                status=403,
                error_code=code,
            )
        if reply.status == 404 and call.endpoint is not None:
            raise EndpointNotFoundError(
                f"no serving endpoint named '{call.endpoint}' on {self.host}{self._near_names(call.endpoint)}",
                status=404,
                error_code=code,
            )
        if reply.status in _RETRY_ANY_METHOD:
            raise RateLimitedError(
                f"{self.host} answered HTTP {reply.status} {_doing(call)}{said}", status=reply.status, error_code=code
            )
        kind = "workspace error" if reply.status >= 500 else "refused"
        raise WorkspaceError(
            f"cannot {_what(call)}: {self.host} {kind} (HTTP {reply.status}{f' {code}' if code else ''}{said})",
            status=reply.status,
            error_code=code,
        )

    def _server_error(self, reply: http.Reply) -> tuple[str | None, str]:
        """The server's error code and message, scrubbed of secrets, then cut to one short line."""
        return http.error_summary(
            reply.body, reply.header("content-type") or "", self._secrets, limit=_SERVER_MESSAGE_LIMIT
        )

    def _send(
        self,
        method: str,
        path: str,
        call: Call,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> http.Reply:
        """One logical request: retries on 429/503 (and transient failures of GETs), redirects by hand."""
        policy = self._policy
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                reply = self._send_once(method, path, call, params, json_body)
            except _TransientTransportError as exc:
                if method in _IDEMPOTENT and attempt < policy.retries:
                    delay = policy.delay(attempt)
                    attempt += 1
                    # The message is already scrubbed and says what failed: refused, timed out, dropped.
                    logger.info(
                        "%s; retrying in %.1f s (attempt %d of %d)",
                        exc.format_message(),
                        delay,
                        attempt + 1,
                        policy.retries + 1,
                    )
                    self._sleep(delay)
                    continue
                raise
            retryable = reply.status in _RETRY_ANY_METHOD or (
                reply.status in _RETRY_IDEMPOTENT and method in _IDEMPOTENT
            )
            if not retryable:
                return reply
            code, message = self._server_error(reply)
            retry_after = http.parse_retry_after(reply.header("retry-after"))
            what = "rate limited (HTTP 429)" if reply.status == 429 else f"unavailable (HTTP {reply.status})"
            said = f": {message.rstrip('.')}" if message else ""
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise RateLimitedError(
                    f"{self.host} is {what} {_doing(call)} and asks to retry after {retry_after:.0f} s, more than "
                    f"the {policy.max_retry_after:.0f} s schemakit waits; try again later{said}",
                    status=reply.status,
                    error_code=code,
                )
            if attempt >= policy.retries:
                elapsed = time.monotonic() - started
                tries = "attempt" if attempt == 0 else "attempts"
                raise RateLimitedError(
                    f"{self.host} is still {what} {_doing(call)} after {attempt + 1} {tries} over {elapsed:.1f} s"
                    f"{said}; try again later",
                    status=reply.status,
                    error_code=code,
                )
            delay = retry_after if retry_after is not None else policy.delay(attempt)
            attempt += 1
            logger.info(
                "%s is %s %s; retrying in %.1f s (attempt %d of %d)",
                self.host,
                what,
                _doing(call),
                delay,
                attempt + 1,
                policy.retries + 1,
            )
            self._sleep(delay)

    def _send_once(
        self, method: str, path: str, call: Call, params: Mapping[str, str] | None, json_body: Any
    ) -> http.Reply:
        import httpx

        url = str(httpx.URL(self.host + path, params=params))
        where = http.origin_text(url)
        content = orjson.dumps(json_body) if json_body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        started = time.monotonic()
        try:
            reply = http.send(
                self._client,
                method,
                url,
                content=content,
                headers=headers,
                credentials=self._auth_headers,
                deadline=http.Deadline(self._timeout),
                max_bytes=self._max_bytes,
                connect_timeout=15.0,
            )
        except http.BodyTooLarge as over:
            if over.declared is not None:
                raise WorkspaceError(
                    f"{where} answered {_doing(call)} with {over.declared:,} bytes, over the "
                    f"{self._max_bytes:,}-byte limit"
                ) from None
            raise WorkspaceError(f"{where} answered {_doing(call)} with more than {self._max_bytes:,} bytes") from None
        except http.TooManyRedirects as exc:
            raise TransportError(f"{self.host} {exc} {_doing(call)}") from None
        except (http.DeadlineExceeded, httpx.TimeoutException) as exc:
            phase = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
            raise _TransientTransportError(
                f"{where} did not {phase} within {self._timeout:g} s {_doing(call)}"
            ) from None
        except httpx.ConnectError as exc:
            message = self._connect_problem(where, exc, call)
            # A certificate problem does not heal by retrying; a refused or reset connection may.
            kind = TransportError if message.startswith("TLS handshake") else _TransientTransportError
            raise kind(message) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise _TransientTransportError(
                f"{where} dropped the connection {_doing(call)} ({self._first_line(exc)})"
            ) from None
        except httpx.HTTPError as exc:
            raise TransportError(
                f"request to {where} failed {_doing(call)}: {type(exc).__name__}: {self._first_line(exc)}"
            ) from None
        if not reply.authenticated:
            logger.debug("a redirect left %s: credentials were not sent to %s", where, http.origin_text(reply.url))
        logger.debug("%s %s -> %d (%.3f s)", method, where, reply.status, time.monotonic() - started)
        return reply

    def _auth_headers(self) -> dict[str, str]:
        try:
            headers = self._credentials.headers()
        except Exception as exc:  # the SDK refreshing an OAuth token, say
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise AuthenticationError(
                f"could not get fresh credentials ({self.auth_description}): {http.scrub(first, self._secrets)}"
            ) from None
        try:
            http.check_credentials(headers, f"the credentials ({self.auth_description})")
        except http.UnsendableCredentials as exc:
            raise AuthenticationError(str(exc)) from None
        for value in headers.values():
            # Remember what the SDK handed out, so it is scrubbed wherever it might be echoed.
            self._secrets.add(value)
            _, _, credential = value.partition(" ")
            if credential:
                self._secrets.add(credential)
        return headers

    def _connect_problem(self, where: str, exc: httpx.ConnectError, call: Call) -> str:
        text = self._first_line(exc)
        cause: BaseException | None = exc
        chain: list[BaseException] = []
        while cause is not None and len(chain) < 8:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        import ssl

        if any(isinstance(c, ssl.SSLError) for c in chain) or "SSL" in text or "CERTIFICATE" in text.upper():
            reason = text.split("] ", 1)[-1] if "] " in text else text
            return f"TLS handshake with {where} failed {_doing(call)}: {reason}"
        lowered = text.lower()
        if "refused" in lowered:
            return f"cannot connect to {where} {_doing(call)}: connection refused (is the host right and reachable?)"
        if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
            return f"cannot connect to {where} {_doing(call)}: the host name does not resolve"
        return f"cannot connect to {where} {_doing(call)}: {text}"

    def _first_line(self, exc: BaseException) -> str:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        return http.scrub(first, self._secrets)


def _loads(body: bytes) -> Any:
    if json_too_deep(body):
        raise ValueError(TOO_DEEP)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson stops at integers beyond 64 bits, which documents may hold; the standard library reads
        # them exactly (and refuses more than 4,300 digits with a ValueError, which is "not JSON" here).
        try:
            return json.loads(body)
        except RecursionError:
            raise ValueError("nested too deeply") from None


def _scrub_json(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return http.scrub(value, secrets)
    if isinstance(value, list):
        return [_scrub_json(item, secrets) for item in value]
    if isinstance(value, dict):
        return {http.scrub(str(k), secrets): _scrub_json(v, secrets) for k, v in value.items()}
    return value


def _what(call: Call) -> str:
    return f"{call.action} endpoint '{call.endpoint}'" if call.endpoint else call.action


def _doing(call: Call) -> str:
    return f"(asked to {_what(call)})"
