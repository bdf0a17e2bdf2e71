"""A client for a workspace's serving-endpoints API: details, readiness, the query schema, lifecycle, logs.

`Workspace` is the library API; `schemakit fetch` and `schemakit endpoint ...` are thin commands over it,
and `endpoint:[PROFILE/]NAME` sources read through `document_from_endpoint_source`.

How it talks to the workspace, on purpose:

- every request has a timeout; 429 and 503 are retried for every method (the server did not act on the
  request), other 5xx and dropped connections only for GET, with exponential backoff and jitter, honouring
  ``Retry-After`` (seconds or an HTTP date) up to a cap;
- redirects are followed by hand, and the credentials go only to the workspace's own scheme, host and port:
  once a redirect leaves it, nothing in that chain is authenticated again;
- the token never appears in a message, a log line or an exception, and is scrubbed from anything the
  server says before it is echoed.
"""

from __future__ import annotations

import difflib
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from schemakit._exceptions import (
    EndpointNotReadyError,
    SchemakitError,
    SchemaUnavailableError,
    SourceError,
    WorkspaceError,
)
from schemakit.core.load import DEFAULT_MAX_BYTES, LoadOptions, parse_text
from schemakit.runtime import http
from schemakit.workspace.auth import resolve_credentials
from schemakit.workspace.transport import Call, RetryPolicy, WorkspaceTransport

if TYPE_CHECKING:
    pass

__all__ = [
    "PERMISSION_LEVELS",
    "EndpointStatus",
    "PendingConfig",
    "PermissionEntry",
    "Permissions",
    "RetryPolicy",
    "ServedEntity",
    "TrafficRoute",
    "Workspace",
    "document_from_endpoint_source",
    "parse_endpoint_source",
]

logger = logging.getLogger("schemakit.workspace")

