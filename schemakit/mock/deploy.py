"""Create and update: `POST /api/2.0/serving-endpoints`, `PUT .../config`, `PUT .../ai-gateway`, `PUT .../rate-limits`,
`PATCH .../tags` and `GET .../metrics`, as deploy pipelines call them.

Served entities come from a registry the user gives (`catalog.schema.model` and version -> a document); nothing
a request says makes the emulator read a file. A new endpoint is NOT_READY with its config update IN_PROGRESS
for `update_seconds`, then READY; a config update keeps the old config serving (READY, IN_PROGRESS, with a
`pending_config` one version up) until it is promoted, then `config_version` has moved on and the traffic
routes are the new ones.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from schemakit._exceptions import SchemakitError
from schemakit.core.model import EndpointSchema, FormatKind, RequestKind
from schemakit.core.resolve import resolve
from schemakit.mock.core import (
    ADMIN_USER,
    CREATOR,
    LOG_LINES_PER_MODEL,
    Endpoint,
    Principal,
    endpoint_id_of,
    now_ms,
)
from schemakit.mock.http import ApiError, Headers, Response, allow, json_response
from schemakit.mock.management import ManagementAPI
from schemakit.mock.queries import QueryAPI
from schemakit.mock.responses import answers_completions
from schemakit.mock.state import EndpointSettings

__all__ = ["DEFAULT_UPDATE_SECONDS", "DeployAPI", "Registry"]

#: How long a config update takes; the platform takes minutes, tests want seconds.
DEFAULT_UPDATE_SECONDS = 2.0
#: Endpoint names as the platform allows them.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
#: Catalog, schema and table-prefix names of an inference table: what may become part of a file name.
_TABLE_PART = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
#: Routes the deploy API adds under `/api/2.0/serving-endpoints/{name}/`.
_ROUTES = frozenset({"config", "ai-gateway", "rate-limits", "tags", "metrics"})
#: Routes of the serving-endpoints API the emulator knows but does not emulate: (method, parts after
#: `serving-endpoints`, first part or "", last part or "") -> what they are. They answer 501 at once, which
#: every client classifies (databricks-sdk: NotImplemented) and none retries.
_UNEMULATED: Mapping[tuple[str, int, str, str], str] = {
    ("POST", 1, "pt", "pt"): "provisioned-throughput endpoints",
    ("PUT", 3, "pt", "config"): "provisioned-throughput endpoints",
    ("PATCH", 2, "", "notifications"): "email notifications",
    ("PATCH", 2, "", "telemetry-config"): "telemetry configuration",
}
#: Entity fields echoed back as given (the rest the emulator fills in).
_ENTITY_ECHO = (
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "environment_vars",
    "external_model",
    "instance_profile_arn",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
)

#: (entity name, version) -> the resolved document of that model version.
Registry = Mapping[tuple[str, str], EndpointSchema]


@dataclass(slots=True)
class PendingConfig:
    schema: EndpointSchema
    traffic: dict[str, int]
    entities: dict[str, dict[str, Any]]
    started: float
    started_ms: int


@dataclass(slots=True)
class DeployState:
    """What create and update add to an endpoint: its pending config, gateway, tags and entity inputs."""

    pending: PendingConfig | None = None
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    ai_gateway: dict[str, Any] | None = None
    route_optimized: bool = False


class DeployAPI(ManagementAPI, QueryAPI):
    """Create, update, gateway, tags and metrics over the management API."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_seconds = DEFAULT_UPDATE_SECONDS
        self._registry: dict[tuple[str, str], EndpointSchema] = {}
        self._deploy: dict[str, DeployState] = {}
        self._inference_dir: Path | None = None
        self._data_plane_url: str | None = None
        #: (endpoint, served model, status class) -> requests answered, for `/metrics`.
        self._served: collections.Counter[tuple[str, str, str]] = collections.Counter()
        #: (endpoint, limit index, key value) -> times of the calls in the current window.
        self._calls: dict[tuple[str, int, str], collections.deque[float]] = {}

    def set_inference_dir(self, folder: str | Path | None) -> None:
        """Where AI Gateway inference tables are written (JSON Lines); None: kept in the config, not written."""
        with self._lock:
            self._inference_dir = Path(folder) if folder is not None else None

    def set_route_optimized(self, name: str, optimized: bool = True) -> None:
        """Mark an endpoint route-optimized: queried on the data-plane host only, with OAuth tokens only."""
        with self._lock:
            self._get(name)
            self._deploy_state(name).route_optimized = optimized

    def set_data_plane_url(self, url: str | None) -> None:
        """The base URL of the listener that stands for the data-plane host of route-optimized endpoints."""
        with self._lock:
            self._data_plane_url = url

    def _endpoint_url(self, name: str) -> str:
        return f"{self._data_plane_url or 'http://data-plane.invalid'}/serving-endpoints/{name}/invocations"

    def set_registry(self, registry: Registry) -> None:
        """The model versions a create or update may name, by (entity name, version)."""
        with self._lock:
            self._registry = dict(registry)

    def _deploy_state(self, name: str) -> DeployState:
        return self._deploy.setdefault(name, DeployState())

    # -- routing --

    def _management(
        self,
        method: str,
        path: str,
        rest: list[str],
        query: Mapping[str, list[str]],
        headers: Headers,
        body: bytes,
    ) -> Response:
        first, last = (rest[0], rest[-1]) if rest else ("", "")
        unemulated = _UNEMULATED.get((method, len(rest), first, last)) or _UNEMULATED.get((method, len(rest), "", last))
        if unemulated is not None:
            self._authenticate(headers)
            raise ApiError(
                501,
                "NOT_IMPLEMENTED",
                f"The emulator does not emulate {unemulated} ({method} {path[:200]}); docs/mock.md lists what it does.",
            )
        if not rest and method == "POST":
            return self._create(self._authenticate(headers), body)
        if not rest and method != "GET":
            allow(method, path, "GET", "POST")
        if len(rest) == 2 and rest[1] in _ROUTES:
            principal = self._authenticate(headers)
            return self._deploy_route(method, path, rest[0], rest[1], principal, body)
        return super()._management(method, path, rest, query, headers, body)

    def _deploy_route(
        self, method: str, path: str, name: str, route: str, principal: Principal, body: bytes
    ) -> Response:
        with self._lock:
            endpoint = self._endpoint(name)
            if route == "metrics":
                allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                counts = {(m, c): n for (e, m, c), n in self._served.items() if e == name}
                return Response(200, _metrics(endpoint, counts).encode(), content_type="text/plain; version=0.0.4")
            self._require(endpoint, principal, "CAN_MANAGE")
            state = self._deploy_state(name)
            if route == "tags":
                allow(method, path, "PATCH")
                data = _json_object(body)
                for tag in _list(data, "add_tags"):
                    if not isinstance(tag, dict) or not isinstance(tag.get("key"), str) or not tag["key"]:
                        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Each of add_tags needs a non-empty 'key'.")
                    state.tags[tag["key"]] = str(tag.get("value", ""))
                for key in _list(data, "delete_tags"):
                    state.tags.pop(str(key), None)
                return json_response(200, {"tags": _tags(state)})
            if route == "rate-limits":
                allow(method, path, "PUT")
                limits = _list(_json_object(body), "rate_limits")
                state.ai_gateway = {**(state.ai_gateway or {}), "rate_limits": limits}
                return json_response(200, {"rate_limits": limits})
            if route == "ai-gateway":
                allow(method, path, "PUT")
                data = _json_object(body)
                known = (
                    "usage_tracking_config",
                    "rate_limits",
                    "guardrails",
                    "inference_table_config",
                    "fallback_config",
                )
                state.ai_gateway = {k: data[k] for k in known if k in data}
                endpoint.updated_ms = now_ms()
                return json_response(200, state.ai_gateway)
            allow(method, path, "PUT")
            if state.pending is not None:
                raise ApiError(
                    409,
                    "RESOURCE_CONFLICT",
                    f"Endpoint {name} has a config update in progress; wait for it to finish before another.",
                )
            if endpoint.phase(time.monotonic()) == "updating":
                raise ApiError(409, "RESOURCE_CONFLICT", f"Endpoint {name} is still being created.")
            schema, traffic, entities = self._config(name, _json_object(body), endpoint.config_version + 1)
            state.pending = PendingConfig(schema, traffic, entities, time.monotonic(), now_ms())
            endpoint.updated_ms = now_ms()
            self._advance(endpoint)
            level = self._level(endpoint, principal) or "CAN_MANAGE"
            return json_response(200, self._details(endpoint, level, time.monotonic()))

    # -- create --

    def _create(self, principal: Principal, body: bytes) -> Response:
        data = _json_object(body)
        name = data.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                "'name' must be 1-63 letters, digits, '-' or '_', starting with a letter or digit.",
            )
        config = data.get("config")
        if not isinstance(config, dict):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "'config' with served_entities is required.")
        with self._lock:
            existing = self._endpoints.get(name)
            if existing is not None and not existing.deleted:
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Endpoint with name '{name}' already exists.")
            schema, traffic, entities = self._config(name, config, 1)
            # Everything the body says is checked before the endpoint exists: a refused create leaves nothing.
            tags = {
                tag["key"]: str(tag.get("value", ""))
                for tag in _list(data, "tags")
                if isinstance(tag, dict) and isinstance(tag.get("key"), str) and tag["key"]
            }
            gateway = data.get("ai_gateway")
            limits = _list(data, "rate_limits")
            settings = self._create_settings().replace(traffic=traffic)
            created = now_ms()
            endpoint = Endpoint(
                schema=schema,
                document=_document_bytes(schema),
                settings=settings,
                id=endpoint_id_of(name),
                created_ms=created,
                updated_ms=created,
                config_version=1,
                deploy_started=time.monotonic(),
                deploy_started_ms=created,
            )
            endpoint.acl[("user_name", ADMIN_USER)] = "CAN_MANAGE"
            if not principal.admin:
                kind = "service_principal_name" if principal.service_principal else "user_name"
                endpoint.acl[(kind, principal.name)] = "CAN_MANAGE"
            _reset_logs(endpoint)
            self._endpoints[name] = endpoint
            self._by_id[endpoint.id] = name
            state = DeployState(entities=entities, route_optimized=data.get("route_optimized") is True, tags=tags)
            self._deploy[name] = state
            if isinstance(gateway, dict):
                state.ai_gateway = dict(gateway)
            elif limits:
                state.ai_gateway = {"rate_limits": limits}
            return json_response(200, self._details(endpoint, "CAN_MANAGE", time.monotonic()))

    def _create_settings(self) -> EndpointSettings:
        base = self.default_settings
        return base.replace(ready_after_polls=0, ready_after_seconds=self.update_seconds or None)

    def _config(
        self, name: str, config: Mapping[str, Any], version: int
    ) -> tuple[EndpointSchema, dict[str, int], dict[str, dict[str, Any]]]:
        """The endpoint schema a config describes: one served model per entity, from the registry."""
        entities = config.get("served_entities") or config.get("served_models")
        if not isinstance(entities, list) or not entities:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The config needs at least one of served_entities.")
        paths: dict[str, Any] = {}
        inputs: dict[str, dict[str, Any]] = {}
        for index, entity in enumerate(entities):
            if not isinstance(entity, dict):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"served_entities[{index}] must be an object.")
            entity_name = entity.get("entity_name") or entity.get("model_name")
            entity_version = entity.get("entity_version") or entity.get("model_version")
            if not isinstance(entity_name, str) or not entity_name:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"served_entities[{index}].entity_name is required.")
            version_text = str(entity_version) if isinstance(entity_version, (str, int)) else ""
            source = self._registry.get((entity_name, version_text))
            if source is None:
                raise ApiError(
                    404,
                    "RESOURCE_DOES_NOT_EXIST",
                    f"Model version {entity_name[:200]} version {version_text[:40] or '(none)'} does not exist in"
                    " the emulator's registry (give it with --registry NAME/VERSION=DOCUMENT).",
                )
            served = entity.get("name")
            if served is None:
                served = f"{entity_name.rsplit('.', 1)[-1]}-{version_text}"
            if not isinstance(served, str) or not _NAME.match(served.replace(".", "_")):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"served_entities[{index}].name is not a valid name.")
            if served in inputs:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Two served entities are named '{served}'.")
            model = source.models[0]
            paths[f"/served-models/{served}/invocations"] = copy.deepcopy(dict(source.document["paths"][model.path]))
            inputs[served] = {
                "entity_name": entity_name,
                "entity_version": version_text,
                **{k: entity[k] for k in _ENTITY_ECHO if k in entity},
            }
        document = {
            "openapi": "3.1.0",
            "info": {"title": name, "version": str(version)},
            "servers": [{"url": f"https://workspace.invalid/serving-endpoints/{name}"}],
            "paths": paths,
        }
        try:
            schema = resolve(document, source=f"serving-endpoints/{name}")
        except SchemakitError as exc:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"The served entities cannot be combined: {exc}") from None
        traffic = _traffic(config, list(inputs))
        return schema, traffic, inputs

    # -- AI Gateway: rate limits and the inference table --

    def _query(
        self,
        method: str,
        path: str,
        name: str,
        model_name: str | None,
        headers: Headers,
        body: bytes,
        *,
        include_usage: bool | None = None,
        data_plane: bool = False,
    ) -> Response:
        if method != "POST":
            return super()._query(method, path, name, model_name, headers, body, include_usage=include_usage)
        principal = self._authenticate(headers, data_plane=data_plane)
        with self._lock:
            state = self._deploy.get(name)
            optimized = state is not None and state.route_optimized
            if optimized and not data_plane:
                raise ApiError(
                    400,
                    "BAD_REQUEST",
                    f"Endpoint {name} is route-optimized: query it at its endpoint_url"
                    f" ({self._endpoint_url(name)}) with an OAuth token.",
                )
            if data_plane and not optimized:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"No route-optimized endpoint named '{name}'.")
            if data_plane:
                # A data-plane token is for the endpoint its authorization_details name, no other.
                token = headers.get("authorization", "").partition(" ")[2].strip()
                issued = self.oauth.lookup(token)
                target = f'"/serving-endpoints/{self._endpoint(name).id}"'
                if issued is None or target not in (issued.data_plane or ""):
                    raise ApiError(403, "PERMISSION_DENIED", f"This data-plane token is not for endpoint {name}.")
            gateway = dict(state.ai_gateway or {}) if state is not None else {}
            if gateway:
                self._rate_limit(name, principal, gateway)
        started = time.time()
        try:
            response = super()._query(
                method,
                path,
                name,
                model_name,
                headers,
                body,
                include_usage=include_usage,
                data_plane=data_plane,
            )
        except ApiError as exc:
            served = dict(exc.headers).get("served-model-name", "")
            with self._lock:
                self._served[(name, served, f"{exc.status // 100}xx")] += 1
            self._log_inference(name, gateway, principal, body, exc.status, exc.message.encode(), served, started)
            raise
        served = dict(response.headers).get("served-model-name", "")
        with self._lock:
            self._served[(name, served, "2xx")] += 1
        self._log_inference(name, gateway, principal, body, response.status, response.body, served, started)
        return response

    def _rate_limit(self, name: str, principal: Principal, gateway: Mapping[str, Any]) -> None:
        """Enforce `ai_gateway.rate_limits` (per user or per endpoint, calls per minute): 429 beyond them."""
        limits = gateway.get("rate_limits")
        now = time.monotonic()
        for index, limit in enumerate(limits if isinstance(limits, list) else []):
            calls = limit.get("calls") if isinstance(limit, dict) else None
            if not isinstance(calls, int) or isinstance(calls, bool) or calls < 0:
                continue
            per_user = limit.get("key") in ("user", "user_group", "service_principal")
            window = {"minute": 60.0, "hour": 3600.0}.get(str(limit.get("renewal_period", "minute")), 60.0)
            key = (name, index, principal.name if per_user else "")
            times = self._calls.setdefault(key, collections.deque(maxlen=max(calls, 1)))
            while times and now - times[0] >= window:
                times.popleft()
            if len(times) >= calls:
                retry = max(1, int(window - (now - times[0]))) if times else int(window)
                who = f"user {principal.name}" if per_user else f"endpoint {name}"
                raise ApiError(
                    429,
                    "REQUEST_LIMIT_EXCEEDED",
                    f"Exceeded the AI Gateway rate limit of {calls} call(s) per {limit.get('renewal_period', 'minute')}"
                    f" for {who}.",
                    [("Retry-After", str(retry))],
                )
            times.append(now)

    def _log_inference(
        self,
        name: str,
        gateway: Mapping[str, Any],
        principal: Principal,
        body: bytes,
        status: int,
        answer: bytes,
        served: str,
        started: float,
    ) -> None:
        """One row of the AI Gateway inference table, as the platform writes it, when the user named a folder."""
        config = gateway.get("inference_table_config")
        folder = self._inference_dir
        if folder is None or not isinstance(config, dict) or config.get("enabled") is not True:
            return
        parts = [str(config.get(k) or "") for k in ("catalog_name", "schema_name", "table_name_prefix")]
        if not all(_TABLE_PART.match(p) for p in parts):
            return  # names that are no table name never become a path
        finished = time.time()
        row: dict[str, Any] = {
            "request_date": time.strftime("%Y-%m-%d", time.gmtime(started)),
            "databricks_request_id": hashlib.blake2b(f"{started}{body[:64]!r}".encode(), digest_size=16).hexdigest(),
            "client_request_id": None,
            "request_time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started))
            + f".{int(started * 1000) % 1000:03d}Z",
            "status_code": status,
            "sampling_fraction": 1.0,
            "execution_duration_ms": int((finished - started) * 1000),
            "request": body.decode("utf-8", "replace"),
            "response": answer[:1_000_000].decode("utf-8", "replace"),
            "served_entity_id": served or None,
            "logging_error_codes": [],
            "requester": principal.name,
        }
        target = folder / f"{parts[0]}.{parts[1]}.{parts[2]}_payload.jsonl"
        line = orjson.dumps(row) + b"\n"
        with self._lock:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with target.open("ab") as handle:
                    handle.write(line)
            except OSError:
                return  # a full disk must not fail the query; the platform drops rows too (logging_error_codes)

    # -- lifecycle --

    def _endpoint(self, name: str) -> Endpoint:
        endpoint = super()._endpoint(name)
        self._advance(endpoint)
        return endpoint

    def _advance(self, endpoint: Endpoint) -> None:
        """Promote a pending config whose update time has passed (called under the lock)."""
        state = self._deploy.get(endpoint.name)
        pending = state.pending if state is not None else None
        if pending is None or time.monotonic() - pending.started < self.update_seconds:
            return
        assert state is not None
        endpoint.schema = pending.schema
        endpoint.document = _document_bytes(pending.schema)
        endpoint.settings = endpoint.settings.replace(traffic=pending.traffic)
        endpoint.config_version += 1
        endpoint.validators.clear()
        endpoint.deploy_started_ms = pending.started_ms
        endpoint.updated_ms = now_ms()
        _reset_logs(endpoint)
        state.entities = pending.entities
        state.pending = None

    def _details(self, endpoint: Endpoint, level: str, now: float) -> dict[str, Any]:
        details = super()._details(endpoint, level, now)
        first = endpoint.schema.models[0]
        fmt = first.format(FormatKind.OBJECT)
        if fmt is not None and fmt.request is RequestKind.CHAT_AGENT and answers_completions(first):
            details["task"] = "agent/v1/chat"  # a ChatModel: a ChatAgent's request, a chat completion's answer
        state = self._deploy.get(endpoint.name)
        config = details.get("config") or details.get("pending_config")
        if config is not None:
            _with_foundation_entities(endpoint.schema, config)
        if state is None:
            return details
        if config is not None:
            _with_entity_inputs(config, state.entities)
        if state.pending is not None:
            pending = _pending_json(endpoint, state.pending)
            details["pending_config"] = pending
            details["state"] = {**details["state"], "config_update": "IN_PROGRESS"}
        if state.tags:
            details["tags"] = _tags(state)
        if state.ai_gateway is not None:
            details["ai_gateway"] = state.ai_gateway
        details["route_optimized"] = state.route_optimized
        if state.route_optimized:
            url = self._endpoint_url(endpoint.name)
            details["endpoint_url"] = url
            authorization = [
                {
                    "type": "workspace_permission",
                    "object_type": "serving-endpoints",
                    "object_path": f"/serving-endpoints/{endpoint.id}",
                    "actions": ["query_inference_endpoint"],
                }
            ]
            details["data_plane_info"] = {
                "query_info": {
                    "endpoint_url": url,
                    "authorization_details": orjson.dumps(authorization).decode(),
                }
            }
        return details


