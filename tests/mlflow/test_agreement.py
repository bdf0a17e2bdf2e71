"""Agreement with MLflow's real scoring server (`make test-mlflow`, marker `mlflow`).

The suite saves three pyfunc models (`save_models.py`: every column type, a tensor, named tensors) whose
`predict` echoes what it received, serves each with MLflow's own scoring server on 127.0.0.1, and sends a
corpus of payloads. For each one it records what MLflow did (accepted as sent, accepted but silently
changed, accepted but dropped something, rejected) and what schemakit's validator says about the document
`mlflow:MODEL` builds. It asserts:

- every payload schemakit accepts gets HTTP 200 with one prediction per row, and reaches the model as sent;
- every payload MLflow rejects, schemakit rejects too;
- every payload MLflow accepts but silently changes, schemakit rejects, naming the rule;
- every column or param MLflow silently drops, schemakit warns about;
- what MLflow did is what the corpus says it does, and the whole outcome is the committed
  `agreement-results.json` that `docs/mlflow.md`'s table is rendered from.

Regenerate both after a deliberate change:
    SCHEMAKIT_AGREEMENT_RESULTS=write .venv/bin/python -m pytest -m mlflow tests/mlflow
    .venv/bin/python tests/mlflow/render_agreement.py
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from schemakit import load
from schemakit._io import atomic_write_bytes, dump_json_stable
from schemakit.check.validator import compile_validator

from .conftest import ScoringServer as Server
from .conftest import scoring_servers

pytestmark = pytest.mark.mlflow

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "agreement-results.json"
MODELS = ("columns", "positional", "tensor", "named")

# -- the models' signatures, as the echo comparison needs them (save_models.py has the MLflow form) ----

COLUMNS: dict[str, tuple[str, bool]] = {
    "flag": ("boolean", True),
    "count32": ("integer", True),
    "count64": ("long", True),
    "ratio32": ("float", True),
    "ratio64": ("double", True),
    "text": ("string", True),
    "blob": ("binary", True),
    "when": ("datetime", True),
    "ids": ("array", True),
    "point": ("object", True),
    "scores": ("map", True),
    "anything": ("any", True),
    "note": ("string", False),
}
#: The positional model's unnamed columns, as the server names them (by position).
POSITIONAL: dict[str, tuple[str, bool]] = {"0": ("string", True), "1": ("double", True)}
TABLES = {"columns": COLUMNS, "positional": POSITIONAL}
PARAMS: dict[str, str] = {
    "temperature": "double",
    "top_k": "long",
    "seed": "integer",
    "scale": "float",
    "verbose": "boolean",
    "prefix": "string",
    "as_of": "datetime",
    "stop": "list",
}
TENSORS: dict[str, dict[str, str]] = {
    "tensor": {"": "float32"},
    "named": {"pair": "int64", "weight": "float64"},
}
TENSOR_PARAMS: dict[str, dict[str, str]] = {"tensor": {"threshold": "double"}, "named": {}}

ROW: dict[str, Any] = {
    "flag": True,
    "count32": 7,
    "count64": 2**40,
    "ratio32": 0.5,
    "ratio64": 2.25,
    "text": "hello",
    "blob": "aGVsbG8=",
    "when": "2024-05-06T07:08:09",
    "ids": [1, 2, 3],
    "point": {"x": 1, "label": "a"},
    "scores": {"a": 0.5, "b": -1.0},
    "anything": {"k": [1, "two"]},
    "note": "n",
}
ROW2: dict[str, Any] = {
    **ROW,
    "flag": False,
    "count32": -3,
    "count64": -(2**62),
    "ratio32": -0.25,
    "ratio64": 1e300,
    "text": "wörld ✓",
    "blob": "",
    "when": "1999-12-31T23:59:59",
    "ids": [],
    "point": {"x": -5},
    "scores": {},
    "anything": None,
}
ORDER = list(ROW)
DROP = object()


def row(base: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    out = dict(ROW if base is None else base)
    for key, value in changes.items():
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def records(*rows: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"dataframe_records": list(rows), **extra}


def split(*rows: dict[str, Any], columns: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    names = columns or [c for c in ORDER if any(c in r for r in rows)]
    return {"dataframe_split": {"columns": names, "data": [[r.get(c) for c in names] for r in rows], **extra}}


@dataclass(frozen=True)
class Case:
    id: str
    model: str
    #: What MLflow did, as observed: accepted | dropped | changed | rejected.
    expect: str
    payload: Any = None
    #: Raw request bytes, for payloads that are not (strict) JSON.
    raw: bytes | None = None
    note: str = ""


CASES: list[Case] = [
    # -- valid payloads ------------------------------------------------------------------------------
    Case("records: one row, every type", "columns", "accepted", records(ROW)),
    Case("records: three rows", "columns", "accepted", records(ROW, ROW2, ROW)),
    Case("split: one row", "columns", "accepted", split(ROW)),
    Case("split: two rows", "columns", "accepted", split(ROW, ROW2)),
    Case("split: columns reordered", "columns", "accepted", split(ROW, columns=list(reversed(ORDER)))),
    Case("split: with index", "columns", "accepted", split(ROW, index=[7])),
    Case("records: optional column omitted", "columns", "accepted", records(row(note=DROP))),
    Case("records: optional column null", "columns", "accepted", records(row(note=None))),
    Case("split: optional column omitted", "columns", "accepted", split(row(note=DROP))),
    Case("records: integer in a double column", "columns", "accepted", records(row(ratio64=3))),
    Case("records: integer in a float column", "columns", "accepted", records(row(ratio32=2))),
    Case("records: 1.0 in a long column", "columns", "accepted", records(row(count64=1.0))),
    Case("split: 1.0 in a long column", "columns", "accepted", split(row(count64=1.0))),
    Case("records: int64 bounds", "columns", "accepted", records(row(count64=2**63 - 1), row(count64=-(2**63)))),
    Case("records: int32 bounds", "columns", "accepted", records(row(count32=2**31 - 1), row(count32=-(2**31)))),
    Case("records: empty array and map", "columns", "accepted", records(row(ids=[], scores={}))),
    Case("records: object without its optional field", "columns", "accepted", records(row(point={"x": 2}))),
    Case("records: datetime as a date", "columns", "accepted", records(row(when="2024-05-06"))),
    Case("records: any column holds null", "columns", "accepted", records(row(anything=None))),
    Case("records: non-ASCII text", "columns", "accepted", records(row(text="日本語 ✓ \u0000 end"))),
    Case(
        "params: every type",
        "columns",
        "accepted",
        records(
            ROW,
            params={
                "temperature": 0.9,
                "top_k": 5,
                "seed": 11,
                "scale": 0.25,
                "verbose": False,
                "prefix": "p",
                "as_of": "2025-02-03T04:05:06",
                "stop": ["a", "b"],
            },
        ),
    ),
    Case("params: integer for a double", "columns", "accepted", records(ROW, params={"temperature": 1})),
    Case("params: empty list", "columns", "accepted", records(ROW, params={"stop": []})),
    Case("params: none sent, defaults used", "columns", "accepted", {**split(ROW), "params": {}}),
    Case(
        "positional: split rows without columns", "positional", "accepted", {"dataframe_split": {"data": [["x", 1.5]]}}
    ),
    Case("positional: an integer for the double", "positional", "accepted", {"dataframe_split": {"data": [["x", 2]]}}),
    Case("tensor: instances", "tensor", "accepted", {"instances": [[1.5, 2.5, 3.5], [4.0, 5.0, 6.0]]}),
    Case("tensor: inputs", "tensor", "accepted", {"inputs": [[0.25, -1.0, 2.0]]}),
    Case("tensor: integers in a float32 tensor", "tensor", "accepted", {"inputs": [[1, 2, 3]]}),
    Case("tensor: with params", "tensor", "accepted", {"inputs": [[1.0, 2.0, 3.0]], "params": {"threshold": 0.1}}),
    Case("named tensors: instances", "named", "accepted", {"instances": [{"pair": [1, 2], "weight": 0.5}]}),
    Case("named tensors: inputs", "named", "accepted", {"inputs": {"pair": [[1, 2], [3, 4]], "weight": [0.5, 1.5]}}),
    # -- accepted, but something is dropped ------------------------------------------------------------
    Case("records: unknown column", "columns", "dropped", records(row(extra_col=1))),
    Case("params: unknown param", "columns", "dropped", records(ROW, params={"temprature": 0.1})),
    Case("split: unknown column", "columns", "dropped", split(row(extra_col=1), columns=[*ORDER, "extra_col"])),
    # -- accepted, but silently changed ----------------------------------------------------------------
    Case("records: 3.5 in a long column", "columns", "changed", records(row(count64=3.5))),
    Case("split: 3.5 in a long column", "columns", "changed", split(row(count64=3.5))),
    Case("records: 2^63 in a long column", "columns", "changed", records(row(count64=2**63))),
    Case("records: 2^31 in an integer column", "columns", "changed", records(row(count32=2**31))),
    Case("records: 2.5 in an integer column", "columns", "changed", records(row(count32=2.5))),
    Case("records: null in a required string column", "columns", "changed", records(row(text=None))),
    Case("split: null in a required string column", "columns", "changed", split(row(text=None))),
    Case("records: a row without a required key", "columns", "changed", records(ROW, row(text=DROP))),
    Case("records: binary with no base64 letters", "columns", "changed", records(row(blob="@@@@"))),
    Case("positional: a number for the string", "positional", "changed", {"dataframe_split": {"data": [[5, 1.5]]}}),
    Case("records: 1 in a boolean column", "columns", "changed", records(row(flag=1))),
    Case("records: number in a string column", "columns", "changed", records(row(text=5))),
    Case("records: true in a long column", "columns", "changed", records(row(count64=True))),
    Case("records: 1e40 in a float column", "columns", "changed", records(row(ratio32=1e40))),
    Case(
        "records: NaN in a double column",
        "columns",
        "changed",
        raw=json.dumps(records(row(ratio64=float("nan")))).encode(),
    ),
    Case("tensor: 1e40 in a float32 tensor", "tensor", "changed", {"inputs": [[1e40, 1.0, 2.0]]}),
    Case(
        "named tensors: 2.5 in an int64 tensor", "named", "changed", {"inputs": {"pair": [[1, 2.5]], "weight": [0.5]}}
    ),
    Case("records: numeric text in a long column", "columns", "changed", records(row(count64="7"))),
    Case("records: numeric text in a double column", "columns", "changed", records(row(ratio64="2.5"))),
    Case("tensor: null in a float32 tensor", "tensor", "changed", {"inputs": [[None, 1.0, 2.0]]}),
    Case("params: null for a double", "columns", "changed", records(ROW, params={"temperature": None})),
    # -- rejected --------------------------------------------------------------------------------------
    Case("records: text in a double column", "columns", "rejected", records(row(ratio64="abc"))),
    Case("records: no rows", "columns", "rejected", records()),
    Case("split: no rows", "columns", "accepted", {"dataframe_split": {"columns": ORDER, "data": []}}),
    Case("records: null inside an array of long", "columns", "rejected", records(row(ids=[1, None]))),
    Case("records: 1.0 inside an array of long", "columns", "rejected", records(row(ids=[1, 1.0]))),
    Case("records: -2^63-1 in a long column", "columns", "rejected", records(row(count64=-(2**63) - 1))),
    Case("records: binary that is not base64", "columns", "rejected", records(row(blob="not base64!"))),
    Case(
        "records: datetimes in two ISO formats",
        "columns",
        "rejected",
        records(row(when="2024-05-06T07:08:09"), row(when="2024-05-06T07:08:09.5")),
    ),
    Case("records: datetime with UTC offset", "columns", "rejected", records(row(when="2024-05-06T07:08:09+00:00"))),
    Case("records: null in a required long column", "columns", "rejected", records(row(count64=None))),
    Case("records: required column missing in every row", "columns", "rejected", records(row(text=DROP))),
    Case("split: required column not listed", "columns", "rejected", split(row(text=DROP))),
    Case("split: unknown key beside data", "columns", "rejected", split(ROW, orient="split")),
    Case("split: no columns", "columns", "rejected", {"dataframe_split": {"data": [[ROW[c] for c in ORDER]]}}),
    Case(
        "split: row shorter than columns",
        "columns",
        "rejected",
        {"dataframe_split": {"columns": ORDER, "data": [[ROW[c] for c in ORDER][:-1]]}},
    ),
    Case(
        "split: row longer than columns",
        "columns",
        "rejected",
        {"dataframe_split": {"columns": ORDER, "data": [[*(ROW[c] for c in ORDER), 1]]}},
    ),
    Case("records: datetime that is not a date", "columns", "rejected", records(row(when="yesterday"))),
    Case("records: object with an unknown field", "columns", "rejected", records(row(point={"x": 1, "y": 2}))),
    Case("records: object without its required field", "columns", "rejected", records(row(point={"label": "a"}))),
    Case("records: map with a text value", "columns", "rejected", records(row(scores={"a": "high"}))),
    Case("records: 1.5 in an array of long", "columns", "rejected", records(row(ids=[1, 1.5]))),
    Case("records: array given a scalar", "columns", "rejected", records(row(ids=5))),
    Case("two formats at once", "columns", "rejected", {**records(ROW), **split(ROW)}),
    Case("no format key", "columns", "rejected", {"params": {"temperature": 0.5}}),
    Case("unknown format key", "columns", "rejected", {"dataframe": [ROW]}),
    Case("top-level list", "columns", "rejected", [ROW]),
    Case("records: an object, not a list", "columns", "rejected", {"dataframe_records": ROW}),
    Case("params: text for a double", "columns", "rejected", records(ROW, params={"temperature": "abc"})),
    Case("params: numeric text for a double", "columns", "rejected", records(ROW, params={"temperature": "0.9"})),
    Case("params: 3.5 for a long", "columns", "rejected", records(ROW, params={"top_k": 3.5})),
    Case("params: scalar for a list", "columns", "rejected", records(ROW, params={"stop": "END"})),
    Case("params: text for a boolean", "columns", "rejected", records(ROW, params={"verbose": "yes"})),
    Case("params: not a datetime", "columns", "rejected", records(ROW, params={"as_of": "soon"})),
    Case("not JSON", "columns", "rejected", raw=b'{"dataframe_records": [{"flag": tru'),
    Case("positional: text for the double", "positional", "rejected", {"dataframe_split": {"data": [["x", "y"]]}}),
    Case("positional: row too short", "positional", "rejected", {"dataframe_split": {"data": [["x"]]}}),
    Case("tensor: wrong width", "tensor", "rejected", {"inputs": [[1.0, 2.0]]}),
    Case("tensor: text in a float32 tensor", "tensor", "rejected", {"inputs": [["a", 1.0, 2.0]]}),
    Case(
        "tensor: two formats at once",
        "tensor",
        "rejected",
        {"inputs": [[1.0, 2.0, 3.0]], "instances": [[1.0, 2.0, 3.0]]},
    ),
    Case("tensor: ragged rows", "tensor", "rejected", {"instances": [[1.0, 2.0, 3.0], [1.0]]}),
    Case("named tensors: one missing", "named", "rejected", {"inputs": {"pair": [[1, 2]]}}),
    Case("named tensors: wrong inner shape", "named", "rejected", {"inputs": {"pair": [[1, 2, 3]], "weight": [0.5]}}),
]


#: Disagreements this suite found that schemakit's validator does not catch yet (case id: why). The test asserts
#: each one is still there, so the list cannot go stale, and the README table marks them.
KNOWN_GAPS: dict[str, str] = {}


# -- the servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def servers(saved_models: Path, mlflow_env: dict[str, str]) -> Iterator[dict[str, Server]]:
    """MLflow's scoring server (uvicorn on mlflow.pyfunc.scoring_server.app:app), one per model, on 127.0.0.1."""
    with scoring_servers(saved_models, MODELS, mlflow_env) as started:
        for server in started.values():
            server.validator = compile_validator(load(f"mlflow:{server.model_dir}").models[0])
        yield started


