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

import collections
import contextlib
import hashlib
import hmac
import http.server
import json
import re
import socket
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from schemakit._exceptions import SchemakitError, SourceError
from schemakit.check.validator import PayloadValidator, compile_validator
from schemakit.core.load import LoadOptions, read_source_bytes
from schemakit.core.model import EndpointSchema, FormatKind, InputFormat, ServedModel
from schemakit.core.resolve import load
from schemakit.mock.responses import count_rows, respond
from schemakit.mock.state import (
    PERMISSION_LEVELS,
    EndpointSettings,
    SettingsFile,
    UserSpec,
    load_settings_file,
    parse_acl,
    write_state_file,
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
]

#: The admin principal: member of `admins`, so CAN_MANAGE on every endpoint.
ADMIN_USER = "admin@example.com"
#: Databricks Model Serving caps a request payload at 16 MB.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
#: How many requests `requests` keeps (oldest dropped first), so a long run stays bounded.
MAX_RECORDED_REQUESTS = 10_000
_LOG_LINES_PER_MODEL = 200
#: What `/.well-known/databricks-config` reports; databricks-sdk reads it when a client is built.
WORKSPACE_ID = "1234567890123456"
_CREATOR = ADMIN_USER

_LEVEL_RANK = {level: i for i, level in enumerate(PERMISSION_LEVELS)}
_LEVEL_TITLE = {"CAN_VIEW": "Can View", "CAN_QUERY": "Can Query", "CAN_MANAGE": "Can Manage"}
_LEVEL_DESCRIPTION = {
    "CAN_VIEW": "Can view the endpoint, its configuration, its query schema and its logs.",
    "CAN_QUERY": "Can view the endpoint and send queries to it.",
    "CAN_MANAGE": "Can stop, start and delete the endpoint and change its permissions.",
}
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-databricks-azure-sp-management-token"})
_ENTITY_VERSION = re.compile(r"^(?P<entity>.+?)-(?P<version>\d+)$")


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
        shown = {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in self.items()}
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


class _ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = tuple(headers)


def _json_response(status: int, value: Any, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return Response(status, orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS), tuple(headers))


def error_response(status: int, error_code: str, message: str, headers: Sequence[tuple[str, str]] = ()) -> Response:
    return _json_response(status, {"error_code": error_code, "message": message}, headers)


@dataclass(slots=True)
class _Principal:
    name: str
    groups: frozenset[str]
    admin: bool = False
    service_principal: bool = False


