"""The management API of the emulator: list, details, the query schema, logs, stop/start/delete, permissions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from schemakit._exceptions import SourceError
from schemakit.core.model import FormatKind, ServedModel
from schemakit.mock.core import (
    CREATOR,
    LEVEL_DESCRIPTION,
    Endpoint,
    Principal,
    WorkspaceCore,
    entity_of,
    log_time,
    now_ms,
)
from schemakit.mock.state import (
    PERMISSION_LEVELS,
    parse_acl,
)
from schemakit.mock.wire import ApiError, Headers, Response, allow, json_response, not_found_api


class ManagementAPI(WorkspaceCore):
    """The `/api/2.0/serving-endpoints` and `/api/2.0/permissions/serving-endpoints` areas."""

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
            allow(method, path, "GET")
            return self._list(principal)
        name = rest[0]
        if (len(rest) == 2 and rest[1] in ("config:stop", "config:start")) or ":" in name:
            # `/{name}/config:stop`; a name with a colon is never an endpoint.
            action = rest[1] if len(rest) == 2 else ""
            if action not in ("config:stop", "config:start"):
                raise not_found_api(method, path)
            allow(method, path, "POST")
            return self._stop_start(name, action == "config:stop", principal)
        with self._lock:
            endpoint = self._endpoint(name)
            if len(rest) == 1:
                allow(method, path, "GET", "DELETE")
                if method == "DELETE":
                    self._require(endpoint, principal, "CAN_MANAGE")
                    endpoint.deleted = True
                    endpoint.updated_ms = now_ms()
                    self._persist()
                    return json_response(200, {})
                level = self._require(endpoint, principal, "CAN_VIEW")
                details = self._details(endpoint, level, time.monotonic())
                endpoint.polls += 1
                return json_response(200, details)
            if rest[1:] == ["openapi"]:
                allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                return self._openapi(endpoint)
            if len(rest) == 4 and rest[1] in ("served-models", "served-entities") and rest[3] in ("logs", "build-logs"):
                allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                return self._logs(endpoint, rest[2], rest[3] == "build-logs", query)
        raise not_found_api(method, path)

    def _list(self, principal: Principal) -> Response:
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
            return json_response(200, {"endpoints": out})

    def _details(self, endpoint: Endpoint, level: str, now: float) -> dict[str, Any]:
        # A method, so the deployment and gateway areas can add their fields.
        return _endpoint_details(endpoint, level, now)

    def _openapi(self, endpoint: Endpoint) -> Response:
        phase = endpoint.phase(time.monotonic())
        if endpoint.settings.no_schema:
            model = endpoint.schema.models[0].name
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Unable to generate an OpenAPI schema for endpoint '{endpoint.name}': served entity '{model}'"
                " has no model signature. Log the model with a signature (mlflow.models.infer_signature) to get"
                " a query schema.",
            )
        if phase != "ready":
            raise ApiError(
                400,
                "INVALID_STATE",
                f"The OpenAPI schema of endpoint '{endpoint.name}' is only available when the endpoint is READY;"
                f" it is {_phase_words(phase)}.",
            )
        return Response(200, endpoint.document)

    def _logs(self, endpoint: Endpoint, model_name: str, build: bool, query: Mapping[str, list[str]]) -> Response:
        model = endpoint.model(model_name)
        if model is None:
            raise ApiError(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"Served model '{model_name}' does not exist in endpoint '{endpoint.name}'."
                f" Served models: {', '.join(m.name for m in endpoint.schema.models)}.",
            )
        version = endpoint.config_version
        raw = query.get("config_version")
        if raw:
            text = raw[-1].strip()
            # ASCII digits, few enough for int(): "²" is a digit to str.isdigit, and 5,000 digits exceed int()'s limit.
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise ApiError(
                    400, "INVALID_PARAMETER_VALUE", f"config_version must be a positive integer, got '{text[:40]}'."
                )
            version = int(text)
            if not 1 <= version <= endpoint.config_version:
                raise ApiError(
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
            lines.append(f"{log_time(endpoint.updated_ms)} [INFO] Model server stopped (config:stop).")
        return json_response(200, {"logs": "\n".join(lines) + "\n"})

    def _stop_start(self, name: str, stop: bool, principal: Principal) -> Response:
        with self._lock:
            endpoint = self._endpoint(name)
            self._require(endpoint, principal, "CAN_MANAGE")
            now = time.monotonic()
            phase = endpoint.phase(now)
            if stop:
                if any(m.format(FormatKind.OBJECT) is not None for m in endpoint.schema.models):
                    raise ApiError(
                        400,
                        "INVALID_PARAMETER_VALUE",
                        f"Endpoint '{name}' cannot be stopped: only endpoints that serve custom models can be stopped.",
                    )
                if phase == "updating":
                    raise ApiError(
                        409,
                        "RESOURCE_CONFLICT",
                        f"Endpoint '{name}' cannot be stopped while a configuration update is in progress."
                        " Wait until the update finishes, then retry.",
                    )
                if phase == "stopped":
                    raise ApiError(400, "INVALID_STATE", f"Endpoint '{name}' is already stopped.")
                endpoint.stopped = True
            else:
                if phase != "stopped":
                    raise ApiError(400, "INVALID_STATE", f"Endpoint '{name}' is not stopped, so it cannot be started.")
                endpoint.stopped = False
                self._restart_deployment(endpoint)
            endpoint.updated_ms = now_ms()
            self._persist()
            level = self._level(endpoint, principal) or "CAN_MANAGE"
            return json_response(200, self._details(endpoint, level, now))

    # -- permissions API --

    def _permissions(self, method: str, path: str, rest: list[str], headers: Headers, body: bytes) -> Response:
        principal = self._authenticate(headers)
        if len(rest) not in (1, 2) or (len(rest) == 2 and rest[1] != "permissionLevels"):
            raise not_found_api(method, path)
        with self._lock:
            name = self._by_id.get(rest[0])
            endpoint = self._endpoints.get(name) if name is not None else None
            if endpoint is None or endpoint.deleted:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Serving endpoint with id '{rest[0]}' does not exist.")
            if len(rest) == 2:
                allow(method, path, "GET")
                self._require(endpoint, principal, "CAN_VIEW")
                return json_response(
                    200,
                    {
                        "permission_levels": [
                            {"permission_level": lvl, "description": LEVEL_DESCRIPTION[lvl]}
                            for lvl in reversed(PERMISSION_LEVELS)
                        ]
                    },
                )
            allow(method, path, "GET", "PATCH", "PUT")
            if method == "GET":
                self._require(endpoint, principal, "CAN_VIEW")
                return json_response(200, _acl_json(endpoint))
            self._require(endpoint, principal, "CAN_MANAGE")
            entries = self._parse_acl_body(body)
            if method == "PUT":
                endpoint.acl = {}
            for kind, who, level in entries:
                endpoint.acl[(kind, who)] = level
            self._persist()
            return json_response(200, _acl_json(endpoint))

    def _parse_acl_body(self, body: bytes) -> list[tuple[str, str, str]]:
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, "MALFORMED_REQUEST", f"Invalid JSON given in the body of the request: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
        try:
            entries = parse_acl(data.get("access_control_list", []), "access_control_list")
        except SourceError as exc:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", exc.message) from None
        for kind, who, _ in entries:
            known = self._principal_kind(who)
            if known != kind:
                label = {"user_name": "UserName", "group_name": "GroupName"}.get(kind, "ServicePrincipalName")
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Principal: {label}({who}) does not exist")
        return entries


def _phase_words(phase: str) -> str:
    return {"updating": "NOT_READY (update in progress)", "failed": "NOT_READY (update failed)", "stopped": "stopped"}[
        phase
    ]


def _server_log_lines(endpoint: Endpoint, model: ServedModel, version: int, phase: str) -> list[str]:
    start = endpoint.deploy_started_ms if version == endpoint.config_version else endpoint.created_ms
    t = log_time(start)
    entity, entity_version = entity_of(model.name)
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


def _build_log_lines(endpoint: Endpoint, model: ServedModel, version: int, phase: str) -> list[str]:
    t = log_time(endpoint.deploy_started_ms if version == endpoint.config_version else endpoint.created_ms)
    entity, entity_version = entity_of(model.name)
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


def _endpoint_details(endpoint: Endpoint, level: str, now: float) -> dict[str, Any]:
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
        entity_name, entity_version = entity_of(model.name)
        entities.append(
            {
                "name": model.name,
                "entity_name": entity_name,
                "entity_version": entity_version,
                "workload_size": "Small",
                "workload_type": "CPU",
                "scale_to_zero_enabled": False,
                "state": {"deployment": deployment, "deployment_state_message": message},
                "creator": CREATOR,
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
        "creator": CREATOR,
        "creation_timestamp": endpoint.created_ms,
        "last_updated_timestamp": endpoint.updated_ms,
        "state": state,
    }
    if phase == "updating" or phase == "failed":
        # A first deployment that has not finished (or failed) has no active config, only the pending one.
        details["pending_config"] = {**config, "start_time": endpoint.deploy_started_ms}
    else:
        details["config"] = config
    request = endpoint.schema.models[0].format(FormatKind.OBJECT)
    task = request.request.task if request is not None and request.request is not None else None
    if task is not None:
        details["task"] = task
    details["id"] = endpoint.id
    details["permission_level"] = level
    details["route_optimized"] = False
    return details


def _acl_json(endpoint: Endpoint) -> dict[str, Any]:
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
