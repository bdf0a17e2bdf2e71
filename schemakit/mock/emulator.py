"""A local serving-endpoints emulator: the real REST API, on loopback, from schema documents.

`MockWorkspace` holds the endpoints and answers requests (HTTP-agnostic, thread
safe); `MockHTTPServer` puts it on a socket with the standard library's
threading HTTP server (HTTP/1.1 keep-alive). Everything an endpoint needs is read
from the resolved model (`schemakit.core.model`), never from the raw document, except
`/openapi`, which answers the document as it was given.

Status codes and error bodies follow the Databricks API: `{"error_code": ...,
"message": ...}`, 401 for a missing or unknown token, 403 `PERMISSION_DENIED`,
404 `RESOURCE_DOES_NOT_EXIST`, 400 `BAD_REQUEST` for payloads the served model
rejects (with schemakit's report as the message).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

import orjson

from schemakit._exceptions import SchemakitError, SourceError
from schemakit.core.load import LoadOptions, read_source_bytes
from schemakit.core.model import EndpointSchema
from schemakit.core.resolve import load
from schemakit.mock.compat import OPENAI_ROUTES, OpenAIRoutes
from schemakit.mock.core import ADMIN_USER, DEFAULT_MAX_BODY_BYTES, WORKSPACE_ID, document_json_bytes
from schemakit.mock.deploy import DeployAPI
from schemakit.mock.http import MockHTTPServer
from schemakit.mock.oauth import host_url, oidc_metadata
from schemakit.mock.state import (
    EndpointSettings,
    UserSpec,
)
from schemakit.mock.wire import (
    ApiError,
    Headers,
    RecordedRequest,
    Response,
    allow,
    error_response,
    json_response,
    not_found_api,
)

__all__ = [
    "ADMIN_USER",
    "DEFAULT_MAX_BODY_BYTES",
    "EndpointSettings",
    "MockHTTPServer",
    "MockWorkspace",
    "RecordedRequest",
    "Response",
    "UserSpec",
    "document_bytes_for",
    "load_registry",
    "load_sources",
]


class MockWorkspace(DeployAPI, OpenAIRoutes):
    """The emulated workspace: endpoints, principals, permissions, and the request log.

    Thread safe: every state change happens under one lock; queries validate and
    build their answers outside it. The state and shared checks are in
    `WorkspaceCore`; each API area is its own class (`ManagementAPI`, `QueryAPI`).
    """

    # -- requests --

    def handle(self, method: str, target: str, headers: Headers, body: bytes, *, data_plane: bool = False) -> Response:
        """Answer one request; never raises for anything a client can send.

        `data_plane`: the request came to the listener that stands for route-optimized endpoints' own host,
        which answers their queries only, with data-plane OAuth tokens only.
        """
        parsed = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(parsed.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        try:
            if data_plane:
                return self._data_plane_route(method.upper(), path, headers, body)
            return self._route(method.upper(), path, query, headers, body)
        except ApiError as exc:
            return error_response(exc.status, exc.error_code, exc.message, exc.headers)

    def _route(self, method: str, path: str, query: Mapping[str, list[str]], headers: Headers, body: bytes) -> Response:
        parts = [p for p in path.split("/") if p != ""] if path.startswith("/") else None
        if parts is None or ".." in parts:
            raise not_found_api(method, path)
        if parts == [".well-known", "databricks-config"]:
            # databricks-sdk probes this (unauthenticated) when a client is built; answer like a workspace.
            allow(method, path, "GET")
            base = host_url(headers, "http://127.0.0.1")
            return json_response(200, {"workspace_id": WORKSPACE_ID, "oidc_endpoint": f"{base}/oidc"})
        if parts == ["oidc", ".well-known", "oauth-authorization-server"]:
            allow(method, path, "GET")
            return json_response(200, oidc_metadata(host_url(headers, "http://127.0.0.1")))
        if parts == ["oidc", "v1", "token"]:
            return self.oauth.token_endpoint(method, path, headers, body)
        if parts[:3] == ["api", "2.0", "serving-endpoints"]:
            return self._management(method, path, parts[3:], query, headers, body)
        if parts[:4] == ["api", "2.0", "permissions", "serving-endpoints"]:
            return self._permissions(method, path, parts[4:], headers, body)
        if parts[:1] == ["serving-endpoints"] and "/".join(parts[1:]) in OPENAI_ROUTES:
            return self._openai(method, path, "/".join(parts[1:]), headers, body)
        if parts[:1] == ["serving-endpoints"] and parts[-1:] == ["invocations"]:
            rest = parts[1:-1]
            if len(rest) == 1:
                return self._query(method, path, rest[0], None, headers, body)
            if len(rest) == 3 and rest[1] in ("served-models", "served-entities"):
                return self._query(method, path, rest[0], rest[2], headers, body)
        raise not_found_api(method, path)

    def _data_plane_route(self, method: str, path: str, headers: Headers, body: bytes) -> Response:
        parts = [p for p in path.split("/") if p != ""] if path.startswith("/") else None
        if (
            parts is not None
            and ".." not in parts
            and parts[:1] == ["serving-endpoints"]
            and parts[-1:] == ["invocations"]
        ):
            rest = parts[1:-1]
            if len(rest) == 1:
                return self._query(method, path, rest[0], None, headers, body, data_plane=True)
            if len(rest) == 3 and rest[1] in ("served-models", "served-entities"):
                return self._query(method, path, rest[0], rest[2], headers, body, data_plane=True)
        raise not_found_api(method, path)


def document_bytes_for(source: str, schema: EndpointSchema, options: LoadOptions | None = None) -> bytes:
    """The body `/openapi` serves: the file's own bytes when it is JSON, else the document as JSON."""
    if source in ("", "-") or source.startswith(("endpoint:", "mlflow:", "http://", "https://")):
        return document_json_bytes(schema)
    try:
        raw = read_source_bytes(source, options)
    except SchemakitError:
        return document_json_bytes(schema)
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return document_json_bytes(schema)
    return raw


def load_sources(
    sources: Iterable[str | EndpointSchema], options: LoadOptions | None = None
) -> tuple[list[EndpointSchema], dict[str, bytes]]:
    """Resolve each source (a path, URL, ... or an already resolved schema) and keep what `/openapi` serves."""
    schemas: list[EndpointSchema] = []
    documents: dict[str, bytes] = {}
    for source in sources:
        if isinstance(source, EndpointSchema):
            schema = source
            documents[schema.title] = document_json_bytes(schema)
        else:
            text = str(source)
            schema = load(text, options)
            documents[schema.title] = document_bytes_for(text, schema, options)
        schemas.append(schema)
    if not schemas:
        raise SourceError("no schema documents given: the emulator needs at least one")
    return schemas, documents


def load_registry(
    entries: Mapping[str, str | Path | EndpointSchema], options: LoadOptions | None = None
) -> dict[tuple[str, str], EndpointSchema]:
    """`{"catalog.schema.model/VERSION": source}` resolved: what create and update may name as served entities."""
    out: dict[tuple[str, str], EndpointSchema] = {}
    for key, source in entries.items():
        name, sep, version = key.rpartition("/")
        if not sep or not name or not version:
            raise SourceError(f"registry entry {key!r}: expected NAME/VERSION (catalog.schema.model/3)")
        schemas, _ = load_sources([source if isinstance(source, EndpointSchema) else str(source)], options)
        out[(name, version)] = schemas[0]
    return out
