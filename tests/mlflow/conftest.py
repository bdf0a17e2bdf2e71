"""Fixtures for the MLflow bridge: signatures built with MLflow's own types, model folders, an isolated MLflow.

Nothing here reaches the network: MLflow's tracking store is a folder under pytest's tmp dir, telemetry is
off, and model servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _signature_dicts() -> dict[str, dict[str, Any]]:
    """Every signature the tests use, as MLflow writes it into MLmodel (JSON strings)."""
    import numpy as np
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

    def sig(inputs: Any, outputs: Any = None, params: Any = None) -> dict[str, Any]:
        return dict(ModelSignature(inputs, outputs, params).to_dict())

    every_param = ParamSchema(
        [
            ParamSpec("temperature", "double", 0.5),
            ParamSpec("top_k", "long", 3),
            ParamSpec("seed", "integer", np.int32(7)),
            ParamSpec("scale", "float", np.float32(1.5)),
            ParamSpec("verbose", "boolean", True),
            ParamSpec("prefix", "string", "hi"),
            ParamSpec("as_of", "datetime", np.datetime64("2024-01-01T00:00:00")),
            ParamSpec("stop", "string", ["\n", "END"], (-1,)),
            ParamSpec("weights", "double", [0.25, 0.75], (-1,)),
            ParamSpec("ids", "long", [1, 2], (-1,)),
            ParamSpec("options", Object([Property("depth", "long")]), {"depth": 2}),
        ]
    )
    return {
        "docs_example": sig(
            Schema(
                [
                    ColSpec("long", "int_col"),
                    ColSpec("double", "float_col", required=False),
                    ColSpec("string", "string_col", required=False),
                ]
            ),
            Schema([ColSpec("double")]),
            ParamSchema([ParamSpec("sentiment", "double", 0.5)]),
        ),
        "every_type": sig(
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
                    ColSpec(Array(Array("double")), "matrix"),
                    ColSpec(Object([Property("x", "long"), Property("label", "string", required=False)]), "point"),
                    ColSpec(Array(Object([Property("tags", Array("string"))])), "items"),
                    ColSpec(Map("double"), "scores"),
                    ColSpec(Map(Array("string")), "aliases"),
                    ColSpec(AnyType(), "anything"),
                    ColSpec("string", "note", required=False),
                    ColSpec("long", "maybe_count", required=False),
                    ColSpec(Array("string"), "maybe_list", required=False),
                ]
            ),
            Schema([ColSpec("string")]),
            every_param,
        ),
        "tensor": sig(
            Schema([TensorSpec(np.dtype("float32"), (-1, 28, 28))]),
            Schema([TensorSpec(np.dtype("int64"), (-1,))]),
            ParamSchema([ParamSpec("threshold", "double", 0.5)]),
        ),
        "named_tensors": sig(
            Schema(
                [
                    TensorSpec(np.dtype("int64"), (-1, 2), "pair"),
                    TensorSpec(np.dtype("float64"), (-1,), "weight"),
                    TensorSpec(np.dtype("uint8"), (-1, 2, 2), "pixels"),
                    TensorSpec(np.dtype("bool"), (-1, 3), "mask"),
                    TensorSpec(np.dtype("str"), (-1,), "word"),
                ]
            ),
            Schema([TensorSpec(np.dtype("float32"), (-1, 2), "probabilities")]),
        ),
        "unnamed_columns": sig(Schema([ColSpec("string"), ColSpec("double")]), Schema([ColSpec("long")])),
        "named_outputs": sig(
            Schema([ColSpec("string", "text")]),
            Schema([ColSpec("double", "score"), ColSpec("string", "label", required=False)]),
        ),
        "no_outputs": sig(Schema([ColSpec("string", "text")])),
    }


_SIGNATURES: dict[str, dict[str, Any]] | None = None


def signature_dicts() -> dict[str, dict[str, Any]]:
    global _SIGNATURES
    if _SIGNATURES is None:
        _SIGNATURES = _signature_dicts()
    return _SIGNATURES


def write_model(folder: Path, signature: dict[str, Any] | None, **extra: Any) -> Path:
    """A model folder with an MLmodel file as MLflow 3 writes it (flavors, signature as JSON strings)."""
    folder.mkdir(parents=True, exist_ok=True)
    mlmodel: dict[str, Any] = {
        "flavors": {"python_function": {"loader_module": "mlflow.pyfunc.model", "python_version": "3.11.7"}},
        "mlflow_version": "3.17.2",
        "is_signature_from_type_hint": False,
        **extra,
    }
    if signature is not None:
        mlmodel["signature"] = signature
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def signatures() -> dict[str, dict[str, Any]]:
    return signature_dicts()


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory, signatures: dict[str, dict[str, Any]]) -> dict[str, Path]:
    """One model folder per test signature."""
    base = tmp_path_factory.mktemp("mlflow-models")
    return {name: write_model(base / name, signature) for name, signature in signatures.items()}


@pytest.fixture
def make_model(tmp_path: Path) -> Callable[..., Path]:
    def make(signature: dict[str, Any] | None, name: str = "model", **extra: Any) -> Path:
        return write_model(tmp_path / name, signature, **extra)

    return make


@pytest.fixture(scope="session")
def mlflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for MLflow subprocesses: a local file store, no telemetry, nothing from the user's setup."""
    # A folder MLflow creates itself: it sets up the default experiment only in a new store.
    store = tmp_path_factory.mktemp("mlflow-store") / "mlruns"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "DATABRICKS_")) and key not in ("HTTP_PROXY", "HTTPS_PROXY")
    }
    env.update(
        {
            "MLFLOW_TRACKING_URI": store.as_uri(),
            "MLFLOW_REGISTRY_URI": store.as_uri(),
            # MLflow 3 refuses the folder store unless asked; it needs no database and no server.
            "MLFLOW_ALLOW_FILE_STORE": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONWARNINGS": "ignore",
            # MLflow's error messages print sets; a fixed hash seed keeps their order, and the recorded table, stable.
            "PYTHONHASHSEED": "0",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


# -- MLflow's real scoring server (marker `mlflow`) -----------------------------------------------


@dataclass
class ScoringServer:
    """One `mlflow.pyfunc.scoring_server` (uvicorn) serving one saved model on 127.0.0.1."""

    name: str
    model_dir: Path
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    validator: Any = field(default=None)


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory: pytest.TempPathFactory, mlflow_env: dict[str, str]) -> Path:
    """Every model `save_models.py` saves (the echo models and the two agents), saved once per session."""
    base = tmp_path_factory.mktemp("agreement")
    saved = subprocess.run(
        [sys.executable, str(HERE / "save_models.py"), str(base)],
        env=mlflow_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
    return base


@contextlib.contextmanager
def scoring_servers(base: Path, names: tuple[str, ...], env: dict[str, str]) -> Iterator[dict[str, ScoringServer]]:
    """Start one scoring server per saved model, wait until each answers /ping, stop them all afterwards."""
    started: dict[str, ScoringServer] = {}
    try:
        for name in names:
            # The listening socket is bound here and handed to uvicorn, so no other process can take the port.
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            port = listener.getsockname()[1]
            log = base / f"{name}.log"
            with log.open("wb") as log_file:
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "--fd",
                        str(listener.fileno()),
                        "--log-level",
                        "warning",
                        "mlflow.pyfunc.scoring_server.app:app",
                    ],
                    env={**env, "__pyfunc_model_path__": str(base / name)},
                    pass_fds=[listener.fileno()],
                    stdout=subprocess.DEVNULL,
                    stderr=log_file,
                )
            listener.close()
            started[name] = ScoringServer(name, base / name, f"http://127.0.0.1:{port}", process, log)
        for server in started.values():
            _wait_until_ready(server)
        yield started
    finally:
        for server in started.values():
            server.process.terminate()
        for server in started.values():
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=15)


def _wait_until_ready(server: ScoringServer, budget: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"{server.name} scoring server exited: {server.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{server.name} scoring server not ready after {budget:.0f} s: {server.log.read_text()[-3000:]}")
