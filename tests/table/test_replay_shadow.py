"""Shadow replay (`replay --against`): logged requests resent to a candidate over HTTP, answers compared.

The traffic is real: three callers query the emulator serving ads-1 and ads-2, which logs an AI Gateway
inference table. The emulator's answers are a deterministic function of the served model and the row, so
resending to an emulator of the same document gives the logged answers back, and an emulator whose ads-2
answers strings instead of numbers changes exactly the answers of ads-2's callers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from traffic_data import emulator_traffic

from schemakit.table.shadow import compare_answers, shadow_replay


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return emulator_traffic(tmp_path_factory.mktemp("shadow"))


@pytest.fixture(scope="module")
def changed(traffic: tuple[Path, Path]) -> Path:
    """ads-2 now answers text labels where it answered scores."""
    live, _ = traffic
    document = json.loads(live.read_text())
    for name, item in document["paths"].items():
        if "/ads-2/" in name:
            content = item["post"]["responses"]["200"]["content"]["application/json"]
            content["schema"]["properties"]["predictions"]["items"] = {"type": "string"}
    path = live.parent / "changed.json"
    path.write_text(json.dumps(document))
    return path


def test_the_same_model_gives_the_logged_answers(traffic: tuple[Path, Path]) -> None:
    live, table = traffic
    report = shadow_replay(table, live, "mock", budget=9, rate=0)
    assert (report.eligible, report.sampled, report.sent, report.changed) == (36, 9, 9, 0)
    assert {c.caller: (c.sent, c.same) for c in report.callers} == {
        "svc-legacy": (3, 3),
        "svc-full": (3, 3),
        "svc-lean": (3, 3),
    }
    assert report.ok


def test_a_changed_model_changes_its_callers_answers_and_only_theirs(
    traffic: tuple[Path, Path], changed: Path, run_cli
) -> None:
    _, table = traffic
    report = shadow_replay(table, changed, "mock", budget=12, rate=0)
    by_caller = {c.caller: c for c in report.callers}
    assert {k: (c.sent, c.changed) for k, c in by_caller.items()} == {
        "svc-full": (4, 4),
        "svc-lean": (4, 4),
        "svc-legacy": (4, 0),
    }
    row, model, changes = by_caller["svc-lean"].examples[0]
    assert (model, row % 3) == ("ads-2", 2)  # svc-lean sent every third request, from the third on
    assert [(c.path, c.kind, c.old, c.new) for c in changes] == [("$.predictions[0]", "type", "number", "string")]
    assert not report.ok

    result = run_cli("replay", str(changed), str(table), "--against", "mock", "--budget", "6", "--rate", "0")
    assert result.returncode == 1, result.stderr
    assert "shadow: CHANGED caller svc-full: 2 of 2 answers changed" in result.stdout
    assert "shadow: same caller svc-legacy: 0 of 2 answers changed" in result.stdout
    assert "$.predictions[0] type number -> string" in result.stdout
    data = json.loads(
        run_cli("replay", str(changed), str(table), "--against", "mock", "--budget", "3", "--format", "json").stdout
    )
    assert (data["sent"], data["changed"], data["eligible"], data["budget"]) == (3, 2, 36, 3)


def test_the_deadline_is_honoured_and_reported(traffic: tuple[Path, Path]) -> None:
    live, table = traffic
    report = shadow_replay(table, live, "mock", budget=30, rate=2, deadline=1.2)
    assert 1 <= report.sent <= 4
    assert report.not_sent == 30 - report.sent
    assert report.seconds < 10
    assert "not sent (deadline 1.2 s reached)" in report.to_text()


def test_noise_is_ignored_and_numbers_compared_within_the_tolerance() -> None:
    old = {
        "id": "chatcmpl-1",
        "created": 1,
        "request_id": "a",
        "updated_at": "x",
        "time": "2026-03-01T12:00:00Z",
        "choices": [{"index": 0, "score": 0.5, "label": "spam"}],
    }
    new = {
        "id": "chatcmpl-2",
        "created": 2,
        "request_id": "b",
        "updated_at": "y",
        "time": "2026-03-02T08:30:00.123+00:00",
        "choices": [{"index": 0, "score": 0.5000001, "label": "spam"}],
    }
    assert compare_answers(old, new, tolerance=1e-3) == []
    kinds = {(c.path, c.kind) for c in compare_answers(old, {**new, "extra": 1, "choices": []}, 1e-3)}
    assert kinds == {("$.extra", "added"), ("$.choices", "length")}
    assert [c.kind for c in compare_answers({"v": 1.0}, {"v": 1.5}, 0.1)] == ["number"]
    assert [c.kind for c in compare_answers({"v": [1]}, {"v": {"a": 1}})] == ["type"]
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    assert compare_answers(deep, deep) == []


def test_cannot_run(traffic: tuple[Path, Path], tmp_path: Path, run_cli) -> None:
    live, table = traffic
    bare = tmp_path / "bare.jsonl"
    bare.write_text(json.dumps({"request": "{}", "status_code": 200}) + "\n")
    result = run_cli("replay", str(live), str(bare), "--against", "mock")
    assert result.returncode == 2
    assert "no column 'response'" in result.stderr
    result = run_cli("replay", str(live), str(table), "--against", "ftp://example.com/x")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_endpoints_served_model_as_the_target(traffic: tuple[Path, Path], changed: Path) -> None:
    from schemakit.testing import MockServer

    _, table = traffic
    with MockServer([changed], token="dapi-shadow") as server:
        report = shadow_replay(
            table,
            changed,
            "endpoint:ads-ranking/served-models/ads-2",
            budget=6,
            rate=0,
            host=server.url,
            token=server.token,
        )
    by_caller = {c.caller: (c.sent, c.changed, c.failed) for c in report.callers}
    # Every request goes to ads-2: svc-legacy's (ads-1's columns, no country) are refused there.
    assert by_caller == {"svc-full": (2, 2, 0), "svc-lean": (2, 2, 0), "svc-legacy": (2, 0, 2)}
    assert "dapi-shadow" not in report.to_text()
