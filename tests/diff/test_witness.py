"""Diff witnesses: each breaking verdict proved by a payload (or a response), re-checked here by the engine.

The corpus is the documents in tests/diff/data and every case of test_rules.py, read both ways.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from diff_docs import resolve
from test_rules import CASES

import schemakit
from schemakit.check.validator import compile_validator
from schemakit.diff import diff_schemas
from schemakit.diff.witness import find_witnesses, old_reader_schema, response_accepts, with_witnesses

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = HERE / "data"

#: Breaking verdicts no payload can prove, because the engine itself accepts, under the new schema, every
#: payload the old one accepts; each is (case, direction, rule): why. The test asserts they stay unproved,
#: so the list cannot go stale. They are where `diff` is more cautious than `check`.
UNPROVABLE: dict[tuple[str, str, str], str] = {
    ("optional-column-inserted", ">", "column-inserted"): "split payloads must name their columns, so a name-carrying "
    "payload reads the same after an insertion",
    ("split-reordered", ">", "split-columns-reordered"): "likewise: payloads name their columns",
    ("split-reordered", "<", "split-columns-reordered"): "likewise: payloads name their columns",
    ("float-to-double", "<", "type-narrowed"): "check does not bound a float column to float32's range",
    ("tensor-dtype", "<", "type-narrowed"): "check does not bound a float tensor to float32's range",
    ("datetime-to-string", ">", "type-changed"): "every datetime text is a string",
    ("pattern-changed", ">", "pattern-changed"): "^[a-z0-9]+$ accepts everything ^[a-z]+$ does: the change widens",
    ("chat-streaming", ">", "streaming-removed"): "the new request still accepts a `stream` field it does not declare",
    ("chat-role-enum-narrowed", ">", "enum-value-removed"): "the platform takes the system role whatever the "
    "document lists (a known document gap)",
}


def _corpus() -> list[tuple[str, schemakit.EndpointSchema, schemakit.EndpointSchema, dict[str, str]]]:
    out = [("ads", schemakit.load(str(DATA / "ads-v1.json")), schemakit.load(str(DATA / "ads-v2.json")), {})]
    for case in CASES:
        old, new = resolve(case.old), resolve(case.new)
        out.append((f"{case.name} >", old, new, case.pairs))
        out.append((f"{case.name} <", new, old, {v: k for k, v in case.pairs.items()}))
    return out


CORPUS = _corpus()


def test_every_breaking_verdict_carries_a_rechecked_witness() -> None:
    proved = unproved = 0
    missing: set[tuple[str, str, str]] = set()
    for name, old, new, pairs in CORPUS:
        report = diff_schemas(old, new, model_pairs=pairs)
        witnesses = find_witnesses(old, new, report)
        olds = {m.name: m for m in old.models}
        news = {m.name: m for m in new.models}
        for index, finding in enumerate(report.findings):
            witness = witnesses.get(index)
            if finding.severity != "breaking":
                assert witness is None, (name, finding.rule)  # no witness for a change that is not breaking
                continue
            if witness is None:
                case, direction = name.rsplit(" ", 1)
                missing.add((case, direction, finding.rule))
                unproved += 1
                continue
            proved += 1
            old_model = olds[finding.old_model or finding.model]
            if witness.side == "request":
                assert finding.location.part != "response"
                # Re-checked here, with the engine: the old schema accepts, the new one refuses.
                assert compile_validator(old_model).validate(witness.value).ok, (name, finding.rule)
                if finding.model in news:
                    assert not compile_validator(news[finding.model]).validate(witness.value).ok, (name, finding.rule)
                else:
                    assert finding.rule == "served-model-removed"
            else:
                assert finding.location.part == "response"
                new_model = news[finding.model]
                assert old_model.response is not None
                assert new_model.response is not None
                assert response_accepts(new_model.response.schema, witness.value) is None
                assert response_accepts(old_reader_schema(old_model.response.schema), witness.value) is not None
    assert missing == set(UNPROVABLE), sorted(missing ^ set(UNPROVABLE))
    assert proved >= 90
    assert unproved == len(UNPROVABLE) + 3  # split-only cases are reported once per format they touch


def test_request_side_verdicts_of_the_data_folder_are_all_proved() -> None:
    old, new = schemakit.load(str(DATA / "ads-v1.json")), schemakit.load(str(DATA / "ads-v2.json"))
    # ads-v2 read as the old side: its request changes are breaking for ads-v1's clients.
    proved = 0
    for a, b in ((old, new), (new, old)):
        report = diff_schemas(a, b)
        witnesses = find_witnesses(a, b, report)
        request_side = [
            i for i, f in enumerate(report.findings) if f.severity == "breaking" and f.location.part != "response"
        ]
        assert all(i in witnesses for i in request_side)
        proved += len(request_side)
    assert proved >= 3


def test_json_markdown_and_witness_files(tmp_path: Path) -> None:
    old, new = str(DATA / "ads-v2.json"), str(DATA / "ads-v1.json")
    folder = tmp_path / "witnesses"
    env_path = {"PYTHONPATH": str(ROOT)}
    import os

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "schemakit", "diff", old, new, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, **env_path},
        )

    data = json.loads(run("--format", "json", "--witnesses", str(folder)).stdout)
    breaking = [f for f in data["findings"] if f["severity"] == "breaking"]
    assert breaking
    assert all("witness" in f for f in breaking)
    assert all("witness" not in f for f in data["findings"] if f["severity"] != "breaking")
    proved = [f for f in breaking if f["witness"] is not None]
    files = sorted(folder.glob("*.json"))
    assert len(files) == len(proved)
    record = json.loads(files[0].read_text())
    assert set(record) == {"schema_version", "finding", "witness"}
    markdown = run("--format", "markdown").stdout
    assert f"Witnesses: {len(proved)} of {len(breaking)} breaking change(s) proved" in markdown


def test_with_witnesses_keeps_non_breaking_reports_without_any() -> None:
    old = schemakit.load(str(DATA / "ads-v1.json"))
    report = with_witnesses(diff_schemas(old, old), old, old)
    assert report.witnessed
    assert dict(report.witnesses) == {}


@pytest.mark.parametrize("rule", ["served-model-removed"])
def test_a_removed_model_is_proved_by_an_old_payload(rule: str) -> None:
    old = schemakit.load(str(ROOT / "samples" / "multi-model.json"))
    new_doc = json.loads((ROOT / "samples" / "multi-model.json").read_text())
    paths = new_doc["paths"]
    del paths[next(p for p in paths if "ctr_calibrator" in p)]
    new = schemakit.resolve(new_doc)
    report = diff_schemas(old, new)
    witnesses = find_witnesses(old, new, report)
    index = next(i for i, f in enumerate(report.findings) if f.rule == rule)
    assert compile_validator(old.model("ctr_calibrator")).validate(witnesses[index].value).ok
    assert "no served model named 'ctr_calibrator'" in witnesses[index].new_verdict
