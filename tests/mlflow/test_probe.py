"""`schemakit probe` against MLflow's real scoring server (marker `mlflow`).

Echo models (every column type, a tensor, named tensors, the two agents, and one with optional integer
columns), each served by `mlflow.pyfunc.scoring_server` on 127.0.0.1, are probed with payloads generated
from the document `mlflow:MODEL` builds. What the probe finds is compared with the committed
`probe-results.json`: the known disagreements stay known (MLflow accepting and silently converting values
the schema refuses; agents refusing requests their documents allow; nulls in integer columns, which both
refuse, are no longer one), and a new one (or one MLflow fixed) fails the test with the payload and the server's answer.

Regenerate after a deliberate change:
    SCHEMAKIT_PROBE_RESULTS=write .venv/bin/python -m pytest -m mlflow tests/mlflow/test_probe.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemakit import load
from schemakit._io import atomic_write_bytes, dump_json_stable
from schemakit.probe.report import ProbeReport, render_probe
from schemakit.probe.runner import ProbeOptions, open_target, run_probe

from .conftest import ScoringServer, scoring_servers

pytestmark = pytest.mark.mlflow

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "probe-results.json"
MODELS = ("columns", "tensor", "named", "chat-agent", "responses-agent")

_SAVE_OPTIONAL_INTEGERS = """
import sys, warnings
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema
import mlflow.pyfunc
warnings.simplefilter("ignore")
signature = ModelSignature(
    Schema([ColSpec("string", "text"), ColSpec("long", "maybe_long", required=False),
            ColSpec("integer", "maybe_int", required=False)]),
    Schema([ColSpec("string")]),
)
mlflow.pyfunc.save_model(sys.argv[1], python_model=sys.argv[2], signature=signature)
"""


@pytest.fixture(scope="module")
def probed(saved_models: Path, mlflow_env: dict[str, str]) -> dict[str, ProbeReport]:
    if not (saved_models / "optional-integers").exists():
        saved = subprocess.run(
            [
                sys.executable,
                "-c",
                _SAVE_OPTIONAL_INTEGERS,
                str(saved_models / "optional-integers"),
                str(HERE / "echo_model.py"),
            ],
            env=mlflow_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert saved.returncode == 0, saved.stderr[-3000:]
    reports: dict[str, ProbeReport] = {}
    with scoring_servers(saved_models, (*MODELS, "optional-integers"), mlflow_env) as servers:
        for name, server in servers.items():
            reports[name] = _probe(server)
    return reports


def _probe(server: ScoringServer) -> ProbeReport:
    schema = load(f"mlflow:{server.model_dir}")
    options = ProbeOptions(budget=2_000, rate=0, concurrency=4, deadline=240, request_timeout=30)
    return run_probe(schema, open_target(schema, f"{server.url}/invocations"), options, spec=server.name)


def _observed(probed: dict[str, ProbeReport]) -> dict[str, dict[str, str]]:
    return {
        name: {f"{o.case.format} | {o.case.label}": o.kind for o in report.disagreements}
        for name, report in sorted(probed.items())
    }


def test_every_case_was_sent_and_answered(probed: dict[str, ProbeReport]) -> None:
    for name, report in probed.items():
        assert report.not_done == [], (name, report.not_done)
        assert report.judged == report.sent, name
        assert not [o for o in report.outcomes() if o.kind == "server-error"], name


def test_integer_nulls_are_refused_by_both(probed: dict[str, ProbeReport]) -> None:
    # Once the known disagreement: check now refuses a null in an integer column (`integer-null`), as MLflow does.
    report = probed["optional-integers"]
    outcomes = {(o.case.format, o.case.label): o for o in report.outcomes()}
    for fmt in ("dataframe_split", "dataframe_records"):
        for column in ("maybe_long", "maybe_int"):
            outcome = outcomes[(fmt, f"{column}: null")]
            assert not outcome.case.valid
            assert outcome.case.rules == ("integer-null",)
            assert outcome.kind == "agree"
            assert outcome.to_json()["status"] == 400


def test_the_disagreements_are_the_committed_ones(probed: dict[str, ProbeReport]) -> None:
    observed = _observed(probed)
    if os.environ.get("SCHEMAKIT_PROBE_RESULTS") == "write":
        atomic_write_bytes(RESULTS, dump_json_stable(observed))
    committed = json.loads(RESULTS.read_text(encoding="utf-8"))
    if observed != committed:
        reports = "\n".join(render_probe(report, "text") for report in probed.values())
        pytest.fail(
            "the probe's disagreements with MLflow's scoring server changed (regenerate with "
            f"SCHEMAKIT_PROBE_RESULTS=write after checking them):\n{reports}"
        )


def test_an_mlflow_target_starts_and_stops_the_scoring_server(saved_models: Path, mlflow_env: dict[str, str]) -> None:
    import re

    import httpx

    model = saved_models / "positional"
    root = HERE.parents[1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemakit",
            "probe",
            f"mlflow:{model}",
            "--target",
            f"mlflow:{model}",
            "--budget",
            "8",
            "--format",
            "json",
        ],
        env={**mlflow_env, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=root,
    )
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert data["sent"] == 8
    assert data["judged"] == 8
    url = re.search(r"http://127\.0\.0\.1:\d+", data["target"])
    assert url is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url.group(0)}/ping", timeout=2)  # stopped when the run ended