#: Weakest first; each level includes the ones before it.
PERMISSION_LEVELS: tuple[str, ...] = ("CAN_VIEW", "CAN_QUERY", "CAN_MANAGE")
_PRINCIPAL_KINDS: tuple[tuple[str, str], ...] = (
    ("user_name", "user"),
    ("group_name", "group"),
    ("service_principal_name", "service principal"),
)
_FAILED_DEPLOYMENTS = frozenset({"DEPLOYMENT_FAILED"})
_RETRY_ANY_METHOD = frozenset({429, 503})
_RETRY_IDEMPOTENT = frozenset({500, 502, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD"})
_SERVER_MESSAGE_LIMIT = 300

# ---------------------------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True, slots=True)
class ServedEntity:
    """One served entity (or served model, in older answers) of an endpoint's configuration."""

    name: str
    entity_name: str | None = None
    entity_version: str | None = None
    deployment: str | None = None
    message: str = ""
    workload_size: str | None = None
    scale_to_zero_enabled: bool | None = None

    @property
    def failed(self) -> bool:
        return self.deployment in _FAILED_DEPLOYMENTS

    @property
    def aborted(self) -> bool:
        """Shut down on purpose (a stopped endpoint), not broken."""
        return self.deployment == "DEPLOYMENT_ABORTED"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ServedEntity:
        state = _mapping(data.get("state"))
        version = data.get("entity_version", data.get("model_version"))
        return cls(
            name=str(data.get("name") or data.get("entity_name") or data.get("model_name") or "?"),
            entity_name=_opt_str(data.get("entity_name", data.get("model_name"))),
            entity_version=None if version is None else str(version),
            deployment=_opt_str(state.get("deployment")),
            message=str(state.get("deployment_state_message") or ""),
            workload_size=_opt_str(data.get("workload_size")),
            scale_to_zero_enabled=_opt_bool(data.get("scale_to_zero_enabled")),
        )

    def label(self) -> str:
        what = self.entity_name or ""
        if what and self.entity_version:
            what += f" version {self.entity_version}"
        return f"'{self.name}'" + (f" ({what})" if what else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "entity_name": self.entity_name,
            "entity_version": self.entity_version,
            "deployment": self.deployment,
            "message": self.message,
            "workload_size": self.workload_size,
            "scale_to_zero_enabled": self.scale_to_zero_enabled,
        }


@dataclass(frozen=True, slots=True)
class TrafficRoute:
    """A share of the endpoint's queries sent to one served model."""

    served_model_name: str
    traffic_percentage: int

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> TrafficRoute:
        name = data.get("served_model_name") or data.get("served_entity_name") or "?"
        percentage = data.get("traffic_percentage")
        return cls(str(name), int(percentage) if isinstance(percentage, (int, float)) else 0)

    def to_json(self) -> dict[str, Any]:
        return {"served_model_name": self.served_model_name, "traffic_percentage": self.traffic_percentage}


@dataclass(frozen=True, slots=True)
class PendingConfig:
    """The configuration an update in progress is rolling out."""

    config_version: int | None
    served_entities: tuple[ServedEntity, ...]
    traffic_routes: tuple[TrafficRoute, ...]
    start_time: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PendingConfig:
        return cls(
            config_version=_opt_int(data.get("config_version")),
            served_entities=_entities(data),
            traffic_routes=_routes(data),
            start_time=_opt_int(data.get("start_time")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "config_version": self.config_version,
            "start_time": self.start_time,
            "served_entities": [e.to_json() for e in self.served_entities],
            "traffic_routes": [r.to_json() for r in self.traffic_routes],
        }


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    """What the workspace says about one endpoint: readiness, update state, served entities, traffic."""

    name: str
    ready: str
    config_update: str
    served_entities: tuple[ServedEntity, ...] = ()
    traffic_routes: tuple[TrafficRoute, ...] = ()
    config_version: int | None = None
    pending_config: PendingConfig | None = None
    id: str | None = None
    permission_level: str | None = None
    creator: str | None = None
    #: Other fields of `state` the API may add (suspension, for instance), kept for display.
    state_details: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> EndpointStatus:
        state = _mapping(data.get("state"))
        config = _mapping(data.get("config"))
        pending = data.get("pending_config")
        known_state = {"ready", "config_update", "update_state"}
        return cls(
            name=str(data.get("name") or "?"),
            ready=str(state.get("ready") or "UNKNOWN"),
            # Older answers call it `update_state`.
            config_update=str(state.get("config_update") or state.get("update_state") or "UNKNOWN"),
            served_entities=_entities(config),
            traffic_routes=_routes(config),
            config_version=_opt_int(config.get("config_version")),
            pending_config=PendingConfig.from_api(pending) if isinstance(pending, Mapping) else None,
            id=_opt_str(data.get("id")),
            permission_level=_opt_str(data.get("permission_level")),
            creator=_opt_str(data.get("creator")),
            state_details=tuple(
                (str(k), str(v)) for k, v in sorted(state.items()) if k not in known_state and v not in (None, "")
            ),
        )

    @property
    def is_ready(self) -> bool:
        """READY and no configuration update in progress or failed: the schema is current."""
        return self.ready == "READY" and self.config_update == "NOT_UPDATING"

    @property
    def update_in_progress(self) -> bool:
        return self.config_update == "IN_PROGRESS"

    @property
    def failed_entities(self) -> tuple[ServedEntity, ...]:
        pending = self.pending_config.served_entities if self.pending_config else ()
        seen: dict[str, ServedEntity] = {}
        for entity in (*self.served_entities, *pending):
            if entity.failed:
                seen.setdefault(entity.name, entity)
        return tuple(seen.values())

    @property
    def is_stopped(self) -> bool:
        """NOT_READY with nothing in progress and every served entity shut down (`config:stop`)."""
        if self.ready == "READY" or self.update_in_progress:
            return False
        if any("SUSPEND" in value.upper() or "STOPPED" in value.upper() for _, value in self.state_details):
            return True
        return bool(self.served_entities) and all(e.aborted for e in self.served_entities)

    @property
    def is_terminal(self) -> bool:
        """Not ready, and waiting will not change that: failed, or stopped, with nothing in progress."""
        if self.is_ready or self.update_in_progress:
            return False
        if self.config_update == "UPDATE_FAILED" or self.is_stopped:
            return True
        return self.ready != "READY" and bool(self.failed_entities)

    def summary(self) -> str:
        """One line: `READY, config update NOT_UPDATING, config version 3`."""
        text = f"{self.ready}, config update {self.config_update}"
        if self.config_version is not None:
            text += f", config version {self.config_version}"
        if self.pending_config is not None and self.pending_config.config_version is not None:
            text += f", pending config version {self.pending_config.config_version}"
        return text

    def not_ready_reason(self) -> str | None:
        """Why the schema cannot be trusted now, or None when the endpoint is READY and NOT_UPDATING."""
        if self.is_ready:
            return None
        if self.update_in_progress:
            return "a configuration update is in progress, so the schema could be stale"
        if self.config_update == "UPDATE_FAILED":
            return "the last configuration update failed"
        if self.is_stopped:
            return "it is stopped"
        if self.ready != "READY":
            return "it is not READY"
        return f"its configuration update state is {self.config_update}"

    def entity_lines(self) -> list[str]:
        lines = []
        for entity in self.served_entities:
            lines.append(_entity_line(entity, ""))
        if self.pending_config is not None:
            for entity in self.pending_config.served_entities:
                lines.append(_entity_line(entity, "pending "))
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "ready": self.ready,
            "config_update": self.config_update,
            "is_ready": self.is_ready,
            "config_version": self.config_version,
            "permission_level": self.permission_level,
            "creator": self.creator,
            "state_details": dict(self.state_details),
            "served_entities": [e.to_json() for e in self.served_entities],
            "traffic_routes": [r.to_json() for r in self.traffic_routes],
            "pending_config": self.pending_config.to_json() if self.pending_config else None,
        }


@dataclass(frozen=True, slots=True)
class PermissionEntry:
    """One principal's permission levels on an endpoint."""

    principal: str
    kind: str
    levels: tuple[str, ...]
    inherited: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "kind": self.kind,
            "levels": list(self.levels),
            "inherited": self.inherited,
        }


@dataclass(frozen=True, slots=True)
class Permissions:
    """An endpoint's access control list."""

    endpoint: str
    object_id: str | None
    entries: tuple[PermissionEntry, ...]

    @classmethod
    def from_api(cls, endpoint: str, data: Mapping[str, Any]) -> Permissions:
        entries = []
        acl = data.get("access_control_list")
        for item in acl if isinstance(acl, list) else []:
            if not isinstance(item, Mapping):
                continue
            key, kind = next(((k, label) for k, label in _PRINCIPAL_KINDS if item.get(k)), ("", "principal"))
            principal = str(item.get(key) or item.get("display_name") or "?")
            levels: list[str] = []
            inherited = False
            all_permissions = item.get("all_permissions")
            if isinstance(all_permissions, list):
                for permission in all_permissions:
                    if isinstance(permission, Mapping) and permission.get("permission_level"):
                        levels.append(str(permission["permission_level"]))
                        inherited = inherited or bool(permission.get("inherited"))
            elif item.get("permission_level"):
                levels.append(str(item["permission_level"]))
            entries.append(PermissionEntry(principal, kind, tuple(levels), inherited))
        return cls(endpoint, _opt_str(data.get("object_id")), tuple(entries))

    def levels_of(self, principal: str) -> tuple[str, ...]:
        return next((e.levels for e in self.entries if e.principal == principal), ())

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "object_id": self.object_id, "entries": [e.to_json() for e in self.entries]}


