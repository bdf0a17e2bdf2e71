"""`integer-null` against MLflow 3.17.2's real scoring server (marker `mlflow`).

A model with required and optional int32/int64 columns (and a double and a string for contrast) is served
by MLflow's scoring server; each payload below gets the server's answer and schemakit's verdict on the
document `mlflow:MODEL` builds. The server refuses a null in an integer column, optional or not (pandas
holds the column as NaN floats), and a dataframe_records row that lacks an integer key other rows have (the
DataFrame fills it with NaN); it accepts an integer column left out of every row.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemakit import load
from schemakit.check.validator import compile_validator

from .conftest import ScoringServer, scoring_servers

pytestmark = pytest.mark.mlflow

HERE = Path(__file__).resolve().parent
ROW = {"c32": 1, "c64": 2, "m64": 3, "m32": 4, "d": 1.0, "s": "x"}
SAVE = """
import sys, warnings
warnings.simplefilter("ignore")
import mlflow.pyfunc
from mlflow.models.signature import ModelSignature
from mlflow.types.schema import ColSpec, Schema
columns = [ColSpec("integer", "c32"), ColSpec("long", "c64"), ColSpec("long", "m64", required=False),
           ColSpec("integer", "m32", required=False), ColSpec("double", "d", required=False),
           ColSpec("string", "s", required=False)]
mlflow.pyfunc.save_model(sys.argv[1], python_model=sys.argv[2],
                         signature=ModelSignature(Schema(columns), Schema([ColSpec("string")])))
"""


def _row(**changes: Any) -> dict[str, Any]:
    out = dict(ROW)
    for key, value in changes.items():
        if value is ...:
            del out[key]
        else:
            out[key] = value
    return out


def _split(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"dataframe_split": {"columns": list(ROW), "data": [[row[c] for c in ROW] for row in rows]}}


#: (what, payload, whether the server accepts it, the rule schemakit names when it refuses)
CASES: list[tuple[str, dict[str, Any], bool, str | None]] = [
    ("records: null in an optional long", {"dataframe_records": [_row(m64=None)]}, False, "integer-null"),
    ("records: null in an optional int", {"dataframe_records": [_row(m32=None)]}, False, "integer-null"),
    ("records: null in every row", {"dataframe_records": [_row(m64=None), _row(m64=None)]}, False, "integer-null"),
    ("records: null in one of two rows", {"dataframe_records": [_row(m64=None), _row()]}, False, "integer-null"),
    ("records: null in a required long", {"dataframe_records": [_row(c64=None)]}, False, "type"),
    ("records: key missing in one row", {"dataframe_records": [_row(m64=...), _row()]}, False, "integer-null"),
    ("records: required key missing in one row", {"dataframe_records": [_row(c64=...), _row()]}, False, "required"),
    ("records: key missing in every row", {"dataframe_records": [_row(m64=...), _row(m64=...)]}, True, None),
    ("records: double key missing in one row", {"dataframe_records": [_row(d=...), _row()]}, True, None),
    ("records: null in an optional string", {"dataframe_records": [_row(s=None)]}, True, None),
    ("split: null in an optional long", _split(_row(m64=None)), False, "integer-null"),
    ("split: null in one of two rows", _split(_row(m32=None), _row()), False, "integer-null"),
    ("split: null in a required int", _split(_row(c32=None)), False, "type"),
    ("split: no null", _split(_row(), _row()), True, None),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mlflow_env: dict[str, str]) -> Iterator[ScoringServer]:
    base = tmp_path_factory.mktemp("integer-null")
    saved = subprocess.run(
        [sys.executable, "-c", SAVE, str(base / "ints"), str(HERE / "echo_model.py")],
        env=mlflow_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
    with scoring_servers(base, ("ints",), mlflow_env) as servers:
        running = servers["ints"]
        running.validator = compile_validator(load(f"mlflow:{running.model_dir}").models[0])
        yield running


@pytest.mark.parametrize(("what", "payload", "accepted", "code"), CASES, ids=[case[0] for case in CASES])
def test_integer_null_agrees_with_the_server(
    server: ScoringServer, what: str, payload: dict[str, Any], accepted: bool, code: str | None
) -> None:
    answer = httpx.post(f"{server.url}/invocations", json=payload, timeout=60)
    assert (answer.status_code == 200) is accepted, answer.text[:300]
    report = server.validator.validate(payload)
    assert report.ok is accepted, report.to_text()
    if code is not None:
        assert report.problems[0].code == code, report.to_text()
