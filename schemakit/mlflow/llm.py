"""Agent and LLM signatures: the object request MLflow's scoring server reads, and the answer it sends back.

MLflow's scoring server reads a JSON body with a top-level `messages`, `prompt` or `input` key as "unified
LLM input" (`mlflow/pyfunc/utils/serving_data_parser.py`): it skips dataframe parsing, hands the model the
body's keys as one row (the signature's columns), keeps `custom_inputs`, ignores keys the signature does not
name (`databricks_options` among them), and answers with the model's output as it is, not wrapped in
`{"predictions": ...}`. `ChatAgent`, `ResponsesAgent` and `ChatModel` models are queried this way.

The signature says what the scoring server's schema enforcement checks; the agent classes then build
pydantic objects from the row, which refuse more (a chat message needs `content` or `tool_calls`, a `tool`
message needs `name` and `tool_call_id`, a Responses input item is a message with a known role or an output
item of a known type). `tests/mlflow/test_agent_agreement.py` checks the result against the real server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AGENT_TASKS",
    "CHAT_AGENT_TASK",
    "CHAT_MODEL_TASK",
    "LLM_KEYS",
    "RESPONSES_AGENT_TASK",
    "llm_branch",
    "llm_key",
    "llm_response",
    "wrapped_or_unwrapped",
]

#: The top-level keys that make the scoring server read a body as LLM input, in the order it documents them.
LLM_KEYS: tuple[str, ...] = ("messages", "prompt", "input")

#: `metadata.task` in MLmodel, as `mlflow.pyfunc` writes it for each agent class.
CHAT_AGENT_TASK = "agent/v2/chat"
CHAT_MODEL_TASK = "agent/v1/chat"
RESPONSES_AGENT_TASK = "agent/v1/responses"
#: The tasks of MLflow's agent classes, whose pyfunc wrappers read one request (the first dataframe row).
AGENT_TASKS = frozenset({CHAT_AGENT_TASK, CHAT_MODEL_TASK, RESPONSES_AGENT_TASK})

#: The branch title (and format name) for each task; other LLM signatures are `llm`.
_TITLES = {
    CHAT_AGENT_TASK: "chat_agent",
    CHAT_MODEL_TASK: "chat",
    RESPONSES_AGENT_TASK: "responses",
    "llm/v1/chat": "chat",
    "llm/v1/completions": "completions",
    "llm/v1/embeddings": "embeddings",
}

_DATABRICKS_OPTIONS: dict[str, Any] = {
    "type": "object",
    "description": (
        "Options for Databricks Model Serving (for example return_trace); MLflow's scoring server ignores them"
    ),
    "properties": {"return_trace": {"type": "boolean"}},
}

#: Fields of a chat message that name the entity; content or tool_calls carries what it says.
_TOOL_MESSAGE = {
    "if": {"properties": {"role": {"type": "string", "const": "tool"}}, "required": ["role"]},
    "then": {"required": ["name", "tool_call_id"]},
}
_CONTENT_OR_TOOL_CALLS = {
    "anyOf": [{"required": ["content"]}, {"required": ["tool_calls"], "properties": {"tool_calls": {"minItems": 1}}}]
}
#: ChatModel's ChatMessage: a refusal is said instead of content, never beside it.
_CONTENT_OR_REFUSAL = {"not": {"required": ["content", "refusal"]}}

#: `mlflow.types.responses_helpers.Message`: the roles it allows and the content parts it checks.
_RESPONSES_ROLES = ["user", "assistant", "system", "developer"]
_STATUS = {"type": "string", "enum": ["in_progress", "completed", "incomplete"]}


def llm_key(column_names: Sequence[str]) -> str | None:
    """The LLM key among a column signature's names (the one the server's unified input needs), if any."""
    for key in LLM_KEYS:
        if key in column_names:
            return key
    return None


def llm_branch(
    key: str,
    columns: Sequence[tuple[str, dict[str, Any], bool]],
    params: dict[str, Any] | None,
    task: str | None,
) -> dict[str, Any]:
    """The object-request branch: one property per column (and param), `databricks_options`, nothing else.

    `columns` are (name, JSON Schema, required) with optional fields not nullable: the agents build
    pydantic objects from them, and `"context": null` is refused by ChatAgent.
    """
    properties: dict[str, Any] = {}
    required = [key]
    for name, schema, is_required in columns:
        properties[name] = _refined(name, schema, task)
        if is_required and name != key:
            required.append(name)
    for name, schema in (params or {}).get("properties", {}).items():
        # The server hands top-level keys that name a param to the model as params.
        properties.setdefault(name, schema)
    properties.setdefault("databricks_options", dict(_DATABRICKS_OPTIONS))
    title = _TITLES.get(task or "", "llm")
    return {
        "title": title,
        "description": (
            f"{key!r} at the top level: MLflow's scoring server reads the body as LLM input and answers "
            "unwrapped (no 'predictions')"
        ),
        "type": "object",
        "required": required,
        "properties": properties,
        # The server drops keys the signature does not name without a word: a misspelt field is an error here.
        "additionalProperties": False,
    }


def llm_response(outputs: Sequence[tuple[str | None, dict[str, Any], bool]] | None) -> dict[str, Any]:
    """The unwrapped answer: the model's output object (one unnamed column) or an object of the named ones."""
    if not outputs:
        return {"type": "object", "description": "the signature has no outputs; any object"}
    if len(outputs) == 1 and outputs[0][0] is None:
        return _opened(outputs[0][1])
    properties = {str(name): _opened(schema) for name, schema, _ in outputs}
    required = [str(name) for name, _, is_required in outputs if is_required]
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def wrapped_or_unwrapped(unwrapped: dict[str, Any]) -> dict[str, Any]:
    """A 200 answer for a model with both request kinds: unwrapped for LLM input, in `predictions` otherwise."""
    return {
        "oneOf": [
            {"title": "unwrapped", **unwrapped, "not": {"required": ["predictions"]}},
            {
                "title": "predictions",
                "description": "the answer to a dataframe_split or dataframe_records request",
                "type": "object",
                "required": ["predictions"],
                "properties": {"predictions": unwrapped},
            },
        ]
    }