# ---------------------------------------------------------------------------------------------------------------
# The client


class Workspace(WorkspaceTransport):
    """A workspace's serving endpoints, with the caller's credentials.

    >>> ws = Workspace(profile="dev")                        # doctest: +SKIP
    >>> ws.wait_until_ready("ads", timeout=900).is_ready     # doctest: +SKIP
    True
    >>> document = ws.get_openapi("ads")                     # doctest: +SKIP

    Credentials come from the arguments, ``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN``, or a profile in
    ``~/.databrickscfg`` (see `schemakit.workspace.auth`). Every failure is a `WorkspaceError` subclass with one
    readable line; the token never appears in it.
    """

    def __init__(
        self,
        host: str | None = None,
        token: str | None = None,
        profile: str | None = None,
        config_file: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        retries: int | RetryPolicy = 4,
        *,
        auth_type: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0 seconds")
        credentials = resolve_credentials(host, token, profile, config_file, auth_type=auth_type, timeout=timeout)
        policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries=retries)
        super().__init__(credentials, policy, timeout=timeout, max_bytes=max_bytes, sleep=sleep)

    # -- plumbing -----------------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Workspace(host={self.host!r}, auth={self.auth_description!r})"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints ----------------------------------------------------------------------------------------------

    def list_endpoints(self) -> tuple[EndpointStatus, ...]:
        data = self._json("GET", "/api/2.0/serving-endpoints", Call("list serving endpoints", needs="CAN_VIEW"))
        items = data.get("endpoints") if isinstance(data, Mapping) else None
        return tuple(EndpointStatus.from_api(item) for item in items or [] if isinstance(item, Mapping))

    def get_endpoint(self, name: str) -> EndpointStatus:
        data = self._json("GET", _endpoint_path(name), Call("read", name, "CAN_VIEW"))
        return EndpointStatus.from_api(_expect_object(data, f"details of endpoint '{name}'"))

    def get_openapi(self, name: str) -> dict[str, Any]:
        """The endpoint's query schema document, exactly as the workspace serves it."""
        call = Call("read the query schema of", name, "CAN_VIEW")
        reply = self._send("GET", _endpoint_path(name) + "/openapi", call)
        if 400 <= reply.status < 500 and reply.status not in (401, 403, 429):
            code, message = self._server_error(reply)
            # No endpoint, not ready, or no signature: the details tell which (and raise if the endpoint is gone).
            status = self.get_endpoint(name)
            raise _schema_unavailable(status, code, message, reply.status, name=name)
        self._check(reply, call)
        try:
            document = parse_text(reply.body, f"endpoint:{name}", None)
        except SourceError as exc:
            raise WorkspaceError(
                f"the query schema of endpoint '{name}' is not a readable document: {exc.format_message()}"
            ) from None
        if not isinstance(document, dict):
            raise WorkspaceError(f"the query schema of endpoint '{name}' is not a JSON object")
        return document

    def fetch_schema(self, name: str) -> dict[str, Any]:
        """The query schema, only when the endpoint is READY and not updating (else EndpointNotReadyError)."""
        status = self.get_endpoint(name)
        if not status.is_ready:
            raise EndpointNotReadyError(self.explain_not_ready(status))
        return self.get_openapi(name)

    def wait_until_ready(
        self,
        name: str,
        timeout: float,
        poll: float = 2.0,
        *,
        max_poll: float = 30.0,
        on_poll: Callable[[EndpointStatus, float], None] | None = None,
    ) -> EndpointStatus:
        """Poll until READY and NOT_UPDATING; EndpointNotReadyError on timeout or a failure that will not heal.

        Polls start every `poll` seconds and back off by half each time up to `max_poll`; `on_poll` gets every
        status with the seconds waited so far.
        """
        start = time.monotonic()
        interval = max(poll, 0.05)
        while True:
            status = self.get_endpoint(name)
            waited = time.monotonic() - start
            if on_poll is not None:
                on_poll(status, waited)
            if status.is_ready:
                return status
            if status.is_terminal:
                raise EndpointNotReadyError(self.explain_not_ready(status, waited=waited))
            remaining = timeout - (time.monotonic() - start)
            if remaining <= 0:
                raise EndpointNotReadyError(self.explain_not_ready(status, waited=waited, timed_out=True))
            self._sleep(min(interval * random.uniform(0.9, 1.1), remaining))  # noqa: S311 - jitter
            interval = min(interval * 1.5, max(max_poll, poll))

    def explain_not_ready(
        self, status: EndpointStatus, *, waited: float | None = None, timed_out: bool = False, log_lines: int = 20
    ) -> str:
        """A summary line, then the served entities' states and the tail of the build logs of failed ones."""
        reason = status.not_ready_reason() or "it is ready"
        head = f"endpoint '{status.name}' is not ready: {reason} ({status.summary()})"
        if timed_out and waited is not None:
            head = f"endpoint '{status.name}' still not ready after {waited:.0f} s: {reason} ({status.summary()})"
        lines = [head, *status.entity_lines()]
        for entity in status.failed_entities:
            try:
                logs = self.build_logs(status.name, entity.name)
            except WorkspaceError as exc:
                lines.append(f"  (build logs of {entity.label()} unavailable: {exc.format_message()})")
                continue
            tail = [line for line in logs.splitlines() if line.strip()][-log_lines:]
            if tail:
                lines.append(f"  build logs of {entity.label()} (last {len(tail)} lines):")
                lines.extend(f"    {line}" for line in tail)
        if status.update_in_progress:
            lines.append(f"  wait for it: schemakit fetch {status.name} --wait 900")
        elif status.is_stopped:
            lines.append(f"  start it: schemakit endpoint start {status.name} --wait 900")
        elif status.config_update == "UPDATE_FAILED" or status.failed_entities:
            lines.append("  fix the served model and update the endpoint's configuration again")
        return "\n".join(lines)

    def stop(self, name: str) -> EndpointStatus | None:
        return self._lifecycle("POST", _endpoint_path(name) + "/config:stop", Call("stop", name, "CAN_MANAGE"))

    def start(self, name: str) -> EndpointStatus | None:
        return self._lifecycle("POST", _endpoint_path(name) + "/config:start", Call("start", name, "CAN_MANAGE"))

    def delete(self, name: str) -> None:
        self._json("DELETE", _endpoint_path(name), Call("delete", name, "CAN_MANAGE"))

    def logs(self, name: str, model: str, config_version: int | None = None) -> str:
        """The model server's logs of one served model (of a given configuration version)."""
        return self._logs(name, model, "logs", config_version)

    def build_logs(self, name: str, model: str, config_version: int | None = None) -> str:
        """The container build logs of one served model."""
        return self._logs(name, model, "build-logs", config_version)

    def get_permissions(self, name: str) -> Permissions:
        endpoint_id = self._endpoint_id(name)
        data = self._json(
            "GET",
            f"/api/2.0/permissions/serving-endpoints/{quote(endpoint_id, safe='')}",
            Call("read the permissions of", name, "CAN_VIEW"),
        )
        return Permissions.from_api(name, _expect_object(data, f"permissions of endpoint '{name}'"))

    def grant(self, name: str, user: str, level: str, *, kind: str = "user") -> Permissions:
        """Give `user` (or a group / service principal, by `kind`) `level` on the endpoint; returns the new ACL."""
        level = level.strip().upper()
        if level not in PERMISSION_LEVELS:
            raise ValueError(f"unknown permission level {level!r}: use one of {', '.join(PERMISSION_LEVELS)}")
        key = {"user": "user_name", "group": "group_name", "service_principal": "service_principal_name"}.get(kind)
        if key is None:
            raise ValueError(f"unknown principal kind {kind!r}: use user, group or service_principal")
        if not user.strip():
            raise ValueError("the principal name is empty")
        endpoint_id = self._endpoint_id(name)
        data = self._json(
            "PATCH",
            f"/api/2.0/permissions/serving-endpoints/{quote(endpoint_id, safe='')}",
            Call("change the permissions of", name, "CAN_MANAGE"),
            json_body={"access_control_list": [{key: user.strip(), "permission_level": level}]},
        )
        return Permissions.from_api(name, _expect_object(data, f"permissions of endpoint '{name}'"))

    # -- internals ----------------------------------------------------------------------------------------------

    def _endpoint_id(self, name: str) -> str:
        status = self.get_endpoint(name)
        if not status.id:
            raise WorkspaceError(f"the workspace gave no id for endpoint '{name}', so its permissions cannot be read")
        return status.id

    def _lifecycle(self, method: str, path: str, call: Call) -> EndpointStatus | None:
        data = self._json(method, path, call)
        if isinstance(data, Mapping) and "state" in data:
            return EndpointStatus.from_api(data)
        return None

    def _logs(self, name: str, model: str, kind: str, config_version: int | None) -> str:
        what = "build logs" if kind == "build-logs" else "logs"
        call = Call(f"read the {what} of '{model}' on", name, "CAN_VIEW")
        path = f"{_endpoint_path(name)}/served-models/{quote(model, safe='')}/{kind}"
        params = {"config_version": str(config_version)} if config_version is not None else None
        reply = self._send("GET", path, call, params=params)
        if reply.status == 404:
            status = self.get_endpoint(name)  # raises EndpointNotFoundError when the endpoint is the missing part
            _, message = self._server_error(reply)
            pending = status.pending_config.served_entities if status.pending_config else ()
            names = list(dict.fromkeys(e.name for e in (*status.served_entities, *pending)))
            if model not in names:
                near = difflib.get_close_matches(model, names, n=3, cutoff=0.5)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                raise WorkspaceError(
                    f"endpoint '{name}' has no served model '{model}' (served models: {', '.join(names) or 'none'})"
                    f"{hint}",
                    status=404,
                )
            version = f" for config version {config_version}" if config_version is not None else ""
            raise WorkspaceError(f"no {what} of '{model}' on endpoint '{name}'{version}: {message}", status=404)
        data = self._decode(self._checked(reply, call), call)
        if not isinstance(data, Mapping):
            raise WorkspaceError(f"the {what} of '{model}' on endpoint '{name}' are not a JSON object")
        logs = data.get("logs", "")
        return http.scrub(str(logs), self._secrets)

    def _near_names(self, name: str) -> str:
        try:
            names = [e.name for e in self.list_endpoints()]
        except SchemakitError:
            return ""  # listing is a courtesy; the caller may lack the permission for it
        near = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if near:
            return f"; did you mean {', '.join(repr(n) for n in near)}?"
        if names and len(names) <= 8:
            return f" (endpoints: {', '.join(sorted(names))})"
        return ""


