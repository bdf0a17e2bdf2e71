"""The emulated workspace's state: endpoints, principals, permissions, settings and the request log.

`WorkspaceCore` holds it and the checks every API area shares (who is asking, what
they may do, which endpoint they mean); the API areas build on it in
`schemakit.mock.management` and `schemakit.mock.queries`.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemakit._exceptions import SourceError
from schemakit.check.validator import PayloadValidator
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.mock.oauth import DEFAULT_OAUTH_TOKEN_SECONDS, OAuthTokens, basic_credentials
from schemakit.mock.state import (
    PERMISSION_LEVELS,
    EndpointSettings,
    SettingsFile,
    UserSpec,
    load_settings_file,
    parse_acl,
    write_state_file,
)
from schemakit.mock.wire import ApiError, Headers, RecordedRequest

#: The admin principal: member of `admins`, so CAN_MANAGE on every endpoint.
ADMIN_USER = "admin@example.com"
#: Databricks Model Serving caps a request payload at 16 MB.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
#: How many requests `requests` keeps (oldest dropped first), so a long run stays bounded.
MAX_RECORDED_REQUESTS = 10_000
#: ... and how many body bytes in all: beyond it the oldest bodies are dropped (their requests stay).
MAX_RECORDED_BODY_BYTES = 64 * 1024 * 1024
LOG_LINES_PER_MODEL = 200
#: What `/.well-known/databricks-config` reports; databricks-sdk reads it when a client is built.
WORKSPACE_ID = "1234567890123456"
CREATOR = ADMIN_USER

LEVEL_RANK = {level: i for i, level in enumerate(PERMISSION_LEVELS)}
LEVEL_TITLE = {"CAN_VIEW": "Can View", "CAN_QUERY": "Can Query", "CAN_MANAGE": "Can Manage"}
LEVEL_DESCRIPTION = {
    "CAN_VIEW": "Can view the endpoint, its configuration, its query schema and its logs.",
    "CAN_QUERY": "Can view the endpoint and send queries to it.",
    "CAN_MANAGE": "Can stop, start and delete the endpoint and change its permissions.",
}
ENTITY_VERSION = re.compile(r"^(?P<entity>.+?)-(?P<version>\d+)$")


@dataclass(slots=True)
class Principal:
    name: str
    groups: frozenset[str]
    admin: bool = False
    service_principal: bool = False


@dataclass(slots=True)
class Endpoint:
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


def endpoint_id_of(name: str) -> str:
    return hashlib.blake2b(name.encode(), digest_size=16).hexdigest()


def entity_of(model_name: str) -> tuple[str, str]:
    match = ENTITY_VERSION.match(model_name)
    if match:
        return match["entity"], match["version"]
    return model_name, "1"


def log_time(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def now_ms() -> int:
    return int(time.time() * 1000)


def document_json_bytes(schema: EndpointSchema) -> bytes:
    # The real API answers the document as JSON; keep the document's own key order.
    return json.dumps(schema.source_document, indent=2, ensure_ascii=False).encode() + b"\n"


class WorkspaceCore:
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
        oauth_token_seconds: float = DEFAULT_OAUTH_TOKEN_SECONDS,
    ) -> None:
        if not token:
            raise ValueError("the admin token must not be empty")
        if not oauth_token_seconds > 0:
            raise ValueError("oauth_token_seconds must be positive")
        self.oauth = OAuthTokens(oauth_token_seconds)
        self._lock = threading.RLock()
        self.max_body_bytes = max_body_bytes
        self._record = record
        self._requests: collections.deque[RecordedRequest] = collections.deque(maxlen=MAX_RECORDED_REQUESTS)
        self._recorded_bytes = 0
        self._tokens: dict[str, Principal] = {}
        self._principals: dict[str, Principal] = {}
        self._groups: set[str] = {"admins", "users"}
        self._endpoints: dict[str, Endpoint] = {}
        self._by_id: dict[str, str] = {}
        self._state_file = Path(state_file) if state_file is not None else None
        self._state_raw: Mapping[str, Any] = {}
        #: What a created endpoint starts from (the fault flags of `mock`, say).
        self.default_settings = default_settings or EndpointSettings()
        self._add_principal(Principal(ADMIN_USER, frozenset({"admins", "users"}), admin=True), token)

        file_entries, file_users, self._state_raw = _file_settings(config, self._state_file)
        for user in [*file_users, *users]:
            try:
                self.add_user(user.name, token=user.token, groups=user.groups, service_principal=user.service_principal)
            except ValueError as exc:
                raise SourceError(f"user {user.name!r}: {exc}") from None

        started = time.monotonic()
        created = now_ms()
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
            endpoint = _new_endpoint(
                schema,
                entry,
                explicit.get(name) or base.with_json(entry, where),
                where,
                document=docs.get(name) or document_json_bytes(schema),
                started=started,
                created=created,
            )
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
            principal = Principal(name, frozenset({"users", *groups}), service_principal=service_principal)
            self._add_principal(principal, token)
            self._groups.update(groups)

    def add_service_principal(self, client_id: str, client_secret: str, *, groups: Iterable[str] = ()) -> None:
        """A service principal that signs in with OAuth M2M (client credentials); named by its client id."""
        self.oauth.add_client(client_id, client_secret)
        with self._lock:
            self._principals[client_id] = Principal(client_id, frozenset({"users", *groups}), service_principal=True)
            self._groups.update(groups)

    def _add_principal(self, principal: Principal, token: str) -> None:
        self._principals[principal.name] = principal
        self._tokens[token] = principal

    def configure(self, endpoint: str, **changes: Any) -> EndpointSettings:
        """Change an endpoint's settings; lifecycle counters start again from now."""
        with self._lock:
            target = self._get(endpoint, allow_deleted=True)
            settings = target.settings.replace(**changes)
            _check_traffic(target.schema, settings)
            target.settings = settings
            if {"ready_after_polls", "ready_after_seconds", "deployment_failed"} & set(changes):
                self._restart_deployment(target)
            if {"throttle_queries", "unavailable_queries"} & set(changes):
                target.queries = 0
            return settings

    def split_traffic(self, split: Mapping[str, int]) -> None:
        """Traffic shares by served-model name, across endpoints: each endpoint takes the shares of its
        own models, and its models not named get 0. ValueError names what does not fit."""
        claimed: set[str] = set()
        with self._lock:
            for endpoint in self._endpoints.values():
                names = [m.name for m in endpoint.schema.models]
                mine = {model: pct for model, pct in split.items() if model in names}
                if not mine:
                    continue
                claimed.update(mine)
                try:
                    self.configure(endpoint.name, traffic={name: mine.get(name, 0) for name in names})
                except (ValueError, SourceError) as exc:
                    raise ValueError(f"{endpoint.name}: {exc}") from None
        unknown = sorted(set(split) - claimed)
        if unknown:
            raise ValueError(f"no endpoint serves a model named {', '.join(unknown)}")

    def schema(self, endpoint: str) -> EndpointSchema:
        with self._lock:
            return self._get(endpoint, allow_deleted=True).schema

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
            self._recorded_bytes = 0

    def record(self, request: RecordedRequest) -> None:
        """Keep a request for `requests`; bounded in count and in body bytes, whatever clients send.

        A request that did not authenticate keeps no body: anyone who can reach the port could
        otherwise fill the emulator's memory.
        """
        if not self._record:
            return
        if request.status == 401:
            request = dataclasses.replace(request, body=b"")
        with self._lock:
            if len(self._requests) == self._requests.maxlen:
                self._recorded_bytes -= len(self._requests[0].body)
            self._requests.append(request)
            self._recorded_bytes += len(request.body)
            index = 0
            while self._recorded_bytes > MAX_RECORDED_BODY_BYTES and index < len(self._requests):
                old = self._requests[index]
                if old.body:
                    self._recorded_bytes -= len(old.body)
                    self._requests[index] = dataclasses.replace(old, body=b"")
                index += 1

    def _get(self, name: str, *, allow_deleted: bool = False) -> Endpoint:
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
    def _restart_deployment(endpoint: Endpoint) -> None:
        endpoint.polls = 0
        endpoint.deploy_started = time.monotonic()
        endpoint.deploy_started_ms = now_ms()

    # -- who is asking --

    def _authenticate(self, headers: Headers, *, data_plane: bool = False) -> Principal:
        user, token = _presented_credentials(headers)
        found: Principal | None = None
        with self._lock:
            # Compare against every token in constant time per comparison, so a guess learns nothing.
            for known, principal in self._tokens.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    found = principal
        issued = self.oauth.lookup(token) if found is None and user is None else None
        if issued is not None:
            # A data-plane token is good on the route-optimized endpoint's own host only, and only it is.
            if (issued.data_plane is not None) != data_plane:
                raise ApiError(401, "UNAUTHENTICATED", "Invalid access token for this host.")
            with self._lock:
                found = self._principals.get(issued.client_id)
        elif data_plane and found is not None:
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "Route-optimized endpoints take OAuth tokens only: exchange a workspace OAuth token at"
                " /oidc/v1/token (personal access tokens are not accepted here).",
            )
        if found is None or (user is not None and user not in ("token", found.name)):
            raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
        return found

    def _level(self, endpoint: Endpoint, principal: Principal) -> str | None:
        if principal.admin or "admins" in principal.groups:
            return "CAN_MANAGE"
        best: str | None = None
        kind = "service_principal_name" if principal.service_principal else "user_name"
        candidates = [endpoint.acl.get((kind, principal.name))]
        candidates += [endpoint.acl.get(("group_name", g)) for g in principal.groups]
        for level in candidates:
            if level is not None and (best is None or LEVEL_RANK[level] > LEVEL_RANK[best]):
                best = level
        return best

    def _require(self, endpoint: Endpoint, principal: Principal, needed: str) -> str:
        level = self._level(endpoint, principal)
        if level is None or LEVEL_RANK[level] < LEVEL_RANK[needed]:
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                f"User {principal.name} does not have {LEVEL_TITLE[needed]} permission on serving endpoint"
                f" {endpoint.name}.",
            )
        return level

    def _endpoint(self, name: str) -> Endpoint:
        endpoint = self._endpoints.get(name)
        if endpoint is None or endpoint.deleted:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Endpoint with name '{name}' does not exist.")
        return endpoint

    def _persist(self) -> None:
        if self._state_file is None:
            return
        write_state_file(self._state_file, self._state_raw, _state_entries(self._endpoints))