def _pending_json(endpoint: Endpoint, pending: PendingConfig) -> dict[str, Any]:
    entities = [
        {
            "name": model.name,
            **pending.entities.get(model.name, {}),
            "state": {"deployment": "DEPLOYMENT_CREATING", "deployment_state_message": "Creating the new config."},
            "creator": CREATOR,
            "creation_timestamp": pending.started_ms,
        }
        for model in pending.schema.models
    ]
    routes = [
        {"served_model_name": name, "served_entity_name": name, "traffic_percentage": pct}
        for name, pct in pending.traffic.items()
    ]
    return {
        "served_entities": entities,
        "traffic_config": {"routes": routes},
        "config_version": endpoint.config_version + 1,
        "start_time": pending.started_ms,
    }


def _with_entity_inputs(config: dict[str, Any], inputs: Mapping[str, Mapping[str, Any]]) -> None:
    for entity in config.get("served_entities", []):
        given = inputs.get(entity.get("name"))
        if given:
            entity.update(given)
    for model in config.get("served_models", []):
        given = inputs.get(model.get("name"))
        if given:
            model["model_name"] = given["entity_name"]
            model["model_version"] = given["entity_version"]


def _with_foundation_entities(schema: EndpointSchema, config: dict[str, Any]) -> None:
    """LLM documents' entities are foundation models with their task, as the platform reports them."""
    for entity, model in zip(config.get("served_entities", []), schema.models, strict=False):
        fmt = model.format(FormatKind.OBJECT)
        task = fmt.request.task if fmt is not None and fmt.request is not None else None
        if task is None or "external_model" in entity or task.startswith("agent/"):
            continue
        entity["foundation_model"] = {
            "name": entity.get("entity_name", model.name),
            "display_name": entity.get("entity_name", model.name),
            "description": f"A {task} model (emulated).",
        }