# -- what the agent classes check beyond the signature ---------------------------------------------


def _refined(name: str, schema: dict[str, Any], task: str | None) -> dict[str, Any]:
    if task in (CHAT_AGENT_TASK, CHAT_MODEL_TASK) and name == "messages":
        return _chat_messages(schema)
    if task == RESPONSES_AGENT_TASK and name == "input":
        return {"type": "array", "items": _responses_item()}
    return schema


def _chat_messages(schema: dict[str, Any]) -> dict[str, Any]:
    items = schema.get("items")
    if schema.get("type") != "array" or not isinstance(items, dict):
        return schema
    # ChatAgentMessage / ChatMessage: a message says something (content) or calls tools; a tool's answer says
    # which call it answers.
    rules: list[dict[str, Any]] = [_CONTENT_OR_TOOL_CALLS, _TOOL_MESSAGE]
    if "refusal" in items.get("properties", {}):
        rules.append(_CONTENT_OR_REFUSAL)
    message = {**items, "allOf": rules}
    return {**schema, "items": message}


def _responses_item() -> dict[str, Any]:
    """`Message | OutputItem` from `mlflow.types.responses`, limited to the item kinds pydantic checks fully."""
    text_part = {
        "type": "object",
        "required": ["type", "text"],
        "properties": {"type": {"type": "string", "const": "input_text"}, "text": {"type": "string"}},
    }
    media_part = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "enum": ["input_image", "input_file"]}},
    }
    message = {
        "title": "message",
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "type": {"type": "string", "const": "message"},
            "role": {"type": "string", "enum": list(_RESPONSES_ROLES)},
            "content": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"oneOf": [text_part, media_part]}},
                ]
            },
            "status": dict(_STATUS),
        },
        "additionalProperties": False,
    }
    function_call = {
        "title": "function_call",
        "type": "object",
        "required": ["type", "call_id", "name", "arguments"],
        "properties": {
            "type": {"type": "string", "const": "function_call"},
            "call_id": {"type": "string"},
            "name": {"type": "string"},
            "arguments": {"type": "string"},
            "id": {"type": "string"},
            "status": dict(_STATUS),
        },
    }
    function_call_output = {
        "title": "function_call_output",
        "type": "object",
        "required": ["type", "call_id", "output"],
        "properties": {
            "type": {"type": "string", "const": "function_call_output"},
            "call_id": {"type": "string"},
            "output": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
            "status": dict(_STATUS),
        },
    }
    return {"oneOf": [message, function_call, function_call_output]}


def _opened(schema: dict[str, Any]) -> dict[str, Any]:
    """A response schema that allows what the signature does not list: agents add fields (ids, content)."""
    out = dict(schema)
    if out.get("additionalProperties") is False:
        del out["additionalProperties"]
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _opened(v) if isinstance(v, dict) else v for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _opened(out["items"])
    return out