# -- what reached the model ------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(sent: Any, got: Any) -> bool:
    """Deep equality where 3 and 3.0 are the same number but True is not 1."""
    if isinstance(sent, bool) or isinstance(got, bool):
        return type(sent) is type(got) and sent == got
    if _is_number(sent) and _is_number(got):
        return bool(sent == got)
    if isinstance(sent, dict) and isinstance(got, dict):
        return sent.keys() == got.keys() and all(_same(sent[k], got[k]) for k in sent)
    if isinstance(sent, list) and isinstance(got, list):
        return len(sent) == len(got) and all(_same(a, b) for a, b in zip(sent, got, strict=True))
    if sent is None:
        return isinstance(got, dict) and set(got) == {"null"}
    return bool(sent == got) and type(sent) is type(got)


def _instant(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _faithful(kind: str, sent: Any, got: Any) -> bool:
    """Whether the value the model got is the value that was sent, for an MLflow type."""
    if kind == "boolean":
        return isinstance(sent, bool) and got is sent
    if kind in ("integer", "long"):
        integral = _is_number(sent) and float(sent).is_integer()
        return integral and isinstance(got, int) and not isinstance(got, bool) and got == sent
    if kind in ("float", "float32"):
        return _is_number(sent) and _is_number(got) and math.isfinite(got) and got == float(np.float32(sent))
    if kind in ("double", "float64"):
        return _is_number(sent) and _is_number(got) and math.isfinite(got) and got == float(sent)
    if kind == "int64":
        return _is_number(sent) and float(sent).is_integer() and got == sent
    if kind == "string":
        return isinstance(sent, str) and got == sent
    if kind == "binary":
        try:
            decoded = base64.b64decode(sent, validate=True) if isinstance(sent, str) else None
        except (binascii.Error, ValueError):
            return False
        return decoded is not None and got == {"bytes": base64.b64encode(decoded).decode()}
    if kind == "datetime":
        if not isinstance(sent, str) or not isinstance(got, dict) or "datetime" not in got:
            return False
        try:
            return _instant(sent) == _instant(got["datetime"])
        except ValueError:
            return False
    return _same(sent, got)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _untag(value: Any) -> Any:
    """The echo's tagged values ({"float": "inf"}, {"null": ...}, {"bytes": ...}) as plain values for display."""
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "float":
            return float(inner)
        if tag == "null":
            return None
        if tag in ("bytes", "datetime"):
            return f"{tag} {inner}" if inner else f"empty {tag}"
    if isinstance(value, dict):
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def _rendered(got: Any) -> str:
    return _short(_untag(got))


def _rows_sent(case: Case) -> list[dict[str, Any]] | None:
    payload = case.payload
    if case.raw is not None:
        try:
            payload = json.loads(case.raw)
        except ValueError:
            return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("dataframe_records"), list):
        return [r if isinstance(r, dict) else {} for r in payload["dataframe_records"]]
    part = payload.get("dataframe_split")
    if isinstance(part, dict) and isinstance(part.get("data"), list):
        names = part.get("columns") or list(TABLES.get(case.model, {}))
        return [dict(zip(names, r, strict=False)) for r in part["data"]]
    for key in ("instances", "inputs"):
        value = payload.get(key)
        if isinstance(value, list):
            return [{"": r} if not isinstance(r, dict) else r for r in value]
        if isinstance(value, dict):
            count = len(next(iter(value.values()), []))
            return [{name: column[i] for name, column in value.items() if i < len(column)} for i in range(count)]
    return None


