"""The gate end to end through the emulator: real HTTP traffic, the inference table the emulator writes, the gate.

An endpoint serving two models (ads-1, ads-2 of samples/multi-model.json) gets requests from three callers, each
with their own token, over real sockets; the emulator logs them in the AI Gateway layout (JSON Lines). The
candidate makes ads-2 require `device`, which only svc-lean omits: the gate names svc-lean and only it.
"""

from __future__ import annotations

import json
from pathlib import Path

from traffic_data import EMULATOR_CALLERS, candidate_document, emulator_traffic, two_models

from schemakit.table.gate import gate


def test_the_gate_over_the_emulators_inference_table_names_only_the_broken_caller(tmp_path: Path) -> None:
    live, table = emulator_traffic(tmp_path)
    candidate = tmp_path / "candidate-two.json"
    candidate.write_text(json.dumps(two_models(json.loads(candidate_document(tmp_path).read_text()))))
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert len(rows) == 36
    assert {r["requester"] for r in rows} == set(EMULATOR_CALLERS)
    assert {r["served_entity_id"] for r in rows} == {"ads-1", "ads-2"}

    report = gate(live, candidate, table)
    assert [c.caller for c in report.breaking_callers] == ["svc-lean"]
    assert sorted(c.caller for c in report.unaffected_callers) == ["svc-full", "svc-legacy"]
    lean = report.breaking_callers[0]
    assert (lean.requests, lean.breaking) == (12, 12)
    assert {(g.model, g.code, g.column) for g in lean.groups} == {("ads-2", "required", "device")}
    assert not any(report.replay.unrouted.values())
    assert report.failed
    # The live schema accepts every logged request: the same traffic replayed against it breaks nobody.
    assert gate(live, live, table).breaking_callers == ()