def _reset_logs(endpoint: Endpoint) -> None:
    for model in endpoint.schema.models:
        endpoint.logs.setdefault(model.name, collections.deque(maxlen=LOG_LINES_PER_MODEL))


def _traffic(config: Mapping[str, Any], names: list[str]) -> dict[str, int]:
    routes = (
        (config.get("traffic_config") or {}).get("routes") if isinstance(config.get("traffic_config"), dict) else None
    )
    if not routes:
        share, extra = divmod(100, len(names))
        return {name: share + (1 if i < extra else 0) for i, name in enumerate(names)}
    traffic: dict[str, int] = {}
    for route in routes if isinstance(routes, list) else []:
        target = route.get("served_entity_name") or route.get("served_model_name") if isinstance(route, dict) else None
        pct = route.get("traffic_percentage") if isinstance(route, dict) else None
        if target not in names or not isinstance(pct, int) or isinstance(pct, bool) or not 0 <= pct <= 100:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                "Each traffic route needs served_entity_name (one of the served entities) and a traffic_percentage"
                f" from 0 to 100; served entities: {', '.join(names)}.",
            )
        traffic[str(target)] = pct
    if sum(traffic.values()) != 100:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "The traffic percentages must sum to 100.")
    return {name: traffic.get(name, 0) for name in names}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "MALFORMED_REQUEST", f"Invalid JSON given in the body of the request: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
    return data


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"'{key}' must be a list.")
    return value