def _echo_differences(case: Case, predictions: list[Any]) -> tuple[list[str], list[str]]:
    """What the model got that differs from what was sent (changes), and what it never saw (dropped)."""
    payload = json.loads(case.raw) if case.raw is not None else case.payload
    rows = _rows_sent(case) or []
    changes: list[str] = []
    dropped: list[str] = []
    echoes = [json.loads(p) for p in predictions]
    if len(echoes) != len(rows):
        return [f"{len(rows)} row(s) sent, {len(echoes)} prediction(s) returned"], dropped
    for index, (sent_row, echo) in enumerate(zip(rows, echoes, strict=True)):
        if case.model in TABLES:
            table = TABLES[case.model]
            got_columns = echo["columns"]
            for name, (kind, required) in table.items():
                sent = sent_row.get(name, DROP)
                got = got_columns.get(name, {}).get("value", {"null": "absent"})
                dtype = got_columns.get(name, {}).get("dtype", "absent")
                if sent is DROP or sent is None:
                    if required and kind != "any":
                        what = "missing" if sent is DROP else "null"
                        changes.append(
                            f"row {index}, column {name}: {what} in a required column reached the model as "
                            f"{_rendered(got)} ({dtype})"
                        )
                    continue
                if not _faithful(kind, sent, got):
                    changes.append(
                        f"row {index}, column {name}: {_short(sent)} reached the model as {_rendered(got)} ({dtype})"
                    )
            for name in sent_row:
                if name not in table and name not in got_columns:
                    dropped.append(f"column {name}")
        else:
            got_tensors = echo["tensors"] if "tensors" in echo else {"": echo["tensor"]}
            for name, dtype in TENSORS[case.model].items():
                sent, got = sent_row.get(name), got_tensors.get(name, {}).get("value")
                flat_sent = np.asarray(sent, dtype=object).ravel().tolist()
                flat_got = np.asarray(got, dtype=object).ravel().tolist()
                if len(flat_sent) != len(flat_got) or not all(
                    _faithful(dtype, s, g) for s, g in zip(flat_sent, flat_got, strict=True)
                ):
                    label = f"tensor {name}" if name else "tensor"
                    changes.append(f"row {index}, {label}: {_short(sent)} reached the model as {_rendered(got)}")
    params = payload.get("params") if isinstance(payload, dict) else None
    known = PARAMS if case.model == "columns" else TENSOR_PARAMS.get(case.model, {})
    if isinstance(params, dict) and echoes:
        got_params = echoes[0]["params"]
        for name, sent in params.items():
            if name not in known:
                if name not in got_params:
                    dropped.append(f"param {name}")
                continue
            kind = known[name]
            got = got_params.get(name)
            same = _same(sent, got) if kind == "list" else _faithful(kind, sent, got)
            if not same:
                changes.append(f"param {name}: {_short(sent)} reached the model as {_rendered(got)}")
    return changes, dropped


