"""A sample of conformance rows sent to MLflow's real scoring server (marker `mlflow`).

Each planted row of the conformance table goes, as a one-row `dataframe_split` request, to
an MLflow 3.17.2 scoring server serving a model with the conformance signature; the
server's verdict (200 or not) must be check-table's (no error finding in that row), except
where the project refuses on purpose what the server lets through silently changed (the
agreement table of docs/mlflow.md: an int32 overflow reaches the model wrapped, a null in a
required string column reaches it as null).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.mlflow

pa = pytest.importorskip("pyarrow")
pytest.importorskip("mlflow")

sys.path.insert(0, str(Path(__file__).parent))
import conformance  # noqa: E402

from schemakit.table import check_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: (column, rule) the server lets through changed or as null, which the project refuses on purpose (docs/mlflow.md).
DELIBERATE = {("i32", "int-range"), ("text", "type")}

_SAVE = """
import json, sys
import mlflow
from mlflow.models.signature import ModelSignature

class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [0.0] * len(model_input)

signature = ModelSignature.from_dict(json.loads(sys.argv[2]))
mlflow.pyfunc.save_model(sys.argv[1], python_model=Constant(), signature=signature)
"""


def _mlflow_helpers() -> Any:
    spec = importlib.util.spec_from_file_location("mlflow_conftest", ROOT / "tests" / "mlflow" / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    helpers = _mlflow_helpers()
    env = helpers.mlflow_env.__wrapped__(tmp_path_factory) if hasattr(helpers.mlflow_env, "__wrapped__") else None
    if env is None:
        pytest.skip("the MLflow test helpers changed")
    base = tmp_path_factory.mktemp("conformance-mlflow")
    saved = subprocess.run(
        [sys.executable, "-c", _SAVE, str(base / "conformance"), json.dumps(conformance.SIGNATURE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
    with helpers.scoring_servers(base, ("conformance",), env) as servers:
        yield servers["conformance"]


def test_planted_rows_get_the_servers_verdict(server: Any, tmp_path: Path) -> None:
    import httpx

    table = conformance.planted_table()
    spec = tmp_path / "model.json"
    spec.write_text(json.dumps(conformance.model_document()))
    report = check_table(table, str(spec), max_rows_per_finding=1_000)
    refused_rows = {row for f in report.errors for row in f.rows}
    deliberate = {row for f in report.errors if (f.column, f.code) in DELIBERATE for row in f.rows}
    assert deliberate == {1, 3}
    assert {row for f in report.errors if f.code == "integer-null" for row in f.rows} == {4}
    verdicts = {}
    for row in range(table.num_rows):
        body = conformance.request_of(table.slice(row, 1))
        answer = httpx.post(f"{server.url}/invocations", json=body, timeout=30)
        verdicts[row] = answer.status_code
    server_refused = {row for row, status in verdicts.items() if status != 200}
    assert server_refused == refused_rows - deliberate, verdicts