def _tags(state: DeployState) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in state.tags.items()]


def _document_bytes(schema: EndpointSchema) -> bytes:
    return orjson.dumps(schema.source_document, option=orjson.OPT_INDENT_2) + b"\n"


def _label(value: str) -> str:
    # Prometheus label values: backslash, double quote and newline escaped.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _metrics(endpoint: Endpoint, counts: Mapping[tuple[str, str], int]) -> str:
    """Prometheus text as `GET .../metrics` answers it: request counts by served entity and status class."""
    lines = [
        "# HELP request_count_total Requests the endpoint answered.",
        "# TYPE request_count_total counter",
    ]
    for name, _ in endpoint.traffic():
        total = sum(n for (model, _), n in counts.items() if model == name)
        lines.append(f'request_count_total{{served_entity_name="{_label(name)}"}} {total}')
    for kind in ("4xx", "5xx"):
        lines += [
            f"# HELP request_{kind}_count_total Requests answered with a {kind} status.",
            f"# TYPE request_{kind}_count_total counter",
        ]
        for name, _ in endpoint.traffic():
            lines.append(
                f'request_{kind}_count_total{{served_entity_name="{_label(name)}"}} {counts.get((name, kind), 0)}'
            )
    lines += ["# HELP cpu_usage_percentage CPU use of the model servers.", "# TYPE cpu_usage_percentage gauge"]
    for name, _ in endpoint.traffic():
        lines.append(f'cpu_usage_percentage{{served_entity_name="{_label(name)}"}} 1.0')
    lines += ["# HELP mem_usage_percentage Memory use of the model servers.", "# TYPE mem_usage_percentage gauge"]
    for name, _ in endpoint.traffic():
        lines.append(f'mem_usage_percentage{{served_entity_name="{_label(name)}"}} 10.0')
    return "\n".join(lines) + "\n"
