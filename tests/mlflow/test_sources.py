"""`mlflow:` sources in every command, MLflow URIs through a local tracking store, and life without MLflow."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent


def cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    from ..conftest import run_cli_in_process  # in process, through main()'s error translation

    return run_cli_in_process(*args, env=env, input=input)


def test_check_reads_an_mlflow_source(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    source = f"mlflow:{model_dirs['docs_example']}"
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"dataframe_split": {"columns": ["int_col"], "data": [[1], [2]]}}))
    assert cli("check", source, str(good)).returncode == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dataframe_records": [{"int_col": 3.5, "float_col": 1.0}]}))
    result = cli("check", source, str(bad))
    assert result.returncode == 1
    assert "int_col" in result.stdout
    assert "3.5" in result.stdout


def test_codegen_reads_an_mlflow_source(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    result = cli("codegen", f"mlflow:{model_dirs['docs_example']}#endpoint=ads", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    package = tmp_path / "ads_client"
    assert (package / "client.py").is_file()
    assert "sentiment" in (package / "models.py").read_text()


def test_diff_of_a_candidate_model_against_the_current_one(make_model: Callable[..., Path]) -> None:
    current = make_model(
        {
            "inputs": '[{"type": "long", "name": "int_col", "required": true}, '
            '{"type": "string", "name": "string_col", "required": false}]',
            "outputs": '[{"type": "double", "required": true}]',
            "params": None,
        },
        name="current",
    )
    same = make_model(
        {
            "inputs": '[{"type": "long", "name": "int_col", "required": true}, '
            '{"type": "string", "name": "string_col", "required": false}]',
            "outputs": '[{"type": "double", "required": true}]',
            "params": None,
        },
        name="same",
    )
    breaking = make_model(
        {
            "inputs": '[{"type": "long", "name": "int_col", "required": true}, '
            '{"type": "string", "name": "string_col", "required": true}]',
            "outputs": '[{"type": "double", "required": true}]',
            "params": None,
        },
        name="breaking",
    )
    names = "#endpoint=ads&served-model=ads-1"
    assert cli("diff", f"mlflow:{current}{names}", f"mlflow:{same}{names}").returncode == 0
    result = cli("diff", f"mlflow:{current}{names}", f"mlflow:{breaking}{names}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "string_col" in result.stdout


def test_mock_serves_an_mlflow_source(model_dirs: dict[str, Path]) -> None:
    command = [sys.executable, "-m", "schemakit", "mock", f"mlflow:{model_dirs['docs_example']}#endpoint=ads"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            base = process.stdout.readline().strip()
            assert base.startswith("http://127.0.0.1:")
            headers = {"Authorization": "Bearer dapi-mock-token"}
            document = httpx.get(f"{base}/api/2.0/serving-endpoints/ads/openapi", headers=headers, timeout=30).json()
            assert list(document["paths"]) == ["/served-models/docs_example/invocations"]
            answer = httpx.post(
                f"{base}/serving-endpoints/ads/invocations",
                headers=headers,
                json={"dataframe_records": [{"int_col": 1}, {"int_col": 2}]},
                timeout=30,
            )
            assert answer.status_code == 200
            assert len(answer.json()["predictions"]) == 2
        finally:
            process.terminate()
            process.wait(timeout=30)


# -- MLflow URIs, through a tracking store in a folder -------------------------------------------------

_LOG_MODEL = """
import json, sys, warnings
warnings.simplefilter("ignore")
import mlflow
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

signature = ModelSignature(
    Schema([ColSpec("long", "int_col"), ColSpec("string", "note", required=False)]),
    Schema([ColSpec("double")]),
    ParamSchema([ParamSpec("sentiment", "double", 0.5)]),
)
import pandas as pd

with mlflow.start_run() as run:
    mlflow.pyfunc.log_model(
        name="model",
        python_model=sys.argv[1],
        signature=signature,
        registered_model_name="ads",
        input_example=(pd.DataFrame({"int_col": [1, 2], "note": ["a", None]}), {"sentiment": 0.7}),
    )