def _file_settings(
    config: SettingsFile | None, state_file: Path | None
) -> tuple[dict[str, Mapping[str, Any]], list[UserSpec], Mapping[str, Any]]:
    """Endpoint entries and users from the config, then the state file (its entries win), and the state's raw text."""
    entries: dict[str, Mapping[str, Any]] = {}
    users: list[UserSpec] = []
    raw: Mapping[str, Any] = {}
    if config is not None:
        entries.update(config.endpoints)
        users.extend(config.users)
    if state_file is not None:
        state = load_settings_file(state_file, missing_ok=True)
        raw = state.raw
        for name, entry in state.endpoints.items():
            entries[name] = {**entries.get(name, {}), **entry}
        users.extend(state.users)
    return entries, users, raw


def _new_endpoint(
    schema: EndpointSchema,
    entry: Mapping[str, Any],
    settings: EndpointSettings,
    where: str,
    *,
    document: bytes,
    started: float,
    created: int,
) -> Endpoint:
    _check_traffic(schema, settings)
    digits = schema.version
    version = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 9 else 1
    endpoint = Endpoint(
        schema=schema,
        document=document,
        settings=settings,
        id=str(entry.get("id") or endpoint_id_of(schema.title)),
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
        endpoint.logs[model.name] = collections.deque(maxlen=LOG_LINES_PER_MODEL)
    return endpoint


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


def _presented_credentials(headers: Headers) -> tuple[str | None, str]:
    """The user name (HTTP Basic only) and the token a request presents; 401 when it presents none."""
    value = headers.get("authorization")
    if value is None:
        raise ApiError(401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API.")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    user: str | None = None
    if scheme.lower() == "basic":
        # `curl -u token:<PAT>`, as the Databricks docs show it: the PAT is the password.
        credentials = basic_credentials(value)
        if credentials is not None:
            user, token = credentials
        else:
            token = ""
    elif scheme.lower() != "bearer":
        token = ""
    if not token:
        raise ApiError(401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API.")
    return user, token


def _state_entries(endpoints: Mapping[str, Endpoint]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "id": e.id,
            "stopped": e.stopped,
            "deleted": e.deleted,
            "creation_timestamp": e.created_ms,
            "last_updated_timestamp": e.updated_ms,
            "permissions": [{kind: who, "permission_level": level} for (kind, who), level in e.acl.items()],
        }
        for name, e in endpoints.items()
    }
