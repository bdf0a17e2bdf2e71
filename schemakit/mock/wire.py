"""The values the emulator's API areas speak: requests, responses, errors, and what a server needs of a workspace.

The API areas (queries, management, gateway, ...) and the socket server both import this module and nothing
of each other, so `mock/http.py` never reaches back up to the emulator that assembles them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from schemakit._io import dump_json

__all__ = [
    "SECRET_HEADERS",
    "ApiError",
    "Headers",
    "RecordedRequest",
    "Response",
    "Workspace",
    "allow",
    "error_response",
    "json_response",
    "not_found_api",
]

#: Request headers whose values are credentials: never shown in a repr or a log.
SECRET_HEADERS = frozenset({"authorization", "cookie", "x-databricks-azure-sp-management-token"})


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"


class Headers(Mapping[str, str]):
    """Request headers, looked up without regard to case (`headers["authorization"]`)."""

    __slots__ = ("_items", "_lower")

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._items = list(items)
        self._lower: dict[str, str] = {}
        for name, value in self._items:
            self._lower.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._lower[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name

    def __len__(self) -> int:
        return len(self._lower)

    def __repr__(self) -> str:
        # A failing assert prints this: never show a credential.
        shown = {k: ("<redacted>" if k.lower() in SECRET_HEADERS else v) for k, v in self.items()}
        return f"Headers({shown!r})"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the emulator received, for tests to assert on."""

    method: str
    path: str
    query: str
    headers: Headers
    body: bytes = field(repr=False)
    status: int = 0

    def json(self) -> Any:
        return orjson.loads(self.body)


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = tuple(headers)


def json_response(status: int, value: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return Response(status, dump_json(value, indent=False), tuple(headers))


def error_response(status: int, error_code: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return json_response(status, {"error_code": error_code, "message": message}, headers)


def allow(method: str, path: str, *methods: str) -> None:
    if method not in methods:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{method} is not allowed on {path[:200]}; allowed: {', '.join(methods)}.",
            [("Allow", ", ".join(methods))],
        )


def not_found_api(method: str, path: str) -> ApiError:
    return ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method[:16]} {path[:200]}'")


class Workspace(Protocol):
    """What the socket server needs of the emulator: a body limit, an answer to each request, a log of them."""

    @property
    def max_body_bytes(self) -> int: ...

    def handle(
        self, method: str, target: str, headers: Headers, body: bytes, *, data_plane: bool = False
    ) -> Response: ...

    def record(self, request: RecordedRequest) -> None: ...
