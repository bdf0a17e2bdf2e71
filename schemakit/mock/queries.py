"""Queries: `/serving-endpoints/{name}[/served-models/{model}]/invocations`, validated and answered."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import orjson

from schemakit.check.validator import compile_validator
from schemakit.core.limits import request_limit
from schemakit.core.model import FormatKind, InputFormat, ServedModel
from schemakit.mock.core import WorkspaceCore, log_time, now_ms
from schemakit.mock.responses import AnswerBudget, count_rows, respond
from schemakit.mock.streaming import SSE_CONTENT_TYPE, stream_events, wants_stream
from schemakit.mock.wire import ApiError, Headers, Response, allow, json_response


class QueryAPI(WorkspaceCore):
    """Answers queries the way a serving endpoint does: lifecycle, throttling, validation, predictions."""

    # -- queries --

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
        allow(method, path, "POST")
        principal = self._authenticate(headers, data_plane=data_plane)
        with self._lock:
            endpoint = self._endpoint(name)
            self._require(endpoint, principal, "CAN_QUERY")
            latency = endpoint.settings.latency
        if latency > 0:
            time.sleep(latency)
        with self._lock:
            phase = endpoint.phase(time.monotonic())
            if phase == "stopped":
                raise ApiError(
                    400,
                    "BAD_REQUEST",
                    f"Endpoint {name} is stopped. Start the endpoint (POST /api/2.0/serving-endpoints/{name}/config:start)"
                    " before sending queries.",
                )
            if phase == "updating":
                raise ApiError(
                    503,
                    "TEMPORARILY_UNAVAILABLE",
                    f"Endpoint {name} is not ready: its configuration update is in progress. Retry when it is READY.",
                )
            if phase == "failed":
                raise ApiError(
                    400,
                    "BAD_REQUEST",
                    f"Endpoint {name} is not ready: the update failed ({endpoint.settings.failure_message})",
                )
            if model_name is None:
                model = endpoint.route()
            else:
                found = endpoint.model(model_name)
                if found is None:
                    raise ApiError(
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
                now = now_ms()
                log_lines.append((now, f"{log_time(now)} {line}"))

        if count <= settings.throttle_queries:
            log("[WARNING] 429 POST /invocations: rate limit exceeded")
            raise ApiError(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                f"Exceeded the rate limit of endpoint {name}. Retry after {settings.retry_after} second(s).",
                [("Retry-After", str(settings.retry_after))],
            )
        if count <= settings.throttle_queries + settings.unavailable_queries:
            log("[WARNING] 503 POST /invocations: model server unavailable")
            raise ApiError(
                503, "TEMPORARILY_UNAVAILABLE", f"The model server of endpoint {name} is temporarily unavailable."
            )
        limit = min(request_limit(model), self.max_body_bytes)
        if len(body) > limit:
            log("[WARNING] 413 POST /invocations: request too large")
            raise ApiError(
                413,
                "BAD_REQUEST",
                f"The request is {len(body):,} bytes; endpoint {name} takes at most {limit:,} bytes per request."
                " Send fewer rows per request.",
                [("served-model-name", model.name)],
            )
        if validator is None:
            validator = compile_validator(model)
            with self._lock:
                endpoint.validators.setdefault(model.name, validator)
        # schemakit's validator reads the bytes itself, so text that is not JSON gets its line and column.
        try:
            report = validator.validate_json(body)
        except RecursionError:
            raise ApiError(
                400,
                "BAD_REQUEST",
                "Failed to parse input from JSON: the document nests too deeply. Send rows of plain values.",
                [("served-model-name", model.name)],
            ) from None
        header = [("served-model-name", model.name)]
        if not report.ok:
            log("[INFO] 400 POST /invocations: payload rejected")
            raise ApiError(400, "BAD_REQUEST", report.to_text(), header)
        payload = parse_payload(body)
        fmt = _select_format(model, payload)
        streaming = wants_stream(payload)
        # A streamed answer carries the same text as the answer to the same request without `stream`.
        budget = AnswerBudget()
        answer = respond(
            model, {k: v for k, v in payload.items() if k != "stream"} if streaming else payload, fmt, budget
        )
        rows = count_rows(payload, fmt) if fmt is not None and fmt.key else 1
        if budget.warning is not None:
            log(f"[WARNING] {budget.warning} (first at {(budget.cut_at or '')[:200]!r})")
            header.append(("x-schemakit-warning", budget.warning))
        if streaming:
            log("[INFO] 200 POST /invocations: streamed")
            return Response(200, stream_events(answer, payload, include_usage), tuple(header), SSE_CONTENT_TYPE)
        log(f"[INFO] 200 POST /invocations: {rows} row(s) scored")
        return json_response(200, answer, header)


def parse_payload(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise ApiError(400, "BAD_REQUEST", "Failed to parse input: the request body is empty; send a JSON object.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = _parse_payload_slow(body)
    if not isinstance(payload, dict):
        raise ApiError(
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
        raise ApiError(
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
