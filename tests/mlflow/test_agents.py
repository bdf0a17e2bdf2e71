"""`from-mlflow` for agent and LLM signatures (ChatAgent, ResponsesAgent, ChatModel, completions), and the
hardening of the MLflow bridge: links out of the model folder, integers no JSON tool can carry.

The signatures are MLflow's own (`CHAT_AGENT_INPUT_SCHEMA`, `RESPONSES_AGENT_INPUT_SCHEMA`, ...), written into
an MLmodel with the task metadata MLflow gives each agent class. Verdicts here are plain JSON Schema 2020-12
(jsonschema) on the request schema: what the document says, independently of schemakit's validator; the
agreement with the real server is `test_agent_agreement.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from schemakit._exceptions import MlflowError
from schemakit.mlflow.document import document_from_mlflow, document_from_signature

from .conftest import write_model


def _agent_signatures() -> dict[str, tuple[dict[str, Any], str | None]]:
    with warnings.catch_warnings():
        # mlflow.types.responses infers its schema from type hints at import, and warns about `Any`.
        warnings.simplefilter("ignore", UserWarning)
        return _import_agent_signatures()


def _import_agent_signatures() -> dict[str, tuple[dict[str, Any], str | None]]:
    from mlflow.models.signature import ModelSignature
    from mlflow.types.agent import CHAT_AGENT_INPUT_SCHEMA, CHAT_AGENT_OUTPUT_SCHEMA
    from mlflow.types.llm import (
        CHAT_MODEL_INPUT_SCHEMA,
        CHAT_MODEL_OUTPUT_SCHEMA,
        COMPLETIONS_MODEL_INPUT_SCHEMA,
        COMPLETIONS_MODEL_OUTPUT_SCHEMA,
    )
    from mlflow.types.responses import RESPONSES_AGENT_INPUT_SCHEMA, RESPONSES_AGENT_OUTPUT_SCHEMA

    def sig(inputs: Any, outputs: Any) -> dict[str, Any]:
        return dict(ModelSignature(inputs, outputs).to_dict())

    return {
        "chat-agent": (sig(CHAT_AGENT_INPUT_SCHEMA, CHAT_AGENT_OUTPUT_SCHEMA), "agent/v2/chat"),
        "responses-agent": (sig(RESPONSES_AGENT_INPUT_SCHEMA, RESPONSES_AGENT_OUTPUT_SCHEMA), "agent/v1/responses"),
        "chat-model": (sig(CHAT_MODEL_INPUT_SCHEMA, CHAT_MODEL_OUTPUT_SCHEMA), "agent/v1/chat"),
        "completions": (sig(COMPLETIONS_MODEL_INPUT_SCHEMA, COMPLETIONS_MODEL_OUTPUT_SCHEMA), None),
    }


@pytest.fixture(scope="module")
def agent_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("agents")
    docs = {}
    for name, (signature, task) in _agent_signatures().items():
        extra = {"metadata": {"task": task}} if task else {}
        docs[name] = document_from_mlflow(write_model(base / name, signature, **extra))
    return docs


def request_schema(document: dict[str, Any]) -> dict[str, Any]:
    (item,) = document["paths"].values()
    return dict(item["post"]["requestBody"]["content"]["application/json"]["schema"])


def response_schema(document: dict[str, Any]) -> dict[str, Any]:
    (item,) = document["paths"].values()
    return dict(item["post"]["responses"]["200"]["content"]["application/json"]["schema"])


def accepts(document: dict[str, Any], payload: Any) -> bool:
    return jsonschema.Draft202012Validator(request_schema(document)).is_valid(payload)


def test_agents_get_the_object_request_first_then_the_dataframe_formats(agent_docs: dict[str, Any]) -> None:
    titles = {name: [b["title"] for b in request_schema(doc)["oneOf"]] for name, doc in agent_docs.items()}
    assert titles == {
        "chat-agent": ["chat_agent", "dataframe_split", "dataframe_records"],
        "responses-agent": ["responses", "dataframe_split", "dataframe_records"],
        "chat-model": ["chat", "dataframe_split", "dataframe_records"],
        "completions": ["llm", "dataframe_split", "dataframe_records"],
    }
    chat = request_schema(agent_docs["chat-agent"])["oneOf"][0]
    assert chat["required"] == ["messages"]
    assert set(chat["properties"]) == {"messages", "context", "custom_inputs", "stream", "databricks_options"}
    assert chat["additionalProperties"] is False
    responses = request_schema(agent_docs["responses-agent"])["oneOf"][0]
    assert responses["required"] == ["input"]
    assert {"input", "custom_inputs", "context", "databricks_options"} <= set(responses["properties"])


@pytest.mark.parametrize(
    ("model", "payload", "ok"),
    [
        ("chat-agent", {"messages": [{"role": "user", "content": "Hello!"}]}, True),
        ("chat-agent", {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]}, True),
        (
            "chat-agent",
            {
                "messages": [{"role": "user", "content": "hi"}],
                "context": {"conversation_id": "c"},
                "custom_inputs": {"k": [1]},
                "databricks_options": {"return_trace": True},
            },
            True,
        ),
        ("chat-agent", {}, False),
        ("chat-agent", {"custom_inputs": {}}, False),
        ("chat-agent", {"messages": [{"role": "user", "content": 5}]}, False),
        ("chat-agent", {"messages": [{"role": "user"}]}, False),
        ("chat-agent", {"messages": [{"role": "tool", "content": "42"}]}, False),
        ("chat-agent", {"messages": [{"role": "user", "content": "hi"}], "context": None}, False),
        ("chat-agent", {"messages": [{"role": "user", "content": "hi"}], "custom_inputs": "x"}, False),
        ("chat-agent", {"messages": [{"role": "user", "content": "hi"}], "temperature": 1}, False),
        ("chat-agent", {"dataframe_records": [{"messages": [{"role": "user", "content": "hi"}]}]}, True),
        ("chat-agent", {"dataframe_records": [{"messages": []}, {"messages": []}]}, False),
        ("chat-agent", {"messages": [], "dataframe_records": [{"messages": []}]}, False),
        ("responses-agent", {"input": [{"role": "user", "content": "Hello!"}], "custom_inputs": {"k": "v"}}, True),
        ("responses-agent", {"input": [{"role": "developer", "content": [{"type": "input_text", "text": "x"}]}]}, True),
        (
            "responses-agent",
            {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}]},
            True,
        ),
        ("responses-agent", {"input": [{"role": "narrator", "content": "x"}]}, False),
        ("responses-agent", {"input": ["hi"]}, False),
        ("responses-agent", {"input": "hi"}, False),
        ("responses-agent", {"input": [{"type": "bogus"}]}, False),
        ("chat-model", {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5, "max_tokens": 3}, True),
        ("chat-model", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": "3"}, False),
        ("completions", {"prompt": "hi", "max_tokens": 3}, True),
        ("completions", {"max_tokens": 3}, False),
    ],
)
def test_the_object_request_says_what_the_agent_takes(
    agent_docs: dict[str, Any], model: str, payload: Any, ok: bool
) -> None:
    assert accepts(agent_docs[model], payload) is ok


def test_the_answer_is_unwrapped_for_llm_input_and_in_predictions_for_dataframes(agent_docs: dict[str, Any]) -> None:
    chat_answer = {"messages": [{"role": "assistant", "content": "hi", "id": "m-1"}], "custom_outputs": {"n": 1}}
    validator = jsonschema.Draft202012Validator(response_schema(agent_docs["chat-agent"]))
    assert validator.is_valid(chat_answer)
    assert validator.is_valid({"predictions": chat_answer})
    assert not validator.is_valid({"predictions": [chat_answer], "messages": []})
    responses_answer = {
        "object": "response",
        "output": [
            {"type": "message", "id": "m", "role": "assistant", "content": [{"type": "output_text", "text": "x"}]}
        ],
    }
    assert jsonschema.Draft202012Validator(response_schema(agent_docs["responses-agent"])).is_valid(responses_answer)


def test_agent_documents_pass_strict_validation(agent_docs: dict[str, Any], tmp_path: Path) -> None:
    for name, document in agent_docs.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "schemakit", "validate", "--strict", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, (name, result.stdout, result.stderr)


def test_a_column_named_messages_makes_any_signature_an_llm_one() -> None:
    """The server reads any body with a top-level messages/prompt/input key as LLM input, whatever the task."""
    inputs = [{"type": "string", "name": "prompt"}, {"type": "long", "name": "max_tokens", "required": False}]
    document = document_from_signature({"inputs": inputs}, endpoint="e", served_model="m")
    first = request_schema(document)["oneOf"][0]
    assert first["title"] == "llm"
    assert first["required"] == ["prompt"]
    assert "predictions" not in response_schema(document)["oneOf"][0].get("properties", {})
    # Not an agent: the dataframe path hands the model every row.
    assert accepts(document, {"dataframe_records": [{"prompt": "a"}, {"prompt": "b"}]})
    assert not accepts(document, {"dataframe_records": [{"prompt": "a"}], "prompt": "b"})


def test_other_signatures_keep_the_predictions_answer() -> None:
    document = document_from_signature({"inputs": [{"type": "string", "name": "text"}]}, endpoint="e", served_model="m")
    assert [b["title"] for b in request_schema(document)["oneOf"]] == ["dataframe_split", "dataframe_records"]
    assert set(response_schema(document)["properties"]) == {"predictions"}


# -- hardening: nothing outside the model folder, no integer that breaks a JSON tool ----------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    from ..conftest import run_cli_in_process  # in process, through main()'s error translation

    return run_cli_in_process(*args)


def test_a_linked_example_file_outside_the_model_folder_is_not_read(
    make_model: Callable[..., Path], tmp_path: Path
) -> None:
    canary = tmp_path / "secret.json"
    canary.write_text(json.dumps({"dataframe_records": [{"text": "CANARY-7f3a"}]}), encoding="utf-8")
    model = make_model(
        {"inputs": '[{"type": "string", "name": "text"}]'},
        saved_input_example_info={"serving_input_path": "serving_input_example.json"},
    )
    os.symlink(canary, model / "serving_input_example.json")
    result = _cli("from-mlflow", str(model))
    assert result.returncode == 0, result.stderr
    assert "CANARY" not in result.stdout + result.stderr


def test_a_linked_example_inside_the_model_folder_is_read(make_model: Callable[..., Path]) -> None:
    model = make_model(
        {"inputs": '[{"type": "string", "name": "text"}]'},
        saved_input_example_info={"serving_input_path": "serving_input_example.json"},
    )
    (model / "examples.json").write_text(json.dumps({"dataframe_records": [{"text": "inside"}]}), encoding="utf-8")
    os.symlink(model / "examples.json", model / "serving_input_example.json")
    assert "inside" in json.dumps(document_from_mlflow(model))


def test_a_linked_mlmodel_outside_the_model_folder_is_refused(make_model: Callable[..., Path], tmp_path: Path) -> None:
    elsewhere = make_model({"inputs": '[{"type": "string", "name": "text"}]'}, name="elsewhere")
    folder = tmp_path / "model-with-link"
    folder.mkdir()
    os.symlink(elsewhere / "MLmodel", folder / "MLmodel")
    result = _cli("from-mlflow", str(folder))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "outside the model folder" in result.stderr
    # Naming the file itself is the user's choice.
    assert _cli("from-mlflow", str(folder / "MLmodel")).returncode == 0


BIG = "9" * 5000


def _tensor(dimension: object) -> str:
    return '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, ' + str(dimension) + "]}}]"


def _param(kind: str, default: object) -> str:
    return '[{"name": "k", "type": "' + kind + '", "default": ' + str(default) + "}]"


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (
            {"inputs": f'[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, {BIG}]}}}}]'},
            "signature.inputs holds an integer of more than 4,300 digits",
        ),
        (
            {"inputs": _tensor(2**70)},
            "tensor-spec.shape[1]: 1180591620717411303424 is not a dimension",
        ),
        (
            {
                "inputs": '[{"type": "string", "name": "t"}]',
                "params": _param("long", 2**64),
            },
            "signature.params.k.default: the integer 18446744073709551616 does not fit",
        ),
        (
            {
                "inputs": '[{"type": "string", "name": "t"}]',
                "params": _param("integer", 2**40),
            },
            "signature.params.k.default: the integer 1099511627776 does not fit -2147483648 to 2147483647",
        ),
        (
            {
                "inputs": '[{"type": "string", "name": "t"}]',
                "params": f'[{{"name": "k", "type": "long", "default": {BIG}}}]',
            },
            "signature.params holds an integer of more than 4,300 digits",
        ),
        (
            {
                "inputs": '[{"type": "string", "name": "t"}]',
                "params": f'[{{"name": "k", "type": "long", "default": "{BIG}"}}]',
            },
            "signature.params.k.default",
        ),
        (
            {
                "inputs": '[{"type": "string", "name": "t"}]',
                "params": _param("double", 10**400),
            },
            "signature.params.k.default: the integer of 401 digits is beyond any double",
        ),
        (
            {"inputs": '[{"type": "string", "name": "t"}]', "params": _param("double", "NaN")},
            "signature.params.k.default: nan is not a finite number",
        ),
        (
            {"inputs": '[{"type": "string", "name": "t"}]', "params": _param("double", '"1e999"')},
            "signature.params.k.default: '1e999' is not a finite number",
        ),
    ],
)
def test_huge_integers_in_signatures_give_one_line_errors(
    make_model: Callable[..., Path], signature: dict[str, Any], message: str
) -> None:
    result = _cli("from-mlflow", str(make_model(signature)))
    assert result.returncode == 2, result.stdout[:300]
    assert result.stderr.count("\n") == 1, result.stderr
    assert "internal error" not in result.stderr
    assert message in result.stderr, result.stderr


def test_a_large_double_default_works_as_a_number(make_model: Callable[..., Path]) -> None:
    signature = {
        "inputs": '[{"type": "string", "name": "t"}]',
        "params": _param("double", 2**70),
    }
    result = _cli("from-mlflow", str(make_model(signature)))
    assert result.returncode == 0, result.stderr
    assert '"default": 1.1805916207174113e+21' in result.stdout


def test_a_huge_integer_anywhere_in_the_mlmodel_yaml_gives_one_line(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text(
        f'flavors: {{}}\nsignature:\n  inputs: \'[{{"type": "string", "name": "t"}}]\'\nmodel_size_bytes: {BIG}\n',
        encoding="utf-8",
    )
    result = _cli("from-mlflow", str(model))
    assert result.returncode == 2
    assert "integer of more than 4,300 digits" in result.stderr
    assert result.stderr.count("\n") == 1


def test_an_example_with_a_huge_integer_is_left_out(make_model: Callable[..., Path]) -> None:
    model = make_model(
        {"inputs": '[{"type": "long", "name": "n"}]'},
        saved_input_example_info={"serving_input_path": "serving_input_example.json"},
    )
    (model / "serving_input_example.json").write_text(
        '{"dataframe_records": [{"n": ' + str(2**70) + "}]}", encoding="utf-8"
    )
    result = _cli("from-mlflow", str(model))
    assert result.returncode == 0, result.stderr
    assert "examples" not in result.stdout


def test_document_from_signature_refuses_a_huge_shape_with_mlflow_error() -> None:
    inputs = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 10**30]}}]
    with pytest.raises(MlflowError, match=r"shape\[1\]"):
        document_from_signature({"inputs": inputs}, endpoint="e", served_model="m")