@dataclass(slots=True)
class _Endpoint:
    schema: EndpointSchema
    document: bytes
    settings: EndpointSettings
    id: str
    created_ms: int
    updated_ms: int
    config_version: int
    stopped: bool = False
    deleted: bool = False
    #: Direct permissions: (principal kind, name) -> level, in grant order.
    acl: dict[tuple[str, str], str] = field(default_factory=dict)
    deploy_started: float = 0.0
    deploy_started_ms: int = 0
    polls: int = 0
    queries: int = 0
    route_counter: int = 0
    validators: dict[str, PayloadValidator] = field(default_factory=dict)
    #: Per served model: (milliseconds, line) of what its server did, newest last.
    logs: dict[str, collections.deque[tuple[int, str]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.schema.title

    def model(self, name: str) -> ServedModel | None:
        return next((m for m in self.schema.models if m.name == name), None)

    def updating(self, now: float) -> bool:
        """Whether the configuration update (creation, or a restart after `config:start`) still runs."""
        s = self.settings
        if s.ready_after_polls == 0 and s.ready_after_seconds is None:
            return False
        polls_done = s.ready_after_polls > 0 and self.polls >= s.ready_after_polls
        seconds_done = s.ready_after_seconds is not None and now - self.deploy_started >= s.ready_after_seconds
        if s.ready_after_polls > 0 and s.ready_after_seconds is not None:
            return not (polls_done or seconds_done)
        return not (polls_done if s.ready_after_polls > 0 else seconds_done)

    def phase(self, now: float) -> str:
        if self.stopped:
            return "stopped"
        if self.updating(now):
            return "updating"
        return "failed" if self.settings.deployment_failed else "ready"

    def traffic(self) -> list[tuple[str, int]]:
        if self.settings.traffic is not None:
            return [(m.name, int(self.settings.traffic.get(m.name, 0))) for m in self.schema.models]
        count = len(self.schema.models)
        if count == 0:
            return []
        share, extra = divmod(100, count)
        return [(m.name, share + (1 if i < extra else 0)) for i, m in enumerate(self.schema.models)]

    def route(self) -> ServedModel:
        """Weighted round robin over the traffic split: deterministic, and exact over every 100 queries."""
        routes = [(name, pct) for name, pct in self.traffic() if pct > 0]
        slot = self.route_counter % 100
        self.route_counter += 1
        # Interleave: slot k goes to the route whose cumulative share first exceeds k's spread position.
        position = (slot * 37) % 100
        cumulative = 0
        for name, pct in routes:
            cumulative += pct
            if position < cumulative:
                model = self.model(name)
                if model is not None:
                    return model
        return self.schema.models[0]


def _endpoint_id(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=16).hexdigest()


def _entity(model_name: str) -> tuple[str, str]:
    match = _ENTITY_VERSION.match(model_name)
    if match:
        return match["entity"], match["version"]
    return model_name, "1"


def _task(model: ServedModel) -> str | None:
    fmt = model.format(FormatKind.OBJECT)
    if fmt is None:
        return None
    names = {c.name for c in fmt.columns}
    if "messages" in names:
        return "llm/v1/chat"
    if "prompt" in names:
        return "llm/v1/completions"
    if "input" in names:
        return "llm/v1/embeddings"
    return None


def _now_ms() -> int:
    return int(time.time() * 1000)


class MockWorkspace:
    """The emulated workspace: endpoints, principals, permissions, and the request log.

    Thread safe: every state change happens under one lock; queries validate and
    build their answers outside it.
    """

    def __init__(
        self,
        schemas: Iterable[EndpointSchema],
        *,
        token: str,
        documents: Mapping[str, bytes] | None = None,
        settings: Mapping[str, EndpointSettings] | None = None,
        default_settings: EndpointSettings | None = None,
        users: Iterable[UserSpec] = (),
        state_file: str | Path | None = None,
        config: SettingsFile | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        record: bool = True,
    ) -> None:
        if not token:
            raise ValueError("the admin token must not be empty")
        self._lock = threading.RLock()
        self.max_body_bytes = max_body_bytes
        self._record = record
        self._requests: collections.deque[RecordedRequest] = collections.deque(maxlen=MAX_RECORDED_REQUESTS)
        self._tokens: dict[str, _Principal] = {}
        self._principals: dict[str, _Principal] = {}
        self._groups: set[str] = {"admins", "users"}
        self._endpoints: dict[str, _Endpoint] = {}
        self._by_id: dict[str, str] = {}
        self._state_file = Path(state_file) if state_file is not None else None
        self._state_raw: Mapping[str, Any] = {}
        self._add_principal(_Principal(ADMIN_USER, frozenset({"admins", "users"}), admin=True), token)

        file_entries: dict[str, Mapping[str, Any]] = {}
        file_users: list[UserSpec] = []
        if config is not None:
            file_entries.update(config.endpoints)
            file_users.extend(config.users)
        state: SettingsFile | None = None
        if self._state_file is not None:
            state = load_settings_file(self._state_file, missing_ok=True)
            self._state_raw = state.raw
            for name, entry in state.endpoints.items():
                file_entries[name] = {**file_entries.get(name, {}), **entry}
            file_users.extend(state.users)
        for user in [*file_users, *users]:
            self.add_user(user.name, token=user.token, groups=user.groups, service_principal=user.service_principal)

        started = time.monotonic()
        created = _now_ms()
        docs = documents or {}
        explicit = settings or {}
        for schema in schemas:
            name = schema.title
            if name in self._endpoints:
                raise SourceError(f"two documents define the endpoint {name!r} (info.title); each needs its own name")
            if not schema.models:
                raise SourceError(f"{schema.source or name}: not a serving endpoint schema: no served models")
            entry = file_entries.get(name, {})
            where = f"{self._state_file or 'config'}: endpoints.{name}"
            base = default_settings or EndpointSettings()
            endpoint_settings = explicit.get(name) or base.with_json(entry, where)
            self._check_traffic(schema, endpoint_settings)
            version = int(schema.version) if schema.version.isdigit() else 1
            endpoint = _Endpoint(
                schema=schema,
                document=docs.get(name) or _document_bytes(schema),
                settings=endpoint_settings,
                id=str(entry.get("id") or _endpoint_id(name)),
                created_ms=int(entry.get("creation_timestamp") or created),
                updated_ms=int(entry.get("last_updated_timestamp") or created),
                config_version=max(version, 1),
                stopped=bool(entry.get("stopped", False)),
                deleted=bool(entry.get("deleted", False)),
                deploy_started=started,
                deploy_started_ms=created,
            )
            endpoint.acl[("user_name", ADMIN_USER)] = "CAN_MANAGE"
            if "permissions" in entry:
                endpoint.acl = {(kind, who): level for kind, who, level in parse_acl(entry["permissions"], where)}
            for model in schema.models:
                endpoint.logs[model.name] = collections.deque(maxlen=_LOG_LINES_PER_MODEL)
            self._endpoints[name] = endpoint
            self._by_id[endpoint.id] = name
        unknown = sorted(set(file_entries) - set(self._endpoints))
        if unknown and config is not None and any(n in config.endpoints for n in unknown):
            names = ", ".join(n for n in unknown if n in config.endpoints)
            raise SourceError(f"config names endpoint(s) that no document defines: {names}")
        if self._state_file is not None and not self._state_file.exists():
            # Write it now: a path that cannot be written fails here, not at the first stop.
            try:
                self._persist()
            except OSError as exc:
                raise SourceError(f"{self._state_file}: cannot write the state file: {exc.strerror or exc}") from None

    # -- configuration (the Python API of `schemakit.testing` goes through these) --

    @property
    def endpoint_names(self) -> list[str]:
        with self._lock:
            return [n for n, e in self._endpoints.items() if not e.deleted]

    def add_user(self, name: str, *, token: str, groups: Iterable[str] = (), service_principal: bool = False) -> None:
        if not name or not token:
            raise ValueError("a user needs a name and a non-empty token")
        with self._lock:
            existing = self._tokens.get(token)
            if existing is not None and existing.name != name:
                raise ValueError(f"that token already belongs to {existing.name!r}")
            principal = _Principal(name, frozenset({"users", *groups}), service_principal=service_principal)
            self._add_principal(principal, token)
            self._groups.update(groups)

    def _add_principal(self, principal: _Principal, token: str) -> None:
        self._principals[principal.name] = principal
        self._tokens[token] = principal

    def configure(self, endpoint: str, **changes: Any) -> EndpointSettings:
        """Change an endpoint's settings; lifecycle counters start again from now."""
        with self._lock:
            target = self._get(endpoint, allow_deleted=True)
            settings = target.settings.replace(**changes)
            self._check_traffic(target.schema, settings)
            target.settings = settings
            if {"ready_after_polls", "ready_after_seconds", "deployment_failed"} & set(changes):
                self._restart_deployment(target)
            if {"throttle_queries", "unavailable_queries"} & set(changes):
                target.queries = 0
            return settings

    def settings(self, endpoint: str) -> EndpointSettings:
        with self._lock:
            return self._get(endpoint, allow_deleted=True).settings

    def set_permission(self, endpoint: str, principal: str, level: str | None, *, kind: str | None = None) -> None:
        """Grant `level` on `endpoint` to a user or group (None removes the direct grant)."""
        if level is not None and level not in PERMISSION_LEVELS:
            raise ValueError(f"permission level must be one of {', '.join(PERMISSION_LEVELS)}, got {level!r}")
        with self._lock:
            target = self._get(endpoint, allow_deleted=True)
            principal_kind = kind or self._principal_kind(principal)
            if principal_kind is None:
                raise ValueError(f"no user or group named {principal!r}; add it with add_user() first")
            if level is None:
                target.acl.pop((principal_kind, principal), None)
            else:
                target.acl[(principal_kind, principal)] = level
            self._persist()

    def endpoint_id(self, endpoint: str) -> str:
        with self._lock:
            return self._get(endpoint, allow_deleted=True).id

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def record(self, request: RecordedRequest) -> None:
        if self._record:
            with self._lock:
                self._requests.append(request)

    def _get(self, name: str, *, allow_deleted: bool = False) -> _Endpoint:
        endpoint = self._endpoints.get(name)
        if endpoint is None or (endpoint.deleted and not allow_deleted):
            raise KeyError(f"no endpoint named {name!r} (endpoints: {', '.join(self._endpoints) or 'none'})")
        return endpoint

    def _principal_kind(self, name: str) -> str | None:
        principal = self._principals.get(name)
        if principal is not None:
            return "service_principal_name" if principal.service_principal else "user_name"
        if name in self._groups:
            return "group_name"
        return None

    @staticmethod
    def _check_traffic(schema: EndpointSchema, settings: EndpointSettings) -> None:
        if settings.traffic is None:
            return
        names = {m.name for m in schema.models}
        unknown = sorted(set(settings.traffic) - names)
        if unknown:
            raise SourceError(
                f"{schema.title}: traffic names served model(s) {', '.join(unknown)} that the document lacks"
                f" (served models: {', '.join(sorted(names))})"
            )

    @staticmethod
    def _restart_deployment(endpoint: _Endpoint) -> None:
        endpoint.polls = 0
        endpoint.deploy_started = time.monotonic()
        endpoint.deploy_started_ms = _now_ms()

    # -- requests --

    def handle(self, method: str, target: str, headers: Headers, body: bytes) -> Response:
        """Answer one request; never raises for anything a client can send."""
        parsed = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(parsed.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        try:
            return self._route(method.upper(), path, query, headers, body)
        except _ApiError as exc:
            return error_response(exc.status, exc.error_code, exc.message, exc.headers)

    def _route(self, method: str, path: str, query: Mapping[str, list[str]], headers: Headers, body: bytes) -> Response:
        parts = [p for p in path.split("/") if p != ""] if path.startswith("/") else None
        if parts is None or ".." in parts:
            raise _not_found_api(method, path)
        if parts == [".well-known", "databricks-config"]:
            # databricks-sdk probes this (unauthenticated) when a client is built; answer like a workspace.
            _allow(method, path, "GET")
            return _json_response(200, {"workspace_id": WORKSPACE_ID})
        if parts[:3] == ["api", "2.0", "serving-endpoints"]:
            return self._management(method, path, parts[3:], query, headers, body)
        if parts[:4] == ["api", "2.0", "permissions", "serving-endpoints"]:
            return self._permissions(method, path, parts[4:], headers, body)
        if parts[:1] == ["serving-endpoints"] and parts[-1:] == ["invocations"]:
            rest = parts[1:-1]
            if len(rest) == 1:
                return self._query(method, path, rest[0], None, headers, body)
            if len(rest) == 3 and rest[1] in ("served-models", "served-entities"):
                return self._query(method, path, rest[0], rest[2], headers, body)
        raise _not_found_api(method, path)

    def _authenticate(self, headers: Headers) -> _Principal:
        value = headers.get("authorization")
        if value is None:
            raise _ApiError(
                401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
            )
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _ApiError(
                401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
            )
        found: _Principal | None = None
        with self._lock:
            # Compare against every token in constant time per comparison, so a guess learns nothing.
            for known, principal in self._tokens.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    found = principal
        if found is None:
            raise _ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
        return found

    def _level(self, endpoint: _Endpoint, principal: _Principal) -> str | None:
        if principal.admin or "admins" in principal.groups:
            return "CAN_MANAGE"
        best: str | None = None
        kind = "service_principal_name" if principal.service_principal else "user_name"
        candidates = [endpoint.acl.get((kind, principal.name))]
        candidates += [endpoint.acl.get(("group_name", g)) for g in principal.groups]
        for level in candidates:
            if level is not None and (best is None or _LEVEL_RANK[level] > _LEVEL_RANK[best]):
                best = level
        return best

    def _require(self, endpoint: _Endpoint, principal: _Principal, needed: str) -> str:
        level = self._level(endpoint, principal)
        if level is None or _LEVEL_RANK[level] < _LEVEL_RANK[needed]:
            raise _ApiError(
                403,
                "PERMISSION_DENIED",
                f"User {principal.name} does not have {_LEVEL_TITLE[needed]} permission on serving endpoint"
                f" {endpoint.name}.",
            )
        return level

    def _endpoint(self, name: str) -> _Endpoint:
        endpoint = self._endpoints.get(name)
        if endpoint is None or endpoint.deleted:
            raise _ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Endpoint with name '{name}' does not exist.")
        return endpoint

    # -- management API --

    def _management(
        self,
        method: str,
        path: str,
        rest: list[str],
        query: Mapping[str, list[str]],
        headers: Headers,
        body: bytes,
    ) -> Response:
        principal = self._authenticate(headers)
        if not rest:
            _allow(method, path, "GET")
            return self._list(principal)
        name = rest[0]
        if (len(rest) == 2 and rest[1] in ("config:stop", "config:start")) or ":" in name:
            # `/{name}/config:stop`; a name with a colon is never an endpoint.
            action = rest[1] if len(rest) == 2 else ""
            if action not in ("config:stop", "config:start"):
                raise _not_found_api(method, path)
            _allow(method, path, "POST")
            return self._stop_start(name, action == "config:stop", principal)
        with self._lock:
            endpoint = self._endpoint(name)
            if len(rest) == 1:
                _allow(method, path, "GET", "DELETE")
                if method == "DELETE":
                    self._require(endpoint, principal, "CAN_MANAGE")
                    endpoint.deleted = True
                    endpoint.updated_ms = _now_ms()
                    self._persist()
                    return _json_response(200, {})
                level = self._require(endpoint, principal, "CAN_VIEW")
                details = self._details(endpoint, level, time.monotonic())
                endpoint.polls += 1
                return _json_response(200, details)
            if rest[1:] == ["openapi"]:
                _allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                return self._openapi(endpoint)
            if len(rest) == 4 and rest[1] in ("served-models", "served-entities") and rest[3] in ("logs", "build-logs"):
                _allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                return self._logs(endpoint, rest[2], rest[3] == "build-logs", query)
        raise _not_found_api(method, path)

    def _list(self, principal: _Principal) -> Response:
        now = time.monotonic()
        with self._lock:
            out = []
            for endpoint in self._endpoints.values():
                if endpoint.deleted:
                    continue
                level = self._level(endpoint, principal)
                if level is None:
                    continue
                details = self._details(endpoint, level, now)
                summary: dict[str, Any] = {
                    k: details[k]
                    for k in ("name", "creator", "creation_timestamp", "last_updated_timestamp", "state", "id", "task")
                    if k in details
                }
                config = details.get("config") or details.get("pending_config") or {}
                summary["config"] = {
                    "served_entities": [
                        {k: e[k] for k in ("name", "entity_name", "entity_version", "state") if k in e}
                        for e in config.get("served_entities", [])
                    ],
                    "config_version": config.get("config_version"),
                }
                summary["permission_level"] = level
                out.append(summary)
            return _json_response(200, {"endpoints": out})

    def _details(self, endpoint: _Endpoint, level: str, now: float) -> dict[str, Any]:
        phase = endpoint.phase(now)
        state: dict[str, str] = {
            "ready": "READY" if phase == "ready" else "NOT_READY",
            "config_update": {"updating": "IN_PROGRESS", "failed": "UPDATE_FAILED"}.get(phase, "NOT_UPDATING"),
        }
        deployment, message = {
            "ready": ("DEPLOYMENT_READY", ""),
            "updating": ("DEPLOYMENT_CREATING", "Creating the model server container and loading the model."),
            "failed": ("DEPLOYMENT_FAILED", endpoint.settings.failure_message),
            "stopped": ("DEPLOYMENT_ABORTED", "The endpoint is stopped. Start it to serve queries."),
        }[phase]
        entities = []
        for model in endpoint.schema.models:
            entity_name, entity_version = _entity(model.name)
            entities.append(
                {
                    "name": model.name,
                    "entity_name": entity_name,
                    "entity_version": entity_version,
                    "workload_size": "Small",
                    "workload_type": "CPU",
                    "scale_to_zero_enabled": False,
                    "state": {"deployment": deployment, "deployment_state_message": message},
                    "creator": _CREATOR,
                    "creation_timestamp": endpoint.created_ms,
                }
            )
        routes = [
            {"served_model_name": name, "served_entity_name": name, "traffic_percentage": pct}
            for name, pct in endpoint.traffic()
        ]
        config = {
            "served_entities": entities,
            "served_models": [
                {
                    "name": e["name"],
                    "model_name": e["entity_name"],
                    "model_version": e["entity_version"],
                    "workload_size": e["workload_size"],
                    "scale_to_zero_enabled": e["scale_to_zero_enabled"],
                    "state": e["state"],
                    "creator": e["creator"],
                    "creation_timestamp": e["creation_timestamp"],
                }
                for e in entities
            ],
            "traffic_config": {"routes": routes},
            "config_version": endpoint.config_version,
        }
        details: dict[str, Any] = {
            "name": endpoint.name,
            "creator": _CREATOR,
            "creation_timestamp": endpoint.created_ms,
            "last_updated_timestamp": endpoint.updated_ms,
            "state": state,
        }
        if phase == "updating" or phase == "failed":
            # A first deployment that has not finished (or failed) has no active config, only the pending one.
            details["pending_config"] = {**config, "start_time": endpoint.deploy_started_ms}
        else:
            details["config"] = config
        task = _task(endpoint.schema.models[0])
        if task is not None:
            details["task"] = task
        details["id"] = endpoint.id
        details["permission_level"] = level
        details["route_optimized"] = False
        return details

    def _openapi(self, endpoint: _Endpoint) -> Response:
        phase = endpoint.phase(time.monotonic())
        if endpoint.settings.no_schema:
            model = endpoint.schema.models[0].name
            raise _ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Unable to generate an OpenAPI schema for endpoint '{endpoint.name}': served entity '{model}'"
                " has no model signature. Log the model with a signature (mlflow.models.infer_signature) to get"
                " a query schema.",
            )
        if phase != "ready":
            raise _ApiError(
                400,
                "INVALID_STATE",
                f"The OpenAPI schema of endpoint '{endpoint.name}' is only available when the endpoint is READY;"
                f" it is {_phase_words(phase)}.",
            )
        return Response(200, endpoint.document)

    def _logs(self, endpoint: _Endpoint, model_name: str, build: bool, query: Mapping[str, list[str]]) -> Response:
        model = endpoint.model(model_name)
        if model is None:
            raise _ApiError(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"Served model '{model_name}' does not exist in endpoint '{endpoint.name}'."
                f" Served models: {', '.join(m.name for m in endpoint.schema.models)}.",
            )
        version = endpoint.config_version
        raw = query.get("config_version")
        if raw:
            text = raw[-1].strip()
            if not text.isdigit():
                raise _ApiError(
                    400, "INVALID_PARAMETER_VALUE", f"config_version must be a positive integer, got '{text[:40]}'."
                )
            version = int(text)
            if not 1 <= version <= endpoint.config_version:
                raise _ApiError(
                    404,
                    "RESOURCE_DOES_NOT_EXIST",
                    f"Config version {version} does not exist for endpoint '{endpoint.name}'"
                    f" (versions: 1 to {endpoint.config_version}).",
                )
        current = version == endpoint.config_version
        phase = endpoint.phase(time.monotonic()) if current else "ready"
        lines = (
            _build_log_lines(endpoint, model, version, phase)
            if build
            else _server_log_lines(endpoint, model, version, phase)
        )
        if not build and current:
            # Only the current model server's lines: a restart (config:start) begins a new server.
            lines.extend(text for ms, text in endpoint.logs[model.name] if ms >= endpoint.deploy_started_ms)
        if not build and current and endpoint.stopped:
            lines.append(f"{_log_time(endpoint.updated_ms)} [INFO] Model server stopped (config:stop).")
        return _json_response(200, {"logs": "\n".join(lines) + "\n"})

    def _stop_start(self, name: str, stop: bool, principal: _Principal) -> Response:
        with self._lock:
            endpoint = self._endpoint(name)
            self._require(endpoint, principal, "CAN_MANAGE")
            now = time.monotonic()
            phase = endpoint.phase(now)
            if stop:
                if any(m.format(FormatKind.OBJECT) is not None for m in endpoint.schema.models):
                    raise _ApiError(
                        400,
                        "INVALID_PARAMETER_VALUE",
                        f"Endpoint '{name}' cannot be stopped: only endpoints that serve custom models can be stopped.",
                    )
                if phase == "updating":
                    raise _ApiError(
                        409,
                        "RESOURCE_CONFLICT",
                        f"Endpoint '{name}' cannot be stopped while a configuration update is in progress."
                        " Wait until the update finishes, then retry.",
                    )
                if phase == "stopped":
                    raise _ApiError(400, "INVALID_STATE", f"Endpoint '{name}' is already stopped.")
                endpoint.stopped = True
            else:
                if phase != "stopped":
                    raise _ApiError(400, "INVALID_STATE", f"Endpoint '{name}' is not stopped, so it cannot be started.")
                endpoint.stopped = False
                self._restart_deployment(endpoint)
            endpoint.updated_ms = _now_ms()
            self._persist()
            level = self._level(endpoint, principal) or "CAN_MANAGE"
            return _json_response(200, self._details(endpoint, level, now))

    # -- permissions API --

    def _permissions(self, method: str, path: str, rest: list[str], headers: Headers, body: bytes) -> Response:
        principal = self._authenticate(headers)
        if len(rest) not in (1, 2) or (len(rest) == 2 and rest[1] != "permissionLevels"):
            raise _not_found_api(method, path)
        with self._lock:
            name = self._by_id.get(rest[0])
            endpoint = self._endpoints.get(name) if name is not None else None
            if endpoint is None or endpoint.deleted:
                raise _ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Serving endpoint with id '{rest[0]}' does not exist.")
            if len(rest) == 2:
                _allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                return _json_response(
                    200,
                    {
                        "permission_levels": [
                            {"permission_level": lvl, "description": _LEVEL_DESCRIPTION[lvl]}
                            for lvl in reversed(PERMISSION_LEVELS)
                        ]
                    },
                )
            _allow(method, path, "GET", "PATCH", "PUT")
            if method == "GET":
                self._require(endpoint, principal, "CAN_VIEW")
                return _json_response(200, self._acl_json(endpoint))
            self._require(endpoint, principal, "CAN_MANAGE")
            entries = self._parse_acl_body(body)
            if method == "PUT":
                endpoint.acl = {}
            for kind, who, level in entries:
                endpoint.acl[(kind, who)] = level
            self._persist()
            return _json_response(200, self._acl_json(endpoint))

    def _parse_acl_body(self, body: bytes) -> list[tuple[str, str, str]]:
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise _ApiError(400, "MALFORMED_REQUEST", f"Invalid JSON given in the body of the request: {exc}") from None
        if not isinstance(data, dict):
            raise _ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
        try:
            entries = parse_acl(data.get("access_control_list", []), "access_control_list")
        except SourceError as exc:
            raise _ApiError(400, "INVALID_PARAMETER_VALUE", exc.message) from None
        for kind, who, _ in entries:
            known = self._principal_kind(who)
            if known != kind:
                label = {"user_name": "UserName", "group_name": "GroupName"}.get(kind, "ServicePrincipalName")
                raise _ApiError(400, "INVALID_PARAMETER_VALUE", f"Principal: {label}({who}) does not exist")
        return entries

    def _acl_json(self, endpoint: _Endpoint) -> dict[str, Any]:
        acl: list[dict[str, Any]] = []
        for (kind, who), level in endpoint.acl.items():
            entry: dict[str, Any] = {kind: who}
            if kind != "group_name":
                entry["display_name"] = who
            entry["all_permissions"] = [{"permission_level": level, "inherited": False}]
            acl.append(entry)
        acl.append(
            {
                "group_name": "admins",
                "all_permissions": [
                    {
                        "permission_level": "CAN_MANAGE",
                        "inherited": True,
                        "inherited_from_object": ["/serving-endpoints/"],
                    }
                ],
            }
        )
        return {
            "object_id": f"/serving-endpoints/{endpoint.id}",
            "object_type": "serving-endpoint",
            "access_control_list": acl,
        }

    def _persist(self) -> None:
        if self._state_file is None:
            return
        state = {
            name: {
                "id": e.id,
                "stopped": e.stopped,
                "deleted": e.deleted,
                "creation_timestamp": e.created_ms,
                "last_updated_timestamp": e.updated_ms,
                "permissions": [{kind: who, "permission_level": level} for (kind, who), level in e.acl.items()],
            }
            for name, e in self._endpoints.items()
        }
        write_state_file(self._state_file, self._state_raw, state)

    # -- queries --

    def _query(
        self, method: str, path: str, name: str, model_name: str | None, headers: Headers, body: bytes
    ) -> Response:
        _allow(method, path, "POST")
        principal = self._authenticate(headers)
        with self._lock:
            endpoint = self._endpoint(name)
            self._require(endpoint, principal, "CAN_QUERY")
            latency = endpoint.settings.latency
        if latency > 0:
            time.sleep(latency)
        with self._lock:
            phase = endpoint.phase(time.monotonic())
            if phase == "stopped":
                raise _ApiError(
                    400,
                    "BAD_REQUEST",
                    f"Endpoint {name} is stopped. Start the endpoint (POST /api/2.0/serving-endpoints/{name}/config:start)"
                    " before sending queries.",
                )
            if phase == "updating":
                raise _ApiError(
                    503,
                    "TEMPORARILY_UNAVAILABLE",
                    f"Endpoint {name} is not ready: its configuration update is in progress. Retry when it is READY.",
                )
            if phase == "failed":
                raise _ApiError(
                    400,
                    "BAD_REQUEST",
                    f"Endpoint {name} is not ready: the update failed ({endpoint.settings.failure_message})",
                )
            if model_name is None:
                model = endpoint.route()
            else:
                found = endpoint.model(model_name)
                if found is None:
                    raise _ApiError(
                        404,
                        "RESOURCE_DOES_NOT_EXIST",
                        f"Served model '{model_name}' does not exist in endpoint '{name}'.",
                    )
                model = found
            endpoint.queries += 1
            count = endpoint.queries
            settings = endpoint.settings
            validator = endpoint.validators.get(model.name)
            log_lines = endpoint.logs[model.name]

        def log(line: str) -> None:
            # Under the lock: `_logs` iterates these lines while other threads add to them.
            with self._lock:
                now = _now_ms()
                log_lines.append((now, f"{_log_time(now)} {line}"))

        if count <= settings.throttle_queries:
            log("[WARNING] 429 POST /invocations: rate limit exceeded")
            raise _ApiError(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                f"Exceeded the rate limit of endpoint {name}. Retry after {settings.retry_after} second(s).",
                [("Retry-After", str(settings.retry_after))],
            )
        if count <= settings.throttle_queries + settings.unavailable_queries:
            log("[WARNING] 503 POST /invocations: model server unavailable")
            raise _ApiError(
                503, "TEMPORARILY_UNAVAILABLE", f"The model server of endpoint {name} is temporarily unavailable."
            )
        if validator is None:
            validator = compile_validator(model)
            with self._lock:
                endpoint.validators.setdefault(model.name, validator)
        # schemakit's validator reads the bytes itself, so text that is not JSON gets its line and column.
        try:
            report = validator.validate_json(body)
        except RecursionError:
            raise _ApiError(
                400,
                "BAD_REQUEST",
                "Failed to parse input from JSON: the document nests too deeply. Send rows of plain values.",
                [("served-model-name", model.name)],
            ) from None
        header = [("served-model-name", model.name)]
        if not report.ok:
            log("[INFO] 400 POST /invocations: payload rejected")
            raise _ApiError(400, "BAD_REQUEST", report.to_text(), header)
        payload = _parse_payload(body)
        fmt = _select_format(model, payload)
        answer = respond(model, payload, fmt)
        rows = count_rows(payload, fmt) if fmt is not None and fmt.key else 1
        log(f"[INFO] 200 POST /invocations: {rows} row(s) scored")
        return _json_response(200, answer, header)


def _parse_payload(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise _ApiError(400, "BAD_REQUEST", "Failed to parse input: the request body is empty; send a JSON object.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = _parse_payload_slow(body)
    if not isinstance(payload, dict):
        raise _ApiError(
            400,
            "BAD_REQUEST",
            f"Invalid input. The request body must be a JSON object, got a JSON {_json_kind(payload)}.",
        )
    return payload


def _parse_payload_slow(body: bytes) -> Any:
    # orjson stops at integers beyond 64 bits; the standard library reads them.
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _ApiError(
            400,
            "BAD_REQUEST",
            f"Failed to parse input from JSON. Ensure that input is a valid JSON formatted string. Error: {exc}",
        ) from None


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _select_format(model: ServedModel, payload: Mapping[str, Any]) -> InputFormat | None:
    for fmt in model.formats:
        if fmt.key is not None and fmt.key in payload:
            return fmt
    return model.format(FormatKind.OBJECT)


def _phase_words(phase: str) -> str:
    return {"updating": "NOT_READY (update in progress)", "failed": "NOT_READY (update failed)", "stopped": "stopped"}[
        phase
    ]


def _allow(method: str, path: str, *methods: str) -> None:
    if method not in methods:
        raise _ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"{method} is not allowed on {path[:200]}; allowed: {', '.join(methods)}.",
            [("Allow", ", ".join(methods))],
        )


def _not_found_api(method: str, path: str) -> _ApiError:
    return _ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method[:16]} {path[:200]}'")


def _log_time(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _server_log_lines(endpoint: _Endpoint, model: ServedModel, version: int, phase: str) -> list[str]:
    start = endpoint.deploy_started_ms if version == endpoint.config_version else endpoint.created_ms
    t = _log_time(start)
    entity, entity_version = _entity(model.name)
    lines = [
        f"{t} [INFO] config_version={version}: starting model server for {entity} version {entity_version}",
        f"{t} [INFO] Loading model {model.name} ({', '.join(model.format_names)})",
    ]
    if phase == "updating":
        lines.append(f"{t} [INFO] Waiting for the model server to become healthy")
    elif phase == "failed":
        lines.append(f"{t} [ERROR] Model server failed to start: {endpoint.settings.failure_message}")
    else:
        lines.append(f"{t} [INFO] Listening at: http://0.0.0.0:8080 (workers: 4)")
        lines.append(f"{t} [INFO] Model server is ready to serve requests")
    return lines


def _build_log_lines(endpoint: _Endpoint, model: ServedModel, version: int, phase: str) -> list[str]:
    t = _log_time(endpoint.deploy_started_ms if version == endpoint.config_version else endpoint.created_ms)
    entity, entity_version = _entity(model.name)
    lines = [
        f"{t} [config_version={version}] Building the container image for {entity} version {entity_version}",
        f"{t} Step 1/4: Fetching model artifacts for {model.name}",
        f"{t} Step 2/4: Creating the Python environment (conda.yaml, requirements.txt)",
        f"{t} Step 3/4: Installing model dependencies",
    ]
    if phase == "failed":
        lines += [
            f"{t} ERROR: Could not install the model's dependencies.",
            f"{t} ERROR: {endpoint.settings.failure_message}",
            f"{t} Container image build failed for config_version={version}.",
        ]
    elif phase == "updating":
        lines.append(f"{t} Step 4/4: Pushing the container image (in progress)")
    else:
        lines += [f"{t} Step 4/4: Pushing the container image", f"{t} Container image build succeeded."]
    return lines


def _document_bytes(schema: EndpointSchema) -> bytes:
    # The real API answers the document as JSON; keep the document's own key order.
    return json.dumps(schema.source_document, indent=2, ensure_ascii=False).encode() + b"\n"


def document_bytes_for(source: str, schema: EndpointSchema, options: LoadOptions | None = None) -> bytes:
    """The body `/openapi` serves: the file's own bytes when it is JSON, else the document as JSON."""
    if source in ("", "-") or source.startswith(("endpoint:", "mlflow:", "http://", "https://")):
        return _document_bytes(schema)
    try:
        raw = read_source_bytes(source, options)
    except SchemakitError:
        return _document_bytes(schema)
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _document_bytes(schema)
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
            documents[schema.title] = _document_bytes(schema)
        else:
            text = str(source)
            schema = load(text, options)
            documents[schema.title] = document_bytes_for(text, schema, options)
        schemas.append(schema)
    if not schemas:
        raise SourceError("no schema documents given: the emulator needs at least one")
    return schemas, documents


# -- HTTP --


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

    def _dispatch(self) -> None:
        workspace = self.server.workspace
        method = self.command
        try:
            body = self._read_body(workspace.max_body_bytes)
        except _ApiError as exc:
            self.close_connection = True
            self._send(error_response(exc.status, exc.error_code, exc.message, exc.headers), method)
            self._record(method, b"", exc.status)
            return
        try:
            response = workspace.handle(method, self.path, Headers(self.headers.items()), body)
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
            raise _ApiError(400, "BAD_REQUEST", "Content-Length must be a whole number.") from None
        if length < 0:
            raise _ApiError(400, "BAD_REQUEST", "Content-Length must not be negative.")
        if length > limit:
            raise _too_large(length, limit)
        data = self.rfile.read(length)
        if len(data) < length:
            raise _ApiError(400, "BAD_REQUEST", "The request body ended before Content-Length bytes arrived.")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _ApiError(400, "BAD_REQUEST", "Malformed chunked request body.") from None
            if size == 0:
                # Trailer headers, up to the blank line.
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _too_large(total, limit)
            chunks.append(self.rfile.read(size))
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
            self.server.access_log(f"{self.address_string()} - {format % args}")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.access_log is not None:
            # The request line only: never headers, so never a token.
            self.server.access_log(f'"{self.command} {self.path[:300]}" {code!s}')


def _too_large(length: int, limit: int) -> _ApiError:
    return _ApiError(
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
        workspace: MockWorkspace,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_log: Callable[[str], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self.access_log = access_log
        self.on_error = on_error
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
