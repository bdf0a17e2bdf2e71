"""Create and update: `POST /api/2.0/serving-endpoints` and `PUT .../config`, as deploy pipelines call them
(AI Gateway, tags, metrics and route optimization are `schemakit.mock.gateway`'s).

Served entities come from a registry the user gives (`catalog.schema.model` and version -> a document); nothing
a request says makes the emulator read a file. A new endpoint is NOT_READY with its config update IN_PROGRESS
for `update_seconds`, then READY; a config update keeps the old config serving (READY, IN_PROGRESS, with a
`pending_config` one version up) until it is promoted, then `config_version` has moved on and the traffic
routes are the new ones.
"""

from __future__ import annotations

import collections
import copy
import re
import time
from collections.abc import Mapping
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
from schemakit.mock.gateway import DeployState, GatewayAPI, PendingConfig, json_list, json_object
from schemakit.mock.responses import answers_completions
from schemakit.mock.state import EndpointSettings
from schemakit.mock.wire import ApiError, Headers, Response, allow, json_response

__all__ = ["DEFAULT_UPDATE_SECONDS", "DeployAPI", "Registry"]

#: How long a config update takes; the platform takes minutes, tests want seconds.
DEFAULT_UPDATE_SECONDS = 2.0
#: Endpoint names as the platform allows them.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
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


class DeployAPI(GatewayAPI):
    """Create and update: configs resolved from the registry, promoted when their update time has passed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.update_seconds = DEFAULT_UPDATE_SECONDS
        self._registry: dict[tuple[str, str], EndpointSchema] = {}

    def set_registry(self, registry: Registry) -> None:
        """The model versions a create or update may name, by (entity name, version)."""
        with self._lock:
            self._registry = dict(registry)

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
        if len(rest) == 2 and rest[1] == "config":
            return self._update(method, path, rest[0], self._authenticate(headers), body)
        return super()._management(method, path, rest, query, headers, body)

    def _update(self, method: str, path: str, name: str, principal: Principal, body: bytes) -> Response:
        """`PUT .../config`: a pending config one version up, serving the old one until it is promoted."""
        with self._lock:
            endpoint = self._endpoint(name)
            self._require(endpoint, principal, "CAN_MANAGE")
            state = self._deploy_state(name)
            allow(method, path, "PUT")
            if state.pending is not None:
                raise ApiError(
                    409,
                    "RESOURCE_CONFLICT",
                    f"Endpoint {name} has a config update in progress; wait for it to finish before another.",
                )
            if endpoint.phase(time.monotonic()) == "updating":
                raise ApiError(409, "RESOURCE_CONFLICT", f"Endpoint {name} is still being created.")
            schema, traffic, entities = self._config(name, json_object(body), endpoint.config_version + 1)
            state.pending = PendingConfig(schema, traffic, entities, time.monotonic(), now_ms())
            endpoint.updated_ms = now_ms()
            self._advance(endpoint)
            level = self._level(endpoint, principal) or "CAN_MANAGE"
            return json_response(200, self._details(endpoint, level, time.monotonic()))

    # -- create --

    def _create(self, principal: Principal, body: bytes) -> Response:
        data = json_object(body)
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
                for tag in json_list(data, "tags")
                if isinstance(tag, dict) and isinstance(tag.get("key"), str) and tag["key"]
            }
            gateway = data.get("ai_gateway")
            limits = json_list(data, "rate_limits")
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
        endpoint.schema = pending.endpoint_schema
        endpoint.document = _document_bytes(pending.endpoint_schema)
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
        for model in pending.endpoint_schema.models
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


def _document_bytes(schema: EndpointSchema) -> bytes:
    return orjson.dumps(schema.source_document, option=orjson.OPT_INDENT_2) + b"\n"
