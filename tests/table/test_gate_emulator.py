"""The gate end to end through the emulator: real HTTP traffic, the inference table the emulator writes, the gate.

An endpoint serving two models (ads-1, ads-2 of samples/multi-model.json) gets requests from three callers, each
with their own token, over real sockets; the emulator logs them in the AI Gateway layout (JSON Lines). The
candidate makes ads-2 require `device`, which only svc-lean omits: the gate names svc-lean and only it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from traffic_data import LIVE, candidate_document

from schemakit.table.gate import gate
from schemakit.testing import MockServer

ENDPOINT = "ads-ranking"
ADMIN = "dapi-gate-admin"
#: caller -> (token, served model it calls, whether its records carry ads-2's `device`)
CALLERS = {
    "svc-legacy": ("dapi-legacy", "ads-1", False),
    "svc-full": ("dapi-full", "ads-2", True),
    "svc-lean": ("dapi-lean", "ads-2", False),
}


def two_models(document: dict[str, Any]) -> dict[str, Any]:
    document["paths"] = {k: v for k, v in document["paths"].items() if "/ctr_calibrator/" not in k}
    return document


def record(i: int, served: str, device: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"user_id": 1000 + i, "ad_id": 7 + i, "hour": i % 24}
    if served == "ads-2":
        row["country"] = "FR"
    if device:
        row["device"] = "mobile"
    return row


def test_the_gate_over_the_emulators_inference_table_names_only_the_broken_caller(tmp_path: Path) -> None:
    live = tmp_path / "live.json"
    live.write_text(json.dumps(two_models(json.loads(LIVE.read_text()))))
    candidate = tmp_path / "candidate-two.json"
    candidate.write_text(json.dumps(two_models(json.loads(candidate_document(tmp_path).read_text()))))
    folder = tmp_path / "tables"
    with MockServer([live], token=ADMIN, inference_dir=folder, update_seconds=0) as server:
        for name, (token, _, _) in CALLERS.items():
            server.add_user(name, token=token)
            server.set_permission(ENDPOINT, name, "CAN_QUERY")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            configured = client.put(
                f"/api/2.0/serving-endpoints/{ENDPOINT}/ai-gateway",
                headers={"Authorization": f"Bearer {ADMIN}"},
                json={
                    "inference_table_config": {
                        "catalog_name": "main",
                        "schema_name": "logs",
                        "table_name_prefix": "ads",
                        "enabled": True,
                    }
                },
            )
            assert configured.status_code == 200, configured.text
            for i in range(12):
                for token, served, device in CALLERS.values():
                    answer = client.post(
                        f"/serving-endpoints/{ENDPOINT}/served-models/{served}/invocations",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"dataframe_records": [record(i, served, device)]},
                    )
                    assert answer.status_code == 200, answer.text
    table = folder / "main.logs.ads_payload.jsonl"
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert len(rows) == 36
    assert {r["requester"] for r in rows} == set(CALLERS)
    assert {r["served_entity_id"] for r in rows} == {"ads-1", "ads-2"}

    report = gate(live, candidate, table)
    assert [c.caller for c in report.breaking_callers] == ["svc-lean"]
    assert sorted(c.caller for c in report.unaffected_callers) == ["svc-full", "svc-legacy"]
    lean = report.breaking_callers[0]
    assert (lean.requests, lean.breaking) == (12, 12)
    assert {(g.model, g.code, g.column) for g in lean.groups} == {("ads-2", "required", "device")}
    assert report.replay.unrouted == {} or not any(report.replay.unrouted.values())
    assert report.failed
    # The live schema accepts every logged request: the same traffic replayed against it breaks nobody.
    assert gate(live, live, table).breaking_callers == ()
