"""Issue 23, the MLflow bridge: a tracking server cannot make `from-mlflow` read local files, and every signature
gets a document `validate` accepts or a one-line error (a field named `$ref`, 150-deep types, 1,000 dimensions).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .hostile import CANARY_TEXT, ROOT, assert_clean, run_cli, run_inprocess

pytestmark = pytest.mark.timeout(120)

HOUSE_PRICES = ROOT / "tests" / "mlflow" / "models" / "house-prices" / "MLmodel"


@pytest.fixture
def local_model(tmp_path: Path) -> Path:
    """A model folder on this machine that no user named: what a hostile tracking server points at."""
    folder = tmp_path / "someone-elses" / "model"
    folder.mkdir(parents=True)
    mlmodel = yaml.safe_load(HOUSE_PRICES.read_text())
    mlmodel["metadata"] = {"note": CANARY_TEXT}
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (folder / "secret.txt").write_text(CANARY_TEXT)
    return folder


@pytest.fixture
def tracking_server(local_model: Path) -> Iterator[tuple[str, list[str]]]:
    """An MLflow tracking server whose every answer names `local_model` as the artifact location."""
    target = local_model.as_uri()
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        do_POST = do_GET

        def _answer(self) -> None:
            seen.append(self.path)
            path = self.path.split("?", 1)[0]
            version = {"name": "m", "version": "1", "source": target, "status": "READY", "storage_location": target}
            body: dict[str, Any] = {}
            if "get-download-uri" in path:
                body = {"artifact_uri": target}
            elif "model-versions/get" in path or "registered-models/alias" in path:
                body = {"model_version": version}
            elif "runs/get" in path:
                info = {"run_id": "r1", "artifact_uri": target, "experiment_id": "0", "status": "FINISHED"}
                body = {"run": {"info": {**info, "lifecycle_stage": "active"}, "data": {}}}
            elif "logged-models" in path:
                body = {"model": {"info": {"model_id": "m-1", "artifact_uri": target, "experiment_id": "0"}}}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("uri", ["models:/m/1", "runs:/r1/model"])
def test_a_tracking_server_cannot_point_from_mlflow_at_local_files(
    uri: str, tracking_server: tuple[str, list[str]], env: dict[str, str], tmp_path: Path
) -> None:
    pytest.importorskip("mlflow")
    url, seen = tracking_server
    out = tmp_path / "doc.json"
    run = run_cli("from-mlflow", uri, "-o", str(out), env={**env, "MLFLOW_TRACKING_URI": url})
    assert seen, "the test's tracking server was never asked"
    assert run.code == 2, str(run)
    assert "local artifact location" in run.err, str(run)
    assert_clean(run)
    assert not out.exists()


def _model(tmp_path: Path, name: str, inputs: list[Any] | str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    signature = {"inputs": inputs if isinstance(inputs, str) else json.dumps(inputs)}
    (folder / "MLmodel").write_text(yaml.safe_dump({"flavors": {"python_function": {}}, "signature": signature}))
    return folder


def _nested(levels: int, make: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "long"}
    for _ in range(levels):
        spec = make(spec)
    return spec


def _array(inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": inner}


def _object(inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"a": inner}}


def _tensor(dimensions: int) -> dict[str, Any]:
    return {"type": "tensor", "name": "t", "tensor-spec": {"dtype": "float32", "shape": [-1] + [2] * (dimensions - 1)}}


REFUSED: dict[str, Any] = {
    "ref-column": [{"type": "long", "name": "$ref"}],
    "ref-field": [{"type": "object", "name": "o", "properties": {"$ref": {"type": "string"}}}],
    "deep-150-arrays": [{"name": "x", **_nested(150, _array)}],
    "deep-150-objects": [{"name": "x", **_nested(150, _object)}],
    "deep-90-objects": [{"name": "x", **_nested(90, _object)}],
    # Deeper than the json module can write: the text is built by hand.
    "deep-5000": '[{"name": "x", ' + '"type": "array", "items": {' * 5000 + '"type": "long"' + "}" * 5000 + "}]",
    "tensor-1000": [_tensor(1000)],
    "tensor-200": [_tensor(200)],
}

ACCEPTED = {
    "deep-100-arrays": [{"name": "x", **_nested(100, _array)}],
    "deep-40-objects": [{"name": "x", **_nested(40, _object)}],
    "tensor-100": [_tensor(100)],
    "dollar-names": [
        {"type": "long", "name": "$id"},
        {"type": "long", "name": "$schema"},
        {"type": "long", "name": "$"},
    ],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_signature_no_document_can_hold_is_a_one_line_error(name: str, tmp_path: Path) -> None:
    model = _model(tmp_path, name, REFUSED[name])
    out = tmp_path / "doc.json"
    run = run_inprocess("from-mlflow", str(model), "-o", str(out))
    assert run.code == 2, str(run)
    assert_clean(run)
    assert not out.exists()
    assert_clean(run_inprocess("inspect", f"mlflow:{model}"), codes=(2,))


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_every_document_from_mlflow_writes_validates(name: str, tmp_path: Path) -> None:
    model = _model(tmp_path, name, ACCEPTED[name])
    out = tmp_path / "doc.json"
    written = run_inprocess("from-mlflow", str(model), "-o", str(out))
    assert written.code == 0, str(written)
    validated = run_inprocess("validate", str(out))
    assert validated.code == 0, str(validated)
