"""replay on inference tables as the platform writes them: both layouts, three writers, routed to the served model.

The done-when of the tables issue: for each request, replay counts the verdict of the model that served it, and the
counts agree with checking each body alone against that model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from traffic_data import (
    ENTITIES,
    LIVE,
    ai_gateway_rows,
    legacy_rows,
    logged_requests,
    write_delta,
    write_json_lines,
    write_parquet,
)

import schemakit
from schemakit import compile_validator
from schemakit.table import replay

pytest.importorskip("deltalake")

REQUESTS = logged_requests()
SCHEMA = schemakit.load(str(LIVE))


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inference")
    gateway, legacy = ai_gateway_rows(REQUESTS), legacy_rows(REQUESTS)
    return {
        "gateway-parquet": write_parquet(gateway, folder / "gateway.parquet", "ai-gateway"),
        "gateway-delta": write_delta(gateway, folder / "gateway-delta", "ai-gateway"),
        "gateway-jsonl": write_json_lines(gateway, folder / "gateway.jsonl"),
        "legacy-parquet": write_parquet(legacy, folder / "legacy.parquet", "legacy"),
        "legacy-delta": write_delta(legacy, folder / "legacy-delta", "legacy"),
        "legacy-jsonl": write_json_lines(legacy, folder / "legacy.jsonl"),
    }


def expected_counts() -> tuple[dict[str, tuple[int, int, int]], dict[tuple[str, str, Any], int]]:
    """Each logged body alone against the model that served it: (requests, rejected, rejected that succeeded)."""
    validators = {m.name: compile_validator(m) for m in SCHEMA.models}
    models: dict[str, list[int]] = {}
    groups: dict[tuple[str, str, Any], int] = {}
    for r in REQUESTS:
        if r["body"] is None:
            continue
        counts = models.setdefault(r["served"], [0, 0, 0])
        counts[0] += 1
        report = validators[r["served"]].validate_json(r["body"].encode())
        if not report.ok:
            counts[1] += 1
            counts[2] += r["status"] == 200
            for key in {(r["served"], p.code, p.column) for p in report.errors}:
                groups[key] = groups.get(key, 0) + 1
    return {k: (a, b, c) for k, (a, b, c) in models.items()}, groups


@pytest.mark.parametrize(
    "name", ["gateway-parquet", "gateway-delta", "gateway-jsonl", "legacy-parquet", "legacy-delta", "legacy-jsonl"]
)
def test_counts_agree_with_each_body_alone_against_the_model_that_served_it(tables: dict[str, Path], name: str) -> None:
    report = replay(tables[name], SCHEMA, served_entities=ENTITIES)
    models, groups = expected_counts()
    assert report.layout == name.split("-")[0].replace("gateway", "ai-gateway")
    assert dict(report.models) == models
    assert {(g.model, g.code, g.column): g.count for g in report.groups} == groups
    assert (report.total, report.rejected, report.rejected_succeeded) == (59, 1, 1)
    assert report.skipped == 1
    assert report.unrouted == {}


def test_one_model_for_every_request_is_the_false_alarm_routing_removes(tables: dict[str, Path]) -> None:
    blanket = replay(tables["gateway-parquet"], SCHEMA, model="ads-2")
    routed = replay(tables["gateway-parquet"], SCHEMA, served_entities=ENTITIES)
    # svc-legacy's 19 logged requests lack ads-2's country: ads-1, which served them, accepts them.
    assert blanket.rejected_succeeded == routed.rejected_succeeded + 19


def test_unlogged_bodies_are_counted_by_reason(tables: dict[str, Path], run_cli) -> None:
    gateway = replay(tables["gateway-parquet"], SCHEMA, served_entities=ENTITIES)
    assert dict(gateway.unlogged) == {"MAX_REQUEST_SIZE_EXCEEDED": 1}
    legacy = replay(tables["legacy-jsonl"], SCHEMA)
    assert dict(legacy.unlogged) == {"NOT_LOGGED": 1}
    mapping = [arg for k, v in ENTITIES.items() for arg in ("--served-entity", f"{k}={v}")]
    result = run_cli("replay", str(LIVE), str(tables["gateway-parquet"]), *mapping)
    assert result.returncode == 1, result.stderr
    assert "1 request not logged (MAX_REQUEST_SIZE_EXCEEDED: 1), not checked" in result.stdout


def test_sampling_fraction_gives_estimated_totals(tables: dict[str, Path]) -> None:
    report = replay(tables["gateway-delta"], SCHEMA, served_entities=ENTITIES)
    assert report.estimated == (118.0, 2.0)
    assert replay(tables["legacy-delta"], SCHEMA).estimated is None


def test_findings_by_caller_and_day(tables: dict[str, Path]) -> None:
    report = replay(tables["gateway-parquet"], SCHEMA, served_entities=ENTITIES)
    callers = {c.caller: c for c in report.callers}
    assert set(callers) == {"svc-legacy@example.com", "svc-full@example.com", "svc-lean@example.com"}
    full = callers["svc-full@example.com"]
    assert (full.requests, full.breaking, full.days) == (20, 1, (("2026-03-01", 10, 1), ("2026-03-02", 10, 0)))
    assert full.groups[0].code == "type"
    assert callers["svc-legacy@example.com"].unlogged == 1
    by_prefix = replay(
        tables["legacy-jsonl"], SCHEMA, caller_by="client_request_id", caller_prefixes=("svc-full", "svc-le")
    )
    assert {c.caller: c.requests for c in by_prefix.callers} == {"svc-full": 20, "svc-le": 39}
    by_id = replay(tables["legacy-parquet"], SCHEMA, caller_by="client_request_id")
    assert {c.caller for c in by_id.callers} == {"svc-legacy", "svc-full", "svc-lean"}


def test_served_entities_from_an_export_and_unrouted_rows(tables: dict[str, Path], tmp_path: Path, run_cli) -> None:
    export = tmp_path / "served_entities.jsonl"
    export.write_text(
        "".join(
            json.dumps({"served_entity_id": k, "served_entity_name": v, "endpoint_name": "ads-ranking"}) + "\n"
            for k, v in ENTITIES.items()
        )
    )
    table = str(tables["gateway-jsonl"])
    result = run_cli("replay", str(LIVE), table, "--served-entities", str(export), "--format", "json")
    data = json.loads(result.stdout)
    assert (data["requests"], data["rejected_succeeded"], data["unrouted"]) == (59, 1, {})
    # Without the mapping the opaque ids name no served model: counted and reported, not checked.
    result = run_cli("replay", str(LIVE), table)
    assert result.returncode == 0, result.stderr
    assert "which SPEC does not name (pass --served-entity ID=NAME" in result.stdout
    report = replay(table, SCHEMA)
    assert (report.total, sum(report.unrouted.values())) == (0, 59)


def test_column_map_for_renamed_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    gateway = ai_gateway_rows(REQUESTS)
    renamed = {
        "body": gateway["request"],
        "http_status": gateway["status_code"],
        "entity": gateway["served_entity_id"],
        "who": gateway["requester"],
        "day": gateway["request_date"],
    }
    path = tmp_path / "renamed.parquet"
    pq.write_table(pa.table(renamed), path)
    report = replay(
        path,
        SCHEMA,
        served_entities=ENTITIES,
        column_map={
            "request": "body",
            "status": "http_status",
            "served_entity": "entity",
            "requester": "who",
            "day": "day",
        },
    )
    assert report.layout == "mapped"
    assert (report.total, report.rejected_succeeded, len(report.callers)) == (59, 1, 3)
    assert report.status_column == "http_status"


def test_a_plain_table_against_several_models_asks_for_one(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(json.dumps({"request": REQUESTS[0]["body"]}) + "\n")
    result = run_cli("replay", str(LIVE), str(path))
    assert result.returncode == 2
    assert "pass --model NAME" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run_cli("replay", str(LIVE), str(path), "--column-map", "nope=x")
    assert result.returncode == 2
    assert "unknown role 'nope'" in result.stderr


def test_router_names_the_served_model() -> None:
    from schemakit.table.inference import served_key
    from schemakit.table.replayer import Router

    router = Router(("ads-1", "ads-2", "ctr"), {"9c1f": "ads-2", "main.default.calib-4": "ctr"})
    assert router.resolve(served_key("9c1f", None)) == ("ads-2", "entity 9c1f")
    assert router.resolve(served_key(None, {"model_name": "main.default.ads", "model_version": "1"}))[0] == "ads-1"
    assert router.resolve(served_key(None, [["model_name", "ads"], ["model_version", 2]]))[0] == "ads-2"
    assert router.resolve(served_key(None, '{"model_name": "main.default.calib", "model_version": "4"}'))[0] == "ctr"
    assert router.resolve(served_key("unknown", None)) == (None, "entity unknown")
    assert router.resolve(served_key(None, None)) == (None, "(no served entity)")
    # One served model: every row is its, whatever the row says.
    assert Router(("only",)).resolve(served_key("x", None))[0] == "only"
