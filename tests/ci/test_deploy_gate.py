"""The deploy gate: the live endpoint (the emulator) against a candidate MLflow model; CLI and action mode.

The live endpoint serves house-prices-3 (tests/mlflow/models/house-prices); the candidate
(house-prices-candidate) adds a required column `floor`, so requests that worked would fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from actions import ROOT, run_action

from schemakit.testing import MockServer

MODELS = ROOT / "tests" / "mlflow" / "models"
LIVE = f"mlflow:{MODELS / 'house-prices'}#endpoint=house-prices&served-model=house-prices-3"
CANDIDATE = f"mlflow:{MODELS / 'house-prices-candidate'}#endpoint=house-prices&served-model=house-prices-4"
SAME = f"mlflow:{MODELS / 'house-prices'}#endpoint=house-prices&served-model=house-prices-4"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([LIVE]) as running:
        yield running


def _env(server: MockServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "GITHUB_", "MLFLOW_"))}
    return {**env, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": server.token}


def gate(server: MockServer, *args: str) -> subprocess.CompletedProcess[str]:
    from ..conftest import run_cli_in_process  # in process, through main()'s error translation

    return run_cli_in_process("diff", "endpoint:house-prices", *args, "--gate", env=_env(server))


def test_a_candidate_with_a_new_required_column_is_blocked(server: MockServer) -> None:
    result = gate(server, CANDIDATE)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("deploy gate: endpoint:house-prices (live) -> mlflow:")
    assert lines[1] == "requests that worked stop working: 2"
    assert "house-prices-4: dataframe_split column floor: required column floor (long) added" in lines[2]
    assert "responses change shape: none" in lines
    assert (
        lines[-1]
        == "BLOCK: the new version breaks callers (2 request change(s), 0 response change(s)) (fail on: breaking)"
    )


def test_the_same_signature_under_a_new_version_is_safe(server: MockServer) -> None:
    result = gate(server, SAME)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "SAFE: callers' requests keep working and responses keep their shape (fail on: breaking)"
    )


def test_fail_on_never_still_says_it_breaks_callers(server: MockServer) -> None:
    result = gate(server, CANDIDATE, "--fail-on", "never")
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1].startswith("BREAKS CALLERS (2 request change(s), 0 response change(s); not")


def test_a_file_from_from_mlflow_works_as_the_candidate(server: MockServer, tmp_path: Path) -> None:
    document = tmp_path / "candidate.json"
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemakit",
            "from-mlflow",
            str(MODELS / "house-prices-candidate"),
            "--endpoint",
            "house-prices",
            "--served-model",
            "house-prices-4",
            "-o",
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    markdown = gate(server, str(document), "--format", "markdown")
    assert markdown.returncode == 1
    assert markdown.stdout.startswith("### Deploy gate: ❌ BLOCK: the new version breaks callers")
    assert "**requests that worked stop working**: 2" in markdown.stdout


def test_the_gate_writes_only_text_or_markdown(server: MockServer) -> None:
    result = gate(server, CANDIDATE, "--format", "junit")
    assert result.returncode == 2
    assert "--gate writes text or markdown" in result.stderr


def test_the_actions_deploy_gate_mode(server: MockServer, tmp_path: Path) -> None:
    workdir = tmp_path / "repo"
    workdir.mkdir()
    inputs = {"mode": "deploy-gate", "old": "endpoint:house-prices", "new": CANDIDATE, "install": "none"}
    run = run_action(inputs, workdir, env={"DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": server.token})
    assert run.returncode == 1, run.stderr
    assert run.summary.startswith("### Deploy gate: ❌ BLOCK: the new version breaks callers")
    assert "### Schema diff for `house-prices`: ❌ breaking changes" in run.summary
    assert (run.outputs["breaking"], run.outputs["failed"]) == ("2", "true")
    assert server.token not in run.stdout + run.stderr + run.summary


# -- the registry flow: mlflow:models:/NAME/VERSION, and the bundle's gate task -----------------------

_REGISTER = """
import sys, warnings
warnings.simplefilter("ignore")
import mlflow
from mlflow.models import Model

for folder in sys.argv[2:]:
    signature = Model.load(folder).signature
    with mlflow.start_run():
        mlflow.pyfunc.log_model(name="model", python_model=sys.argv[1], signature=signature,
                                registered_model_name="house_prices")
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A local MLflow registry with house_prices versions 1 (the live signature) and 2 (the candidate)."""
    pytest.importorskip("mlflow")
    store = tmp_path_factory.mktemp("mlflow") / "mlruns"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DATABRICKS_", "GITHUB_"))}
    env.update(
        {
            "MLFLOW_TRACKING_URI": store.as_uri(),
            "MLFLOW_REGISTRY_URI": store.as_uri(),
            "MLFLOW_ALLOW_FILE_STORE": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONWARNINGS": "ignore",
        }
    )
    echo_model = ROOT / "tests" / "mlflow" / "echo_model.py"
    folders = [str(MODELS / "house-prices"), str(MODELS / "house-prices-candidate")]
    result = subprocess.run(
        [sys.executable, "-c", _REGISTER, str(echo_model), *folders],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return env


@pytest.mark.mlflow
def test_the_gate_reads_the_candidate_from_the_registry(registry: dict[str, str]) -> None:
    with MockServer([f"mlflow:{MODELS / 'house-prices'}#endpoint=house-prices&served-model=house_prices-1"]) as live:
        env = {**registry, "DATABRICKS_HOST": live.url, "DATABRICKS_TOKEN": live.token}
        candidate = "mlflow:models:/house_prices/2#endpoint=house-prices&served-model=house_prices-2"
        result = subprocess.run(
            [sys.executable, "-m", "schemakit", "diff", "endpoint:house-prices", candidate, "--gate"],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        assert result.stdout.splitlines()[1] == "requests that worked stop working: 2"
        same = candidate.replace("/2#", "/1#").replace("house_prices-2", "house_prices-1")
        assert (
            subprocess.run(
                [sys.executable, "-m", "schemakit", "diff", "endpoint:house-prices", same, "--gate"],
                capture_output=True,
                text=True,
                env=env,
                timeout=180,
                check=False,
            ).returncode
            == 0
        )


@pytest.mark.mlflow
def test_the_bundles_gate_task(registry: dict[str, str]) -> None:
    script = ROOT / "docs" / "recipes" / "databricks-bundle" / "deploy_gate.py"
    with MockServer([f"mlflow:{MODELS / 'house-prices'}#endpoint=house-prices&served-model=house_prices-1"]) as live:
        env = {**registry, "DATABRICKS_HOST": live.url, "DATABRICKS_TOKEN": live.token}

        def task(candidate: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, str(script), "house-prices", "house_prices", candidate],
                capture_output=True,
                text=True,
                env=env,
                timeout=180,
                check=False,
            )

        blocked = task("2")
        assert blocked.returncode == 1, blocked.stderr
        assert blocked.stdout.splitlines()[-1].startswith("BLOCK: the new version breaks callers")
        assert task("1").returncode == 0