# ---------------------------------------------------------------------------------------------------------------
# `endpoint:` sources


def parse_endpoint_source(source: str) -> tuple[str | None, str]:
    """`endpoint:NAME` -> (None, NAME); `endpoint:PROFILE/NAME` -> (PROFILE, NAME)."""
    spec = source.removeprefix("endpoint:")
    profile, sep, name = spec.rpartition("/")
    if not name.strip() or (sep and not profile.strip()):
        raise SourceError(f"{source}: expected endpoint:NAME or endpoint:PROFILE/NAME")
    return (profile.strip() or None), name.strip()


def read_endpoint_source(source: str, options: LoadOptions | None = None) -> dict[str, Any]:
    """The `endpoint:` entry of the core's source table (`schemakit.core.sources`)."""
    return document_from_endpoint_source(source, options)


def document_from_endpoint_source(source: str, options: LoadOptions | None = None) -> dict[str, Any]:
    """The live query schema behind `endpoint:NAME` / `endpoint:PROFILE/NAME` (READY and not updating).

    The workspace is the one `options` names (`workspace_host`, `workspace_profile`,
    `workspace_token`: the `--host`, `--profile`, `--token` flags), else the environment and
    `~/.databrickscfg`; a profile in the source itself wins over `workspace_profile`.
    """
    profile, name = parse_endpoint_source(source)
    opts = options or LoadOptions()
    with Workspace(
        host=opts.workspace_host,
        token=opts.workspace_token,
        profile=profile or opts.workspace_profile,
        timeout=opts.timeout,
    ) as workspace:
        return workspace.fetch_schema(name)


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def _endpoint_path(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise SourceError("the endpoint name is empty")
    if text in (".", "..") or any(ord(ch) < 0x20 or ch == "\x7f" for ch in text):
        # "." and ".." survive percent-encoding and are resolved away as path segments, so
        # `endpoint delete ..` would become DELETE /api/2.0; control characters are never in a name.
        raise SourceError(f"{text.encode('unicode_escape').decode()!r} is not an endpoint name")
    return f"/api/2.0/serving-endpoints/{quote(text, safe='')}"


def _schema_unavailable(
    status: EndpointStatus | None, code: str | None, message: str, http_status: int, *, name: str | None = None
) -> SchemaUnavailableError:
    endpoint = status.name if status is not None else name
    said = f" (the workspace says: {message})" if message else ""
    if status is not None and not status.is_ready:
        reason = status.not_ready_reason() or "it is not ready"
        text = f"endpoint '{endpoint}' serves no query schema now: {reason} ({status.summary()}){said}"
    else:
        text = (
            f"endpoint '{endpoint}' serves no query schema{said}: log the served model with a signature "
            "(mlflow.models.infer_signature) and update the endpoint"
        )
    return SchemaUnavailableError(text, status=http_status, error_code=code)


def _entity_line(entity: ServedEntity, prefix: str) -> str:
    state = entity.deployment or "UNKNOWN"
    message = f": {entity.message}" if entity.message else ""
    return f"  {prefix}served entity {entity.label()}: {state}{message}"


def _entities(config: Mapping[str, Any]) -> tuple[ServedEntity, ...]:
    items = config.get("served_entities")
    if not isinstance(items, list):
        items = config.get("served_models")
    return tuple(ServedEntity.from_api(item) for item in items or [] if isinstance(item, Mapping))


def _routes(config: Mapping[str, Any]) -> tuple[TrafficRoute, ...]:
    traffic = _mapping(config.get("traffic_config"))
    routes = traffic.get("routes")
    return tuple(TrafficRoute.from_api(r) for r in routes or [] if isinstance(r, Mapping))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _expect_object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise WorkspaceError(f"the {what} are not a JSON object")
    return data


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
