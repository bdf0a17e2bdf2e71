"""What a deployed endpoint carries beside its config: AI Gateway (rate limits, the inference table), tags,
metrics and route optimization, with `PUT .../ai-gateway`, `PUT .../rate-limits`, `PATCH .../tags` and
`GET .../metrics`.

Rate limits and the inference table apply to every query; an inference table is written only under the
folder the user named, with file names made of checked table-name parts, never a path a request says.
"""

from __future__ import annotations

import collections
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from schemakit.core.model import EndpointSchema
from schemakit.mock.core import Endpoint, Principal, now_ms
from schemakit.mock.management import ManagementAPI
from schemakit.mock.queries import QueryAPI
from schemakit.mock.wire import ApiError, Headers, Response, allow, json_response

__all__ = ["DeployState", "GatewayAPI", "PendingConfig", "json_list", "json_object"]

#: Catalog, schema and table-prefix names of an inference table: what may become part of a file name.
_TABLE_PART = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
#: Routes the gateway adds under `/api/2.0/serving-endpoints/{name}/`.
_GATEWAY_ROUTES = frozenset({"ai-gateway", "rate-limits", "tags", "metrics"})
#: What `PUT .../ai-gateway` keeps of its body.
_GATEWAY_KEYS = ("usage_tracking_config", "rate_limits", "guardrails", "inference_table_config", "fallback_config")


@dataclass(slots=True)
class PendingConfig:
    """A config update not yet promoted: the endpoint schema it resolves to, its traffic and entity inputs."""

    endpoint_schema: EndpointSchema
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


class GatewayAPI(ManagementAPI, QueryAPI):
    """AI Gateway, tags, metrics and route optimization over the management and query APIs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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

    def _deploy_state(self, name: str) -> DeployState:
        return self._deploy.setdefault(name, DeployState())

    # -- routes --

    def _management(
        self,
        method: str,
        path: str,
        rest: list[str],
        query: Mapping[str, list[str]],
        headers: Headers,
        body: bytes,
    ) -> Response:
        if len(rest) == 2 and rest[1] in _GATEWAY_ROUTES:
            principal = self._authenticate(headers)
            with self._lock:
                return self._gateway_route(method, path, self._endpoint(rest[0]), rest[1], principal, body)
        return super()._management(method, path, rest, query, headers, body)

    def _gateway_route(
        self, method: str, path: str, endpoint: Endpoint, route: str, principal: Principal, body: bytes
    ) -> Response:
        """Metrics, tags, rate limits and the AI Gateway config of an endpoint (called under the lock)."""
        if route == "metrics":
            allow(method, path, "GET")
            self._require(endpoint, principal, "CAN_VIEW")
            counts = {(m, c): n for (e, m, c), n in self._served.items() if e == endpoint.name}
            return Response(200, _metrics(endpoint, counts).encode(), content_type="text/plain; version=0.0.4")
        self._require(endpoint, principal, "CAN_MANAGE")
        state = self._deploy_state(endpoint.name)
        if route == "tags":
            allow(method, path, "PATCH")
            data = json_object(body)
            for tag in json_list(data, "add_tags"):
                if not isinstance(tag, dict) or not isinstance(tag.get("key"), str) or not tag["key"]:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE", "Each of add_tags needs a non-empty 'key'.")
                state.tags[tag["key"]] = str(tag.get("value", ""))
            for key in json_list(data, "delete_tags"):
                state.tags.pop(str(key), None)
            return json_response(200, {"tags": _tags(state)})
        allow(method, path, "PUT")
        if route == "rate-limits":
            limits = json_list(json_object(body), "rate_limits")
            state.ai_gateway = {**(state.ai_gateway or {}), "rate_limits": limits}
            return json_response(200, {"rate_limits": limits})
        data = json_object(body)
        state.ai_gateway = {k: data[k] for k in _GATEWAY_KEYS if k in data}
        endpoint.updated_ms = now_ms()
        return json_response(200, state.ai_gateway)

    # -- queries: rate limits and the inference table --

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

    def _details(self, endpoint: Endpoint, level: str, now: float) -> dict[str, Any]:
        details = super()._details(endpoint, level, now)
        state = self._deploy.get(endpoint.name)
        if state is None:
            return details
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


def json_object(body: bytes) -> dict[str, Any]:
    """A management request's body as a JSON object (empty: {}); 400 otherwise."""
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "MALFORMED_REQUEST", f"Invalid JSON given in the body of the request: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
    return data


def json_list(data: Mapping[str, Any], key: str) -> list[Any]:
    """`data[key]` as a list (absent: []); 400 when it is something else."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"'{key}' must be a list.")
    return value


def _tags(state: DeployState) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in state.tags.items()]


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
