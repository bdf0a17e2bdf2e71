"""`schemakit gate`: an endpoint serving two models to three callers, a candidate that breaks one caller.

End to end over the inference table in both platform layouts, as Parquet, Delta and JSON Lines: the gate names
svc-lean (whose requests lack the column ads-2 now requires) and only it, calls the two others unaffected, and warns
that no logged request exercises ctr_calibrator's narrowed column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from traffic_data import (
    ENTITIES,
    LIVE,
    ai_gateway_rows,
    candidate_document,
    legacy_rows,
    logged_requests,
    write_delta,
    write_json_lines,
    write_parquet,
)

from schemakit.table.gate import gate

pytest.importorskip("deltalake")

REQUESTS = logged_requests()
MAPPING = [arg for k, v in ENTITIES.items() for arg in ("--served-entity", f"{k}={v}")]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate")


@pytest.fixture(scope="module")
def candidate(folder: Path) -> Path:
    return candidate_document(folder)


@pytest.fixture(scope="module")
def tables(folder: Path) -> dict[str, Path]:
    gateway, legacy = ai_gateway_rows(REQUESTS), legacy_rows(REQUESTS)
    return {
        "gateway-parquet": write_parquet(gateway, folder / "gateway.parquet", "ai-gateway"),
        "gateway-delta": write_delta(gateway, folder / "gateway-delta", "ai-gateway"),
        "gateway-jsonl": write_json_lines(gateway, folder / "gateway.jsonl"),
        "legacy-parquet": write_parquet(legacy, folder / "legacy.parquet", "legacy"),
        "legacy-delta": write_delta(legacy, folder / "legacy-delta", "legacy"),
        "legacy-jsonl": write_json_lines(legacy, folder / "legacy.jsonl"),
    }


def caller_names(names: list[str | None]) -> set[str]:
    return {(n or "").split("@")[0].split(":")[0] for n in names}


@pytest.mark.parametrize(
    "name", ["gateway-parquet", "gateway-delta", "gateway-jsonl", "legacy-parquet", "legacy-delta", "legacy-jsonl"]
)
def test_the_gate_names_the_breaking_caller_and_only_it(tables: dict[str, Path], candidate: Path, name: str) -> None:
    by = None if name.startswith("gateway") else "client_request_id"
    report = gate(LIVE, candidate, tables[name], served_entities=ENTITIES, caller_by=by)
    assert caller_names([c.caller for c in report.breaking_callers]) == {"svc-lean"}
    assert caller_names([c.caller for c in report.unaffected_callers]) == {"svc-legacy", "svc-full"}
    lean = report.breaking_callers[0]
    assert (lean.requests, lean.breaking) == (20, 20)
    assert lean.days == (("2026-03-01", 10, 10), ("2026-03-02", 10, 10))
    assert {(g.model, g.code, g.column) for g in lean.groups} == {("ads-2", "required", "device")}
    # svc-full's text hour is rejected by the live schema too: not the candidate's doing.
    assert report.replay.already_rejected == 1
    assert [(f.rule, f.model) for f in report.unexercised] == [("type-narrowed", "ctr_calibrator")]
    assert report.failed


def test_the_command_in_text_json_and_markdown(tables: dict[str, Path], candidate: Path, run_cli) -> None:
    base = ["gate", "--live", str(LIVE), "--candidate", str(candidate), "--traffic", str(tables["gateway-parquet"])]
    text = run_cli(*base, *MAPPING)
    assert text.returncode == 1, text.stderr
    assert "gate: BREAKS caller svc-lean@example.com: 20 of 20 requests would be rejected" in text.stdout
    assert "gate: ok caller svc-full@example.com" in text.stdout
    assert "no logged request exercises [type-narrowed] ctr_calibrator" in text.stdout
    assert "gate: 1 of 3 callers would break (20 logged requests)" in text.stdout

    data = json.loads(run_cli(*base, *MAPPING, "--format", "json").stdout)
    assert [c["caller"] for c in data["breaking_callers"]] == ["svc-lean@example.com"]
    assert data["breaking_callers"][0]["estimated_breaking"] == 40.0  # sampling_fraction 0.5
    assert data["unexercised"][0]["witness"] == {
        "where": "dataframe_records column raw_score",
        "old": "double",
        "new": "long",
    }
    assert (data["failed"], data["unlogged"]) == (True, {"MAX_REQUEST_SIZE_EXCEEDED": 1})

    md = run_cli(*base, *MAPPING, "--format", "markdown")
    assert md.returncode == 1
    lines = md.stdout.splitlines()
    assert lines[0] == "### Deploy gate: ❌ 1 of 3 callers would break \\(20 logged requests\\)"
    assert "| Caller | Requests | Would break | Per day | Rules |" in lines
    assert "| **svc-lean@example.com** | 20 | 20 | 2026-03-01: 10, 2026-03-02: 10 | required \\(device\\) |" in lines
    assert any(line.startswith("| type-narrowed | ctr\\_calibrator |") for line in lines)


def test_fail_on(tables: dict[str, Path], folder: Path, run_cli) -> None:
    # A candidate whose only breaking change touches no logged request: no caller breaks.
    document = json.loads(LIVE.read_text())
    for path, item in document["paths"].items():
        if "/ctr_calibrator/" in path:
            schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
            branch = schema.get("oneOf", [schema])[0]
            branch["properties"]["dataframe_records"]["items"]["properties"]["raw_score"] = {
                "type": "integer",
                "format": "int64",
            }
    quiet = folder / "quiet.json"
    quiet.write_text(json.dumps(document))
    base = [
        "gate",
        "--live",
        str(LIVE),
        "--candidate",
        str(quiet),
        "--traffic",
        str(tables["legacy-jsonl"]),
        "--caller",
        "client_request_id",
    ]
    result = run_cli(*base)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gate: no caller would break (3 callers, 59 logged requests)" in result.stdout
    assert run_cli(*base, "--fail-on", "unexercised").returncode == 1
    assert run_cli(*base, "--fail-on", "breaking").returncode == 1
    assert run_cli(*base, "--fail-on", "never").returncode == 0


def test_a_served_model_gone_from_the_candidate_breaks_its_callers(tables: dict[str, Path], folder: Path) -> None:
    document = json.loads(LIVE.read_text())
    document["paths"] = {k: v for k, v in document["paths"].items() if "/ads-1/" not in k}
    without = folder / "without-ads-1.json"
    without.write_text(json.dumps(document))
    report = gate(LIVE, without, tables["legacy-parquet"], caller_by="client_request_id")
    assert [c.caller for c in report.breaking_callers] == ["svc-legacy"]
    assert report.breaking_callers[0].groups[0].code == "served-model-removed"
    assert report.pairs == {"ads-1": None, "ads-2": "ads-2", "ctr_calibrator": "ctr_calibrator"}


def test_a_new_version_is_paired_with_the_one_it_replaces(
    tables: dict[str, Path], candidate: Path, folder: Path
) -> None:
    document = json.loads(candidate.read_text())
    document["paths"] = {k.replace("/ads-2/", "/ads-3/"): v for k, v in document["paths"].items()}
    renamed = folder / "ads-3.json"
    renamed.write_text(json.dumps(document))
    report = gate(LIVE, renamed, tables["gateway-parquet"], served_entities=ENTITIES)
    assert report.pairs["ads-2"] == "ads-3"
    assert [c.caller for c in report.breaking_callers] == ["svc-lean@example.com"]
    assert report.breaking_callers[0].groups[0].model == "ads-3"
    explicit = gate(LIVE, renamed, tables["gateway-parquet"], served_entities=ENTITIES, model_pairs={"ads-1": "ads-3"})
    assert explicit.pairs["ads-1"] == "ads-3"


def test_hostile_callers_stay_in_their_cells(candidate: Path, folder: Path, run_cli) -> None:
    rows = ai_gateway_rows(REQUESTS)
    rows["requester"] = ["a | b\n::error::x\u202e`<img src=x>`" for _ in rows["requester"]]
    path = write_json_lines(rows, folder / "hostile.jsonl")
    base = ["gate", "--live", str(LIVE), "--candidate", str(candidate), "--traffic", str(path), *MAPPING]
    for output in ("text", "markdown", "json"):
        result = run_cli(*base, "--format", output)
        assert result.returncode == 1, result.stderr
        for line in result.stdout.splitlines():
            assert not line.lstrip().startswith("::"), line
            # JSON keeps the caller's text as data (a bidi mark is a JSON string's character).
            assert output == "json" or "\u202e" not in line
        if output == "markdown":
            row = next(line for line in result.stdout.splitlines() if line.startswith("| **"))
            assert row.count(" | ") == 4  # the caller's own pipes are escaped
            assert "<img" not in result.stdout.replace("\\<img", "")


def test_cannot_run(candidate: Path, tables: dict[str, Path], run_cli) -> None:
    base = ["gate", "--live", str(LIVE), "--candidate", str(candidate)]
    result = run_cli(*base, "--traffic", "/nonexistent.parquet")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_cli(*base, "--traffic", str(tables["gateway-parquet"]), "--model", "ads-1=nope")
    assert result.returncode == 2
    assert "no served model 'nope'" in result.stderr
