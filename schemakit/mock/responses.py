"""Deterministic answers for the emulator: one prediction per input row, shaped by the 200 schema.

Every value is derived from a stable hash of what was asked (the served model's
name and the row's canonical JSON), so the same row always gets the same
prediction, across runs and processes, and a client can assert on it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

from schemakit.core.model import DataType, FormatKind, InputFormat, JSONValue, Kind, RequestKind, ServedModel
from schemakit.core.types import EMULATOR_VALUE, is_binary_format, is_datetime_format

__all__ = [
    "MAX_ANSWER_BYTES",
    "AnswerBudget",
    "answers_completions",
    "count_rows",
    "input_rows",
    "respond",
    "responses_body",
    "row_seed",
]

#: `created` timestamps in object responses: fixed, so answers stay deterministic.
_CREATED = 1_700_000_000
#: The most an answer may take, in JSON bytes (roughly): a document's `minLength`, `minItems` or tensor shape
#: may ask for gigabytes, and the emulator's memory must not follow it. Past this the answer is cut and says so.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: What one value costs at least, whatever its JSON size: Python holds each in an object of its own.
_VALUE_COST = 32


class AnswerBudget:
    """How much of `MAX_ANSWER_BYTES` an answer has left, and where it was first cut (for the warning header)."""

    __slots__ = ("cut_at", "remaining")

    def __init__(self, limit: int = MAX_ANSWER_BYTES) -> None:
        self.remaining = limit
        self.cut_at: str | None = None

    def take(self, cost: int) -> None:
        self.remaining -= max(cost, _VALUE_COST)

    def allows(self, wanted: int, path: str) -> int:
        """Of `wanted` characters or items, how many fit; records the first place that had to be cut."""
        room = max(self.remaining, 0) // _VALUE_COST if wanted > 0 else 0
        if wanted <= room:
            return wanted
        if self.cut_at is None:
            self.cut_at = path or "(the answer)"
        return room

    @property
    def warning(self) -> str | None:
        if self.cut_at is None:
            return None
        # No document text: this goes into a response header.
        return f"answer cut at {MAX_ANSWER_BYTES // (1024 * 1024)} MiB: the response schema asks for more"


def row_seed(model_name: str, row: Any) -> bytes:
    """A stable 16-byte digest of one input row, for the model that answers it."""
    try:
        canonical = orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # orjson stops at 254 levels (and at integers beyond 64 bits); the standard library goes further.
        try:
            canonical = json.dumps(row, sort_keys=True, default=repr).encode()
        except (RecursionError, ValueError):
            canonical = f"{type(row).__name__}:{len(row) if hasattr(row, '__len__') else 0}".encode()
    return hashlib.blake2b(model_name.encode() + b"\0" + canonical, digest_size=16).digest()


def input_rows(payload: Mapping[str, Any], fmt: InputFormat | None) -> list[Any]:
    """The rows of a keyed payload, each as the JSON value the prediction is derived from."""
    key = fmt.key if fmt is not None else next((k for k in _ROW_KEYS if k in payload), None)
    if key is None:
        return []
    value = payload.get(key)
    if key == FormatKind.DATAFRAME_SPLIT.value:
        if not isinstance(value, Mapping):
            return []
        columns = value.get("columns")
        data = value.get("data")
        if not isinstance(data, list):
            return []
        if isinstance(columns, list):
            # Rows keyed by column name: a reordered `columns` list gives the same answers.
            return [dict(zip(columns, row, strict=False)) if isinstance(row, list) else row for row in data]
        return list(data)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, Mapping):
        # Columnar `inputs`/`instances` ({"col": [v1, v2]}): one row per position.
        lengths = [len(v) for v in value.values() if isinstance(v, list)]
        if not lengths:
            return [dict(value)]
        count = max(lengths)
        return [
            {k: (v[i] if isinstance(v, list) and i < len(v) else v) for k, v in value.items()} for i in range(count)
        ]
    return [value]


_ROW_KEYS = tuple(kind.value for kind in FormatKind if kind is not FormatKind.OBJECT)


def count_rows(payload: Mapping[str, Any], fmt: InputFormat | None) -> int:
    return len(input_rows(payload, fmt))


def respond(
    model: ServedModel, payload: Mapping[str, Any], fmt: InputFormat | None, budget: AnswerBudget | None = None
) -> JSONValue:
    """The 200 body for a valid payload: predictions per row, or an object for object models.

    The answer stays within `budget` (a fresh `MAX_ANSWER_BYTES` one when not given); `budget.warning`
    says afterwards whether the document asked for more than that.
    """
    budget = budget if budget is not None else AnswerBudget()
    response = model.response
    if fmt is None or fmt.kind is FormatKind.OBJECT:
        seed = row_seed(model.name, payload)
        kind = fmt.request if fmt is not None else None
        if kind is RequestKind.RESPONSES:
            return responses_body(_agent_text(seed, model.name), seed.hex()[:16], model.name)
        shape = _answer_shape(response.body, wrapped=False) if response is not None else None
        completion = answers_completions(model)
        if kind is RequestKind.CHAT_AGENT and not completion:
            return _chat_agent_answer(seed, model.name)
        if shape is None:
            return {"predictions": [_double(seed)]}
        # The server answers an object (LLM) request unwrapped, whatever else the response allows.
        answer = _fix_usage(_Generator(seed, model.name, payload, budget).value(shape, ""))
        return _tidy_choices(answer) if completion else answer
    rows = input_rows(payload, fmt)
    if response is None:
        # No 200 schema: MLflow's own shape, one double per row.
        return {"predictions": [_double(row_seed(model.name, row)) for row in rows]}
    predictions = response.predictions
    if predictions is None:
        shape = _answer_shape(response.body, wrapped=True)
        return _Generator(row_seed(model.name, rows), model.name, payload, budget).value(shape, "")
    if predictions.kind is Kind.ARRAY:
        item = predictions.items or DataType(Kind.DOUBLE)
        values: list[JSONValue] = [
            _Generator(row_seed(model.name, row), model.name, payload, budget).value(item, "predictions")
            for row in rows
        ]
        body = _Generator(row_seed(model.name, rows), model.name, payload, budget).value(
            response.body, "", skip="predictions"
        )
        if isinstance(body, dict):
            body["predictions"] = values
            return body
        return {"predictions": values}
    # Predictions that are not a list (a dict of columns, a scalar): one value for the whole batch.
    return _Generator(row_seed(model.name, rows), model.name, payload, budget).value(response.body, "")


def answers_completions(model: ServedModel) -> bool:
    """Whether the model answers an object request with a chat or text completion (`choices`).

    A ChatModel takes the same request as a ChatAgent; its answer (`choices`, not `messages`) tells them apart.
    """
    if model.response is None:
        return False
    shape = _answer_shape(model.response.body, wrapped=False)
    return shape.kind is Kind.OBJECT and shape.field("choices") is not None


def responses_body(text: str, ident: str, model: str) -> dict[str, Any]:
    """A Responses API object (`object: "response"`) whose output is one assistant message holding `text`.

    The shape MLflow's `ResponsesAgentResponse` and the openai package's `Response` both read; `output_text`
    assembles to `text`.
    """
    words = max(1, len(text.split()))
    message = {
        "type": "message",
        "id": f"msg_{ident}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return {
        "id": f"resp_{ident}",
        "object": "response",
        "created_at": _CREATED,
        "model": model,
        "status": "completed",
        "output": [message],
        "error": None,
        "incomplete_details": None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 8,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": words,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 8 + words,
        },
    }


def _agent_text(seed: bytes, model_name: str) -> str:
    return f"Mock answer {seed.hex()[:8]} from {model_name}."


def _chat_agent_answer(seed: bytes, model_name: str) -> dict[str, Any]:
    """A ChatAgent's answer as MLflow's `ChatAgentResponse` reads it: one assistant message with an id, no tool calls."""
    message = {"role": "assistant", "content": _agent_text(seed, model_name), "id": f"msg-{seed.hex()[:12]}"}
    return {"messages": [message], "finish_reason": "stop"}


def _tidy_choices(answer: JSONValue) -> JSONValue:
    """A chat or text completion as a model answers it: assistant text, no invented tool calls, finish `stop`.

    Generated from a wide response schema (MLflow's ChatModel output lists tool calls and more), the
    values would be well-typed but meaningless: tool calls whose arguments are not JSON.
    """
    choices = answer.get("choices") if isinstance(answer, dict) else None
    for choice in choices if isinstance(choices, list) else []:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict):
            message["role"] = "assistant"
            for key in ("tool_calls", "tool_call_id", "refusal", "name"):
                message.pop(key, None)
            if not isinstance(message.get("content"), str):
                message["content"] = ""
        if "finish_reason" in choice:
            choice["finish_reason"] = "stop"
        choice.pop("logprobs", None)
    return answer


def _answer_shape(body: DataType, *, wrapped: bool) -> DataType:
    """Of a response that may come wrapped in `predictions` or not (MLflow agents), the shape a request gets.

    Dataframe requests get `{"predictions": ...}`; object requests the unwrapped answer.
    """
    if body.kind is not Kind.UNION or not body.variants:
        return body
    for variant in body.variants:
        if variant.kind is Kind.OBJECT and (variant.field("predictions") is not None) == wrapped:
            return variant
    return body


def _fix_usage(body: JSONValue) -> JSONValue:
    # Token counts a client may add up: keep total = prompt + completion.
    usage = body.get("usage") if isinstance(body, dict) else None
    if isinstance(usage, dict):
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int) and isinstance(usage.get("total_tokens"), int):
            usage["total_tokens"] = prompt + completion
    return body


def _double(seed: bytes) -> float:
    # Two decimals keep the numbers readable in a terminal; still distinct per row.
    return round(int.from_bytes(seed[:4], "big") / 2**32 * 100.0, 2)


class _Generator:
    """Builds a value for a DataType from a seed; each position gets its own sub-seed."""

    def __init__(self, seed: bytes, model_name: str, payload: Any, budget: AnswerBudget) -> None:
        self.seed = seed
        self.model_name = model_name
        self.payload = payload
        self.budget = budget

    def _sub(self, path: str) -> bytes:
        return hashlib.blake2b(self.seed + path.encode(), digest_size=16).digest()

    def value(self, t: DataType, path: str, *, skip: str | None = None) -> JSONValue:
        if self.budget.allows(1, path) < 1:
            # Spent: the smallest value of the kind, so a document whose types repeat through shared `$ref`s
            # cannot multiply the work past the budget either.
            return _least(t)
        seed = self._sub(path)
        self.budget.take(_VALUE_COST)
        if t.enum:
            if path.endswith("role") and "assistant" in t.enum:
                # A chat answer comes from the assistant, whatever else the enum allows.
                return "assistant"
            choices: list[JSONValue] = [v for v in t.enum if v is not None] or list(t.enum)
            return choices[int.from_bytes(seed[:4], "big") % len(choices)]
        kind = t.kind
        if kind is Kind.NULL or (kind is Kind.ANY and t.nullable):
            # e.g. `logprobs`: servers answer null unless asked for more.
            return None
        if kind in (Kind.BOOLEAN, Kind.BINARY, Kind.DATETIME):
            return EMULATOR_VALUE[kind](seed, t)
        if kind in (Kind.INTEGER, Kind.LONG):
            return self._integer(t, seed, path)
        if kind in (Kind.FLOAT, Kind.DOUBLE, Kind.ANY):
            return self._number(t, seed)
        if kind is Kind.STRING:
            return self._string(_bounds(t), seed, path)
        if kind is Kind.ARRAY:
            return self._array(t, _bounds(t), path)
        if kind is Kind.MAP:
            item = t.items or DataType(Kind.DOUBLE)
            return {"key": self.value(item, f"{path}.key")}
        if kind is Kind.OBJECT:
            return self._object(t, path, skip)
        if kind is Kind.UNION and t.variants:
            # Prefer a variant that is not null, so a client sees a real value.
            variants = [v for v in t.variants if v.kind is not Kind.NULL] or list(t.variants)
            return self.value(variants[seed[0] % len(variants)], path)
        return self._number(t, seed)

    def _integer(self, t: DataType, seed: bytes, path: str) -> JSONValue:
        name = path.rsplit(".", 1)[-1]
        if name == "created":
            return _CREATED
        if name == "index":
            return 0
        return EMULATOR_VALUE[Kind.LONG](seed, t)  # within the type's bounds

    def _number(self, t: DataType, seed: bytes) -> JSONValue:
        return EMULATOR_VALUE[Kind.DOUBLE](seed, t)

    def _string(self, schema: Mapping[str, Any], seed: bytes, path: str) -> str:
        fmt = schema.get("format")
        if is_datetime_format(fmt):
            return f"2024-01-{1 + seed[0] % 28:02d}T{seed[1] % 24:02d}:{seed[2] % 60:02d}:00Z"
        if fmt == "date":
            return f"2024-01-{1 + seed[0] % 28:02d}"
        if fmt == "uuid":
            h = seed.hex()
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
        if is_binary_format(fmt):
            return base64.b64encode(seed[:6]).decode()
        name = path.rsplit(".", 1)[-1] or "value"
        if name == "model":
            return self.model_name
        if name == "object":
            return _object_kind(self.payload)
        if name == "finish_reason":
            return "stop"
        if name == "role":
            return "assistant"
        if name == "id":
            return f"mock-{seed.hex()[:12]}"
        text = f"{name[:64]}-{seed.hex()[:8]}"
        min_length = schema.get("minLength")
        if isinstance(min_length, int) and len(text) < min_length:
            # Padding counts against the budget by the character, not by the value.
            padding = self.budget.allows((min_length - len(text) + _VALUE_COST - 1) // _VALUE_COST, path)
            self.budget.take(padding * _VALUE_COST)
            text = text + "x" * min(min_length - len(text), padding * _VALUE_COST)
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and len(text) > max_length:
            text = text[:max_length]
        return text

    def _array(self, t: DataType, schema: Mapping[str, Any], path: str) -> list[JSONValue]:
        if t.prefix_items:
            return [self.value(p, f"{path}[{i}]") for i, p in enumerate(t.prefix_items)]
        count = 1
        if t.shape:
            # A tensor dimension given by the document fixes the length; -1 means any.
            first = t.shape[0]
            count = first if first > 0 else 1
        min_items = schema.get("minItems")
        if isinstance(min_items, int) and min_items > count:
            count = min_items
        max_items = schema.get("maxItems")
        if isinstance(max_items, int) and max_items < count:
            count = max_items
        name = path.rsplit(".", 1)[-1]
        if name in ("choices", "data"):
            count = max(count, _requested_count(self.payload, name))
        elif name == "embedding" and not t.shape:
            count = max(count, 8)  # a short vector, still recognisably one
        item = t.items or DataType(Kind.DOUBLE)
        out: list[JSONValue] = []
        for i in range(count):
            if self.budget.allows(1, f"{path}[{i}]") < 1:
                break
            out.append(self._indexed(item, f"{path}[{i}]", i))
        return out

    def _indexed(self, item: DataType, path: str, index: int) -> JSONValue:
        value = self.value(item, path)
        if isinstance(value, dict) and "index" in value and isinstance(value["index"], int):
            value["index"] = index
        return value

    def _object(self, t: DataType, path: str, skip: str | None) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {}
        for column in t.fields:
            if column.name == skip:
                continue
            child = f"{path}.{column.name}" if path else column.name
            out[column.name] = self.value(column.type, child)
        return out


def _bounds(t: DataType) -> Mapping[str, Any]:
    # Bounds and format as the model keeps them, keyed by their JSON Schema keyword (a `const` is a 1-value enum).
    return {**t.bounds, "format": t.format}


def _least(t: DataType) -> JSONValue:
    kind = t.kind
    if kind is Kind.OBJECT or kind is Kind.MAP:
        return {}
    if kind is Kind.ARRAY:
        return []
    if kind in (Kind.STRING, Kind.BINARY, Kind.DATETIME):
        return ""
    if kind is Kind.BOOLEAN:
        return False
    if kind in (Kind.INTEGER, Kind.LONG):
        return 0
    if kind in (Kind.NULL, Kind.ANY, Kind.UNION):
        return None
    return 0.0


def _object_kind(payload: Any) -> str:
    if isinstance(payload, Mapping):
        if "messages" in payload:
            return "chat.completion"
        if "prompt" in payload:
            return "text_completion"
        if "input" in payload:
            return "list"
    return "object"


def _requested_count(payload: Any, path: str) -> int:
    """How many results an object request asks for: `n` choices, or one embedding per `input`."""
    if not isinstance(payload, Mapping):
        return 1
    if path == "choices":
        n = payload.get("n")
        return n if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 16 else 1
    inputs = payload.get("input")
    if isinstance(inputs, list) and inputs:
        return min(len(inputs), 2048)
    return 1
