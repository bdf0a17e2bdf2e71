"""Inference tables of an endpoint serving two models to three callers, in both platform layouts and three writers.

The live endpoint is samples/multi-model.json (ads-1 and ads-2, plus ctr_calibrator that gets no traffic):

- `svc-legacy` calls with ads-1's columns (user_id, ad_id, hour), answered by ads-1;
- `svc-full` calls with ads-2's columns, device included, answered by ads-2;
- `svc-lean` calls with ads-2's required columns only (no device), answered by ads-2.

A few rows are odd on purpose: a request ads-2 already rejects (hour as text), one that failed when logged,
and one too large to log (AI Gateway: logging_error_codes; legacy: a null request).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LIVE = ROOT / "samples" / "multi-model.json"
#: Opaque served-entity ids, as system.serving.served_entities holds them.
ENTITIES = {"9c1f0b6e-ads-one": "ads-1", "4a77d2c1-ads-two": "ads-2"}
DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 2)]
CALLERS = ("svc-legacy", "svc-full", "svc-lean")


def logged_requests(n: int = 60) -> list[dict[str, Any]]:
    """One dict per request: body (text or None), status, served model, caller, day, client id, error codes."""
    rows = []
    for i in range(n):
        caller = CALLERS[i % 3]
        served = "ads-1" if caller == "svc-legacy" else "ads-2"
        record: dict[str, Any] = {"user_id": 1000 + i, "ad_id": 7 + i, "hour": i % 24}
        if caller != "svc-legacy":
            record["country"] = "FR"
        if caller == "svc-full":
            record["device"] = "mobile"
        body: str | None = json.dumps({"dataframe_records": [record]})
        status, codes = 200, None
        if i == 4:  # svc-full: hour as text, which ads-2 already rejects
            body = json.dumps({"dataframe_records": [{**record, "hour": "four"}]})
        if i == 7:  # svc-full (i % 3 == 1): failed when logged
            status = 400
        if i == 9:  # too large to log
            body, codes = None, ["MAX_REQUEST_SIZE_EXCEEDED"]
        rows.append(
            {
                "body": body,
                "status": status,
                "served": served,
                "caller": caller,
                "day": DAYS[i % 2],
                "client_request_id": f"{caller}:{i:05d}",
                "codes": codes,
                "i": i,
            }
        )
    return rows


def ai_gateway_rows(requests: list[dict[str, Any]]) -> dict[str, list[Any]]:
    by_name = {v: k for k, v in ENTITIES.items()}
    return {
        "databricks_request_id": [f"req-{r['i']}" for r in requests],
        "request_date": [r["day"] for r in requests],
        "client_request_id": [r["client_request_id"] for r in requests],
        "request_time": [dt.datetime.combine(r["day"], dt.time(12, 0), dt.timezone.utc) for r in requests],
        "status_code": [r["status"] for r in requests],
        "sampling_fraction": [0.5 for _ in requests],
        "execution_duration_ms": [12 for _ in requests],
        "request": [r["body"] for r in requests],
        "response": ['{"predictions": [0.1]}' for _ in requests],
        "logging_error_codes": [r["codes"] for r in requests],
        "served_entity_id": [by_name[r["served"]] for r in requests],
        "requester": [f"{r['caller']}@example.com" for r in requests],
    }


def legacy_rows(requests: list[dict[str, Any]]) -> dict[str, list[Any]]:
    def metadata(served: str) -> list[tuple[str, str]]:
        name, _, version = served.rpartition("-")
        return [("model_name", name), ("model_version", version), ("endpoint_name", "ads-ranking")]

    return {
        "client_request_id": [r["client_request_id"] for r in requests],
        "databricks_request_id": [f"req-{r['i']}" for r in requests],
        "date": [r["day"] for r in requests],
        "timestamp_ms": [
            int(dt.datetime.combine(r["day"], dt.time(12, 0), dt.timezone.utc).timestamp() * 1000) for r in requests
        ],
        "status_code": [r["status"] for r in requests],
        "execution_time_ms": [12 for _ in requests],
        "request": [r["body"] for r in requests],
        "response": ['{"predictions": [0.1]}' for _ in requests],
        "request_metadata": [metadata(r["served"]) for r in requests],
    }


def write_parquet(columns: dict[str, list[Any]], path: Path, layout: str) -> Path:
    import pyarrow.parquet as pq

    pq.write_table(_arrow(columns, layout), path)
    return path


def write_delta(columns: dict[str, list[Any]], path: Path, layout: str) -> Path:
    from deltalake import write_deltalake

    write_deltalake(str(path), _arrow(columns, layout))
    return path


def _arrow(columns: dict[str, list[Any]], layout: str) -> Any:
    import pyarrow as pa

    fields = []
    for name, values in columns.items():
        if name == "request_metadata":
            fields.append(pa.field(name, pa.map_(pa.string(), pa.string())))
        elif name == "logging_error_codes":
            fields.append(pa.field(name, pa.list_(pa.string())))
        elif name == "request_time":
            fields.append(pa.field(name, pa.timestamp("us", tz="UTC")))
        elif name in ("status_code",):
            fields.append(pa.field(name, pa.int32()))
        else:
            fields.append(pa.field(name, pa.array(values).type))
    return pa.table({n: pa.array(v, f.type) for (n, v), f in zip(columns.items(), fields, strict=True)})


def write_json_lines(columns: dict[str, list[Any]], path: Path) -> Path:
    """As an export writes them: dates as text, request_metadata as a list of {key, value} pairs."""
    names = list(columns)
    with path.open("w") as out:
        for values in zip(*columns.values(), strict=True):
            record = {}
            for name, value in zip(names, values, strict=True):
                if isinstance(value, (dt.date, dt.datetime)):
                    value = value.isoformat()
                if name == "request_metadata":
                    value = [{"key": k, "value": v} for k, v in value]
                record[name] = value
            out.write(json.dumps(record) + "\n")
    return path


def candidate_document(tmp: Path) -> Path:
    """The candidate: ads-2 now requires `device` (breaks svc-lean only); ctr_calibrator's raw_score
    becomes a long (breaking, yet no logged request goes to ctr_calibrator)."""
    document = json.loads(LIVE.read_text())
    document["info"]["version"] = "8"
    for name, item in document["paths"].items():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        branches = schema.get("oneOf", [schema])
        for branch in branches:
            records = branch.get("properties", {}).get("dataframe_records")
            if "/ads-2/" in name and records is not None:
                records["items"]["required"] = [*records["items"]["required"], "device"]
            split = branch.get("properties", {}).get("dataframe_split")
            if "/ads-2/" in name and split is not None:
                columns = split["properties"]["columns"]
                columns["description"] = columns["description"].replace("country", "country, device")
            if "/ctr_calibrator/" in name and records is not None:
                records["items"]["properties"]["raw_score"] = {"type": "integer", "format": "int64"}
    path = tmp / "candidate.json"
    path.write_text(json.dumps(copy.deepcopy(document)))
    return path


# -- traffic through the emulator ---------------------------------------------------------------------------

EMULATOR_ENDPOINT = "ads-ranking"
EMULATOR_ADMIN = "dapi-gate-admin"
#: caller -> (token, served model it calls, whether its records carry ads-2's `device`)
EMULATOR_CALLERS = {
    "svc-legacy": ("dapi-legacy", "ads-1", False),
    "svc-full": ("dapi-full", "ads-2", True),
    "svc-lean": ("dapi-lean", "ads-2", False),
}


def two_models(document: dict[str, Any]) -> dict[str, Any]:
    """samples/multi-model.json without ctr_calibrator: an endpoint serving ads-1 and ads-2."""
    document["paths"] = {k: v for k, v in document["paths"].items() if "/ctr_calibrator/" not in k}
    return document


def emulator_traffic(folder: Path, requests_each: int = 12) -> tuple[Path, Path]:
    """The two-model endpoint in the emulator, `requests_each` requests from each caller over HTTP with its own
    token, logged by the emulator as an AI Gateway inference table: (the live document, the table)."""
    import httpx

    from schemakit.testing import MockServer

    live = folder / "live-two.json"
    live.write_text(json.dumps(two_models(json.loads(LIVE.read_text()))))
    tables = folder / "tables"
    with MockServer([live], token=EMULATOR_ADMIN, inference_dir=tables, update_seconds=0) as server:
        for name, (token, _, _) in EMULATOR_CALLERS.items():
            server.add_user(name, token=token)
            server.set_permission(EMULATOR_ENDPOINT, name, "CAN_QUERY")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            config = {"catalog_name": "main", "schema_name": "logs", "table_name_prefix": "ads", "enabled": True}
            configured = client.put(
                f"/api/2.0/serving-endpoints/{EMULATOR_ENDPOINT}/ai-gateway",
                headers={"Authorization": f"Bearer {EMULATOR_ADMIN}"},
                json={"inference_table_config": config},
            )
            assert configured.status_code == 200, configured.text
            for i in range(requests_each):
                for token, served, device in EMULATOR_CALLERS.values():
                    row: dict[str, Any] = {"user_id": 1000 + i, "ad_id": 7 + i, "hour": i % 24}
                    if served == "ads-2":
                        row["country"] = "FR"
                    if device:
                        row["device"] = "mobile"
                    answer = client.post(
                        f"/serving-endpoints/{EMULATOR_ENDPOINT}/served-models/{served}/invocations",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"dataframe_records": [row]},
                    )
                    assert answer.status_code == 200, answer.text
    return live, tables / "main.logs.ads_payload.jsonl"