# -- running a case ----------------------------------------------------------------------------------


def _send(server: Server, case: Case) -> httpx.Response:
    body = case.raw if case.raw is not None else json.dumps(case.payload).encode()
    return httpx.post(
        f"{server.url}/invocations", content=body, headers={"Content-Type": "application/json"}, timeout=60
    )


def _observe(servers: dict[str, Server], case: Case) -> dict[str, Any]:
    server = servers[case.model]
    response = _send(server, case)
    outcome: dict[str, Any] = {"id": case.id, "model": case.model, "status": response.status_code}
    rows = _rows_sent(case)
    if response.status_code == 200:
        predictions = response.json()["predictions"]
        outcome["rows"] = len(rows) if rows is not None else None
        outcome["predictions"] = len(predictions)
        changes, dropped = _echo_differences(case, predictions)
        outcome["mlflow"] = "changed" if changes else "dropped" if dropped else "accepted"
        outcome["detail"] = "; ".join(changes or dropped)
    else:
        outcome["mlflow"] = "rejected"
        outcome["detail"] = _mlflow_reason(response)
    assert server.validator is not None
    report = (
        server.validator.validate_json(case.raw) if case.raw is not None else server.validator.validate(case.payload)
    )
    outcome["schemakit"] = "accepts" if report.ok else "rejects"
    if case.id in KNOWN_GAPS:
        outcome["gap"] = KNOWN_GAPS[case.id]
    outcome["errors"] = sorted({p.code for p in report.problems if p.severity == "error"})
    outcome["warnings"] = sorted({p.code for p in report.problems if p.severity == "warning"})
    return outcome


