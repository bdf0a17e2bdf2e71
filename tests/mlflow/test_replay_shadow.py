"""Shadow replay against MLflow's real scoring server of a changed model (marker `mlflow`).

Version 1 of a model serves twelve requests from three callers on MLflow's scoring server; their answers are
logged as an AI Gateway inference table. Version 2 answers differently for x > 5 only. `replay --against` the
scoring server of version 2 reports those six answers, and nothing else, per caller, within its budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from schemakit.table.shadow import shadow_replay

from .conftest import scoring_servers

pytestmark = pytest.mark.mlflow

HERE = Path(__file__).resolve().parent
CALLERS = ("svc-a", "svc-b", "svc-c")

_SAVE = """
import json, sys, warnings
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema
import mlflow.pyfunc
warnings.simplefilter("ignore")
signature = ModelSignature(Schema([ColSpec("double", "x")]), Schema([ColSpec("double")]))
mlflow.pyfunc.save_model(sys.argv[1], python_model=sys.argv[2], signature=signature, model_config=json.loads(sys.argv[3]))
"""


def test_shadow_replay_reports_the_changed_answers_and_nothing_else(
    tmp_path: Path, mlflow_env: dict[str, str], run_cli
) -> None:
    for name, config in (("v1", {}), ("v2", {"bump": 5})):
        saved = subprocess.run(
            [sys.executable, "-c", _SAVE, str(tmp_path / name), str(HERE / "shadow_model.py"), json.dumps(config)],
            env=mlflow_env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert saved.returncode == 0, saved.stderr[-3000:]
    table = tmp_path / "inference.jsonl"
    with scoring_servers(tmp_path, ("v1", "v2"), mlflow_env) as servers:
        lines = []
        with httpx.Client(timeout=30) as client:
            for i in range(12):
                body = json.dumps({"dataframe_records": [{"x": float(i)}]})
                answer = client.post(
                    f"{servers['v1'].url}/invocations", content=body, headers={"Content-Type": "application/json"}
                )
                assert answer.status_code == 200, answer.text
                lines.append(
                    json.dumps(
                        {
                            "request_date": "2026-03-01",
                            "request_time": f"2026-03-01T12:00:{i:02d}Z",
                            "status_code": 200,
                            "request": body,
                            "response": answer.text,
                            "served_entity_id": "entity-v1",
                            "requester": CALLERS[i % 3],
                            "logging_error_codes": [],
                        }
                    )
                )
        table.write_text("\n".join(lines) + "\n")
        spec = f"mlflow:{tmp_path / 'v2'}"
        target = f"{servers['v2'].url}/invocations"
        report = shadow_replay(table, spec, target, budget=12, rate=0, deadline=120)
        same = shadow_replay(table, spec, f"{servers['v1'].url}/invocations", budget=12, rate=0)
        result = run_cli("replay", spec, str(table), "--against", target, "--budget", "12", "--rate", "0")
    assert (report.sent, report.not_sent, report.eligible) == (12, 0, 12)
    changed_rows = sorted(row for c in report.callers for row, _, _ in c.examples)
    assert changed_rows == [6, 7, 8, 9, 10, 11]
    assert {c.caller: (c.sent, c.changed, c.failed) for c in report.callers} == {
        "svc-a": (4, 2, 0),
        "svc-b": (4, 2, 0),
        "svc-c": (4, 2, 0),
    }
    first = report.callers[0].examples[0][2]
    assert [(c.path, c.kind) for c in first] == [("$.predictions[0]", "number")]
    assert (same.ok, same.sent) == (True, 12)
    assert result.returncode == 1, result.stderr
    assert "shadow: 6 of 12 answers changed" in result.stdout
