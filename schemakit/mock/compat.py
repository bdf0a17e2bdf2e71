"""The OpenAI-compatible routes of a workspace: `/serving-endpoints/{chat/completions,completions,embeddings,responses}`.

Databricks documents `OpenAI(api_key=TOKEN, base_url=HOST + "/serving-endpoints")`: the `model` field names the
serving endpoint, and the request goes to the endpoint's served model (by its traffic split) as the same body
without `model`. The answers and errors are the invocation route's, in the shapes the `openai` package parses:
a 400 becomes `openai.BadRequestError`, a 404 `NotFoundError`, a stream of `chat.completion.chunk` events ends
with `data: [DONE]` and carries usage when `stream_options.include_usage` asks for it. `encoding_format: base64`
(what the openai package asks for by default) gets float32 vectors in base64. `/responses` answers a Responses
API object (`output_text` assembles) or its event stream.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import struct
from collections.abc import Mapping
from typing import Any

import orjson

from schemakit.core.model import FormatKind, RequestKind
from schemakit.mock.queries import QueryAPI, parse_payload
from schemakit.mock.responses import responses_body
from schemakit.mock.streaming import SSE_CONTENT_TYPE, responses_events
from schemakit.mock.wire import ApiError, Headers, Response, allow, json_response

__all__ = ["OPENAI_ROUTES", "OpenAIRoutes"]

#: Route (after `/serving-endpoints/`) -> the field its request needs.
OPENAI_ROUTES: Mapping[str, str] = {
    "chat/completions": "messages",
    "completions": "prompt",
    "embeddings": "input",
    "responses": "input",
}
#: Which object requests each route takes (a ChatAgent answers chat completions too).
_ROUTE_KINDS: Mapping[str, frozenset[RequestKind]] = {
    "chat/completions": frozenset({RequestKind.CHAT, RequestKind.CHAT_AGENT}),
    "completions": frozenset({RequestKind.COMPLETIONS}),
    "embeddings": frozenset({RequestKind.EMBEDDINGS}),
    "responses": frozenset({RequestKind.RESPONSES}),
}
#: Fields the platform's OpenAI layer reads itself; the served model never sees them.
_PLATFORM_FIELDS = ("model", "stream_options", "encoding_format")


class OpenAIRoutes(QueryAPI):
    """`/serving-endpoints/<route>` with `model` naming the endpoint."""

    def _openai(self, method: str, path: str, route: str, headers: Headers, body: bytes) -> Response:
        allow(method, path, "POST")
        self._authenticate(headers)
        payload = parse_payload(body)
        endpoint = payload.get("model")
        if not isinstance(endpoint, str) or not endpoint:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                "'model' is required: the name of the serving endpoint to query (the OpenAI-compatible routes"
                " send the request to that endpoint's served model).",
            )
        needed = OPENAI_ROUTES[route]
        if needed not in payload:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"/serving-endpoints/{route} needs '{needed}' in the body.")
        self._check_route(endpoint, route)
        forwarded = {k: v for k, v in payload.items() if k not in _PLATFORM_FIELDS}
        if route == "responses":
            return self._responses(method, path, endpoint, headers, forwarded)
        options = payload.get("stream_options")
        include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
        response = self._query(
            method, path, endpoint, None, headers, orjson.dumps(forwarded), include_usage=include_usage
        )
        if route == "embeddings" and payload.get("encoding_format") == "base64" and response.status == 200:
            return _base64_embeddings(response)
        return response

    def _check_route(self, name: str, route: str) -> None:
        """A route the endpoint's served model does not take is a 400 that says which one it does take."""
        with self._lock:
            endpoint = self._endpoint(name)
            model = endpoint.schema.models[0]
        fmt = model.format(FormatKind.OBJECT)
        if fmt is None:
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Endpoint {name} serves a custom model ({', '.join(model.format_names)}), not an LLM:"
                f" query it at /serving-endpoints/{name}/invocations.",
            )
        kind = fmt.request
        if kind is None or kind is RequestKind.OTHER or kind in _ROUTE_KINDS[route]:
            return
        takes = next((r for r, kinds in _ROUTE_KINDS.items() if kind in kinds), None)
        raise ApiError(
            400,
            "INVALID_PARAMETER_VALUE",
            f"Endpoint {name} serves task {kind.task}; /serving-endpoints/{route} needs a model that takes"
            f" '{OPENAI_ROUTES[route]}' as {route} requests"
            + (f" (query this one at /serving-endpoints/{takes})." if takes else "."),
        )

    def _responses(self, method: str, path: str, endpoint: str, headers: Headers, payload: dict[str, Any]) -> Response:
        streaming = payload.pop("stream", None) is True
        text = payload.get("input")
        if isinstance(text, str):
            # The Responses API takes a bare string as one user message; agents read a list of items.
            payload["input"] = [{"role": "user", "content": text}]
        answer = self._query(method, path, endpoint, None, headers, orjson.dumps(payload))
        if answer.status != 200:
            return answer
        served = dict(answer.headers).get("served-model-name", endpoint)
        body = orjson.loads(answer.body)
        response = responses_object(body, endpoint, served, payload)
        if not streaming:
            return json_response(200, response, answer.headers)
        return Response(200, responses_events(response), answer.headers, SSE_CONTENT_TYPE)


def responses_object(answer: Any, endpoint: str, served: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses API object for a served model's answer: its text as one assistant message of `output_text`.

    An agent's own answer (`output` items with `output_text` parts) keeps its text; any other answer (a chat
    completion, generated values) gives the text it holds, or a deterministic one.
    """
    seed = hashlib.blake2b(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()
    text = _answer_text(answer) or f"Mock answer {seed} from {served}."
    return responses_body(text, seed, endpoint)


def _answer_text(answer: Any) -> str:
    if not isinstance(answer, Mapping):
        return ""
    parts: list[str] = []
    output = answer.get("output")
    if isinstance(output, list):
        for item in output:
            content = item.get("content") if isinstance(item, Mapping) else None
            for part in content if isinstance(content, list) else []:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    parts.append(part["text"])
    choices = answer.get("choices")
    if not parts and isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, Mapping) else choices[0].get("text")
        if isinstance(content, str):
            parts.append(content)
    messages = answer.get("messages")
    if not parts and isinstance(messages, list):
        parts += [m["content"] for m in messages if isinstance(m, Mapping) and isinstance(m.get("content"), str)]
    return "".join(parts)


def _base64_embeddings(response: Response) -> Response:
    body = orjson.loads(response.body)
    data = body.get("data") if isinstance(body, dict) else None
    for item in data if isinstance(data, list) else []:
        vector = item.get("embedding") if isinstance(item, dict) else None
        if isinstance(vector, list) and all(isinstance(v, (int, float)) for v in vector):
            # Beyond float32 (a document's own bounds): the list stays, which clients read too.
            with contextlib.suppress(OverflowError, struct.error):
                item["embedding"] = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return Response(200, orjson.dumps(body), response.headers, response.content_type)