def _mlflow_reason(response: httpx.Response) -> str:
    """MLflow's error, trimmed: its messages echo the whole payload, which the table does not need."""
    try:
        body = response.json()
        message = str(body.get("message", "")) if isinstance(body, dict) else response.text
    except ValueError:
        message = response.text
    first = message.strip().splitlines()[0] if message.strip() else ""
    if "Error: " in message:
        first = message[message.rfind("Error: ") + len("Error: ") :].strip().splitlines()[0]
    # MLflow prints Python sets, whose order depends on the hash seed; sort them so the record is stable.
    first = _SET_OF_NAMES.sub(lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", first)
    return f"{response.status_code}: {first[:110]}"


_SET_OF_NAMES = re.compile(r"\{('[^'{}]*'(?:, '[^'{}]*')+)\}")


_OBSERVED: dict[str, dict[str, Any]] = {}


def _outcome(servers: dict[str, Server], case: Case) -> dict[str, Any]:
    if case.id not in _OBSERVED:
        _OBSERVED[case.id] = _observe(servers, case)
    return _OBSERVED[case.id]


def test_the_corpus_is_large_and_its_ids_are_unique() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.expect for c in CASES} == {"accepted", "dropped", "changed", "rejected"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_schemakit_agrees_with_the_scoring_server(case: Case, servers: dict[str, Server]) -> None:
    outcome = _outcome(servers, case)
    assert outcome["mlflow"] == case.expect, outcome
    if case.id in KNOWN_GAPS:
        assert outcome["schemakit"] == "accepts", f"gap closed, remove it from KNOWN_GAPS: {outcome}"
        assert outcome["mlflow"] in ("rejected", "changed"), outcome
        return
    if outcome["schemakit"] == "accepts":
        # Accepted by schemakit: the server answers 200, one prediction per row, and the model gets what was sent.
        assert outcome["status"] == 200, outcome
        assert outcome["predictions"] == outcome["rows"], outcome
        assert outcome["mlflow"] in ("accepted", "dropped"), outcome
    if outcome["mlflow"] in ("rejected", "changed"):
        assert outcome["schemakit"] == "rejects", outcome
        assert outcome["errors"], outcome
    if outcome["mlflow"] == "dropped":
        # What the server drops, schemakit names: a warning, or an error where the document lists the columns.
        assert outcome["warnings"] or outcome["errors"], outcome
    if outcome["status"] == 200:
        assert outcome["predictions"] == outcome["rows"], outcome


def test_outcomes_match_the_committed_results(servers: dict[str, Server]) -> None:
    """The table in docs/mlflow.md is rendered from agreement-results.json; this keeps both honest."""
    observed = {"mlflow_version": _mlflow_version(), "cases": [_outcome(servers, case) for case in CASES]}
    if os.environ.get("SCHEMAKIT_AGREEMENT_RESULTS") == "write":
        atomic_write_bytes(RESULTS, dump_json_stable(observed))
    committed = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert committed == json.loads(dump_json_stable(observed)), (
        "the scoring server or schemakit behaves differently from agreement-results.json; if that is intended, "
        "regenerate it with SCHEMAKIT_AGREEMENT_RESULTS=write and re-render docs/mlflow.md (see this module's docstring)"
    )


def _mlflow_version() -> str:
    from importlib.metadata import version

    return version("mlflow-skinny")


# -- payloads built by the generated client --------------------------------------------------------


@pytest.fixture(scope="session")
def generated(servers: dict[str, Server], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The `schemakit codegen` package of each model's `mlflow:` document, imported."""
    import importlib

    out = tmp_path_factory.mktemp("generated-clients")
    for name, server in servers.items():
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemakit",
                "codegen",
                f"mlflow:{server.model_dir}",
                "-o",
                str(out),
                "--package",
                f"agreement_{name}_client",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    sys.path.insert(0, str(out))
    try:
        return {name: _model_module(importlib.import_module(f"agreement_{name}_client")) for name in servers}
    finally:
        sys.path.remove(str(out))


def _model_module(package: Any) -> Any:
    """The package's one served-model module, found by its `NAME` (a model called `columns` gets `columns_model`:
    the module name may not shadow one the package uses)."""
    import types

    found = [m for m in vars(package).values() if isinstance(m, types.ModuleType) and hasattr(m, "NAME")]
    assert len(found) == 1, [m.__name__ for m in found]
    return found[0]


def _generated_payloads(generated: dict[str, Any]) -> list[tuple[str, str, Any]]:
    columns, tensor, named = generated["columns"], generated["tensor"], generated["named"]
    rows = [
        columns.Row(
            flag=True,
            count32=7,
            count64=2**40,
            ratio32=0.5,
            ratio64=2.25,
            text="hello",
            blob=b"\x00raw bytes\xff",
            when=datetime.datetime(2024, 5, 6, 7, 8, 9),
            ids=[1, 2],
            point={"x": 1, "label": "a"},
            scores={"a": 0.5},
            anything={"k": [1, "two"]},
            note="n",
        ),
        columns.Row(
            flag=False,
            count32=-(2**31),
            count64=2**63 - 1,
            ratio32=-0.25,
            ratio64=1e300,
            text="wörld",
            blob=b"",
            when=datetime.datetime(1999, 12, 31, 23, 59, 59),
            ids=[],
            point={"x": -5},
            scores={},
            anything=None,
        ),
    ]
    params = {"temperature": 0.7, "top_k": 2, "stop": ["x", "y"], "verbose": False}
    by_column = {name: [getattr(r, name) for r in rows] for name in ORDER}
    named_rows = [named.Row(pair=[1, 2], weight=0.5), named.Row(pair=[-3, 4], weight=1.5)]
    return [
        ("columns", "to_dataframe_split", columns.to_dataframe_split(rows, params=params)),
        ("columns", "to_dataframe_records", columns.to_dataframe_records(rows, params=params)),
        ("columns", "split_from_columns", columns.split_from_columns(by_column)),
        ("tensor", "to_instances", tensor.to_instances([[1.0, 2.0, 3.0], [4.5, 5.5, 6.5]], params={"threshold": 0.2})),
        ("tensor", "to_inputs", tensor.to_inputs(np.arange(6, dtype=np.float32).reshape(2, 3))),
        ("named", "to_instances", named.to_instances(named_rows)),
        ("named", "to_inputs", named.to_inputs(named_rows)),
    ]


def test_payloads_built_by_the_generated_client_reach_the_model_as_built(
    servers: dict[str, Server], generated: dict[str, Any]
) -> None:
    payloads = _generated_payloads(generated)
    assert len(payloads) == 7
    for model, builder, payload in payloads:
        assert generated[model].validate(payload).ok, (builder, generated[model].validate(payload).to_text())
        case = Case(f"generated {model} {builder}", model, "accepted", payload)
        response = _send(servers[model], case)
        assert response.status_code == 200, (builder, response.text[:500])
        predictions = response.json()["predictions"]
        assert len(predictions) == len(_rows_sent(case) or []) == 2, builder
        assert _echo_differences(case, predictions) == ([], []), builder
