"""Save the agreement suite's models: `python save_models.py OUT_DIR` writes one MLflow pyfunc model per signature.

Run in its own interpreter (MLflow's pyfunc module warns on import and keeps global state), with the
MLflow environment of `conftest.mlflow_env`. The models are `echo_model.py` (models from code: nothing
is pickled) with the signatures below: every column type, unnamed (positional) columns, a tensor, named tensors;
and two agents built on MLflow's agent classes, `chat_agent_model.py` (`mlflow.pyfunc.ChatAgent`) and
`responses_agent_model.py` (`mlflow.pyfunc.ResponsesAgent`), whose signatures, task metadata and
`serving_input_example.json` MLflow writes itself from the input examples below.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def signatures() -> dict[str, object]:
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import (
        AnyType,
        Array,
        ColSpec,
        Map,
        Object,
        ParamSchema,
        ParamSpec,
        Property,
        Schema,
        TensorSpec,
    )

    echo = Schema([ColSpec("string")])
    return {
        "columns": ModelSignature(
            Schema(
                [
                    ColSpec("boolean", "flag"),
                    ColSpec("integer", "count32"),
                    ColSpec("long", "count64"),
                    ColSpec("float", "ratio32"),
                    ColSpec("double", "ratio64"),
                    ColSpec("string", "text"),
                    ColSpec("binary", "blob"),
                    ColSpec("datetime", "when"),
                    ColSpec(Array("long"), "ids"),
                    ColSpec(Object([Property("x", "long"), Property("label", "string", required=False)]), "point"),
                    ColSpec(Map("double"), "scores"),
                    ColSpec(AnyType(), "anything"),
                    ColSpec("string", "note", required=False),
                ]
            ),
            echo,
            ParamSchema(
                [
                    ParamSpec("temperature", "double", 0.5),
                    ParamSpec("top_k", "long", 3),
                    ParamSpec("seed", "integer", np.int32(7)),
                    ParamSpec("scale", "float", np.float32(1.5)),
                    ParamSpec("verbose", "boolean", True),
                    ParamSpec("prefix", "string", "hi"),
                    ParamSpec("as_of", "datetime", np.datetime64("2024-01-01T00:00:00")),
                    ParamSpec("stop", "string", ["END"], (-1,)),
                ]
            ),
        ),
        "positional": ModelSignature(Schema([ColSpec("string"), ColSpec("double")]), echo),
        "tensor": ModelSignature(
            Schema([TensorSpec(np.dtype("float32"), (-1, 3))]),
            echo,
            ParamSchema([ParamSpec("threshold", "double", 0.5)]),
        ),
        "named": ModelSignature(
            Schema([TensorSpec(np.dtype("int64"), (-1, 2), "pair"), TensorSpec(np.dtype("float64"), (-1,), "weight")]),
            echo,
        ),
    }


def main(out: Path) -> None:
    with warnings.catch_warnings():
        # MLflow nags about type hints and input examples; the signatures here are explicit on purpose.
        warnings.simplefilter("ignore", UserWarning)
        import mlflow.pyfunc

        for name, signature in signatures().items():
            mlflow.pyfunc.save_model(str(out / name), python_model=str(HERE / "echo_model.py"), signature=signature)
        for name, example in AGENT_EXAMPLES.items():
            code = HERE / f"{name.replace('-', '_')}_model.py"
            mlflow.pyfunc.save_model(str(out / name), python_model=str(code), input_example=example)


#: The agents' input examples, as a client would send them; MLflow saves each as serving_input_example.json.
AGENT_EXAMPLES: dict[str, dict[str, object]] = {
    "chat-agent": {
        "messages": [{"role": "user", "content": "Hello!"}],
        "context": {"conversation_id": "c-1", "user_id": "u-1"},
        "custom_inputs": {"k": "v"},
    },
    "responses-agent": {
        "input": [{"role": "user", "content": "Hello!"}],
        "custom_inputs": {"k": "v"},
        "databricks_options": {"return_trace": True},
    },
}


if __name__ == "__main__":
    main(Path(sys.argv[1]))