print(json.dumps({"run_id": run.info.run_id}))
"""


@pytest.fixture(scope="module")
def logged_model(mlflow_env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", _LOG_MODEL, str(HERE / "echo_model.py")],
        capture_output=True,
        text=True,
        env=mlflow_env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    logged: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return logged


def test_models_uri_is_read_through_mlflow(logged_model: dict[str, str], mlflow_env: dict[str, str]) -> None:
    result = cli("inspect", "mlflow:models:/ads/1", "--format", "json", env=mlflow_env)
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    # Named as Databricks names it: the endpoint after the model, the served model NAME-VERSION.
    assert (described["title"], described["version"]) == ("ads", "1")
    model = described["models"][0]
    assert model["path"] == "/served-models/ads-1/invocations"
    assert [(c["name"], c["type"], c["required"]) for c in model["columns"]] == [
        ("int_col", "long", True),
        ("note", "string", False),
    ]
    assert model["params"] == [{"name": "sentiment", "type": "double", "default": 0.5}]
    # The logged input example comes along (it is a separate artifact, fetched on its own).
    document = json.loads(cli("from-mlflow", "models:/ads/1", env=mlflow_env).stdout)
    split_branch = document["paths"]["/served-models/ads-1/invocations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"][0]
    assert split_branch["examples"] == [
        {
            "dataframe_split": {"columns": ["int_col", "note"], "data": [[1, "a"], [2, None]]},
            "params": {"sentiment": 0.7},
        }
    ]


def test_runs_uri_is_read_through_mlflow(logged_model: dict[str, str], mlflow_env: dict[str, str]) -> None:
    uri = f"runs:/{logged_model['run_id']}/model"
    result = cli("from-mlflow", uri, "--endpoint", "ads", env=mlflow_env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document["paths"]) == ["/served-models/model/invocations"]
    assert document["info"]["title"] == "ads"


def test_an_unknown_model_uri_is_one_line(logged_model: dict[str, str], mlflow_env: dict[str, str]) -> None:
    result = cli("from-mlflow", "models:/no-such-model/3", env=mlflow_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("schemakit: error: models:/no-such-model/3: cannot resolve through MLflow: ")
    assert "no-such-model" in lines[0]


_WITHOUT_MLFLOW = """
import sys
# Make MLflow unimportable, as in an install without the schemakit[mlflow] extra.
sys.modules["mlflow"] = None
from schemakit.cli.main import main
main(sys.argv[1:])
"""


def without_mlflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_MLFLOW, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_model_folder_needs_no_mlflow(model_dirs: dict[str, Path]) -> None:
    result = without_mlflow("from-mlflow", str(model_dirs["every_type"]))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["info"]["title"] == "every_type"
    inspected = without_mlflow("inspect", f"mlflow:{model_dirs['tensor']}", "--format", "json")
    assert inspected.returncode == 0, inspected.stderr


@pytest.mark.parametrize("uri", ["models:/ads/1", "runs:/0123456789abcdef/model", "mlflow:models:/ads@champion"])
def test_uris_without_mlflow_say_how_to_install_it(uri: str) -> None:
    args = ("inspect", uri) if uri.startswith("mlflow:") else ("from-mlflow", uri)
    result = without_mlflow(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    target = uri.removeprefix("mlflow:")
    assert lines[0] == (
        f"schemakit: error: {target}: reading MLflow URIs needs MLflow; install it with: "
        "pip install 'schemakit[mlflow]' (a model directory or MLmodel file needs no MLflow)"
    )


def test_the_document_is_the_same_whichever_way_it_is_read(model_dirs: dict[str, Path]) -> None:
    folder = model_dirs["every_type"]
    from_folder = json.loads(cli("from-mlflow", str(folder)).stdout)
    from_file = json.loads(cli("from-mlflow", str(folder / "MLmodel")).stdout)
    assert from_folder == from_file
    # A file: URI is a path, read without MLflow.
    from_uri = json.loads(without_mlflow("from-mlflow", folder.as_uri()).stdout)
    assert from_uri == from_folder
