"""`schemakit probe` against the emulator: it must agree on every generated payload of every shipped sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import schemakit
from schemakit.probe.runner import ProbeOptions, open_target, opened, run_probe

from .conftest import ROOT, SAMPLES, sample_documents

#: Where the emulator and its own documents disagree (model, format, case label): none known.
KNOWN_EMULATOR_GAPS: dict[tuple[str, str, str], str] = {}


@pytest.mark.parametrize("path", sample_documents(), ids=lambda p: p.name)
def test_the_emulator_agrees_on_every_generated_payload(path: Path) -> None:
    schema = schemakit.load(str(path))
    options = ProbeOptions(budget=100_000, rate=0, concurrency=4, deadline=240, request_timeout=60)
    with opened(open_target(schema, "mock")) as target:
        report = run_probe(schema, target, options, spec=str(path))
    assert report.not_done == []
    assert report.sent == sum(g.generated for g in report.groups)
    disagreements = {(o.case.model, o.case.format, o.case.label): f"{o.kind}: {o.detail}" for o in report.disagreements}
    assert disagreements == {}, json.dumps({" / ".join(k): v for k, v in disagreements.items()}, indent=1)
    assert report.score == 1.0
    assert report.exit_code == 0
    # Both verdicts were exercised: the emulator accepted the valid payloads and refused the mutations.
    assert any(o.case.valid for o in report.outcomes())
    assert any(not o.case.valid for o in report.outcomes())


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemakit", "probe", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_cli_json_record_and_replay(tmp_path: Path) -> None:
    spec = str(SAMPLES / "multi-model.json")
    record = tmp_path / "rec"
    done = _cli(spec, "--target", "mock", "--budget", "30", "--format", "json", "--record", str(record))
    assert done.returncode == 0, done.stderr
    assert "at most 30 request(s)" in done.stderr  # the budget is printed
    data = json.loads(done.stdout)
    assert data["schema_version"] == 1
    assert data["sent"] == 30
    assert data["score"] == 1.0
    # Every served model and format got a share of a small budget.
    assert {(g["model"], g["format"]) for g in data["groups"] if g["sent"]} == {
        ("ads-1", "dataframe_split"),
        ("ads-1", "dataframe_records"),
        ("ads-2", "dataframe_split"),
        ("ads-2", "dataframe_records"),
        ("ctr_calibrator", "dataframe_records"),
    }
    assert any("not sent: over the budget of 30" in line for line in data["not_done"])
    index = json.loads((record / "index.json").read_text())
    assert len(index["cases"]) == 30
    first = json.loads((record / "cases" / index["cases"][0]).read_text())
    assert first["answer"]["status"] == 200
    assert json.loads(first["request"]["body"])
    assert not [p for p in record.rglob("*") if p.name.endswith(".tmp")]
    again = _cli(spec, "--target", "mock", "--replay", str(record), "--format", "json")
    assert again.returncode == 0, again.stderr
    replayed = json.loads(again.stdout)
    assert replayed["sent"] == 30
    assert replayed["score"] == 1.0


def test_cli_markdown_junit_and_text(tmp_path: Path) -> None:
    spec = str(SAMPLES / "foundation-model-chat.json")
    markdown = _cli(spec, "--target", "mock", "--budget", "12", "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert "| Model | Format | Agree | Score |" in markdown.stdout
    out = tmp_path / "probe.xml"
    junit = _cli(spec, "--target", "mock", "--budget", "12", "--format", "junit", "--output", str(out))
    assert junit.returncode == 0, junit.stderr
    root = ET.fromstring(out.read_text())
    assert root.get("failures") == "0"
    assert int(root.get("tests") or 0) >= 12
    text = _cli(spec, "--target", "mock", "--budget", "5")
    assert text.returncode == 0
    assert text.stdout.splitlines()[-1].startswith("agrees: 5 of 5 judged case(s) agree (100.0%)")


def test_cli_cannot_run_says_so_in_one_line() -> None:
    spec = str(SAMPLES / "multi-model.json")
    bad_target = _cli(spec, "--target", "ftp://example.com/x")
    assert bad_target.returncode == 2
    assert bad_target.stderr.strip().splitlines()[-1].startswith("schemakit: error: ")
    several = _cli(spec, "--target", "http://127.0.0.1:9/invocations")
    assert several.returncode == 2
    assert "--model NAME" in several.stderr
    replay = _cli(spec, "--target", "mock", "--replay", "/nonexistent-folder")
    assert replay.returncode == 2
    assert "cannot read the recording" in replay.stderr
    assert "Traceback" not in bad_target.stderr + several.stderr + replay.stderr
    nothing = _cli(spec, "--target", "http://127.0.0.1:9/", "--budget", "2", "--request-timeout", "1")
    assert nothing.returncode == 2  # no answer could be judged
    assert "got no complete answer" in nothing.stdout


def test_an_endpoint_target_uses_the_workspace_credentials() -> None:
    """`endpoint:NAME` on the emulated workspace: host and token as every other command takes them."""
    spec = SAMPLES / "multi-model.json"
    schema = schemakit.load(str(spec))
    with schemakit.MockServer([str(spec)], token="dapi-probe-test-token") as server:
        name = server.endpoints[0]
        target = open_target(schema, f"endpoint:{name}", host=server.url, token=server.token)
        assert set(target.urls) == {"ads-1", "ads-2", "ctr_calibrator"}
        report = run_probe(schema, target, ProbeOptions(budget=15, rate=0), spec=str(spec))
        assert report.exit_code == 0
        assert report.sent == 15
        done = _cli(
            str(spec),
            "--target",
            f"endpoint:{name}",
            "--host",
            server.url,
            "--token",
            server.token,
            "--budget",
            "6",
            "--model",
            "ads-2",
            "--input-format",
            "dataframe_records",
            "--format",
            "json",
        )
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert [(g["model"], g["format"], g["sent"]) for g in data["groups"]] == [("ads-2", "dataframe_records", 6)]
        assert "dapi-probe-test-token" not in done.stdout + done.stderr
        wrong = _cli(str(spec), "--target", "mock", "--input-format", "instances")
        assert wrong.returncode == 2
        assert "not a format of the probed models" in wrong.stderr


def test_the_candidate_is_probed_with_diff_witnesses(tmp_path: Path) -> None:
    """The deploy gate's proof, sent: the candidate must refuse each payload its diff says breaks."""
    live, candidate = ROOT / "tests/diff/data/ads-v2.json", ROOT / "tests/diff/data/ads-v1.json"
    witnesses = tmp_path / "witnesses"
    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemakit",
            "diff",
            str(live),
            str(candidate),
            "--format",
            "json",
            "--witnesses",
            str(witnesses),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert gate.returncode == 1, gate.stderr
    request_side = [
        f
        for f in json.loads(gate.stdout)["findings"]
        if f["severity"] == "breaking" and f["location"]["part"] == "request" and f["witness"]
    ]
    assert request_side
    done = _cli(str(candidate), "--target", "mock", "--replay", str(witnesses), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["sent"] == len(request_side)
    assert data["score"] == 1.0
    labels = [o["label"] for g in data["groups"] for o in g["disagreements"] + g["not_judged"]]
    assert labels == []
