"""Lifecycle and faults on purpose: NOT_READY -> READY, failed deployments, no schema, 429/503, latency."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS_EXAMPLE = SAMPLES / "docs-example-dataframe.json"
EP = "example-endpoint"
MODEL = "vanilla_simple_model-2"
RECORDS = {"dataframe_records": [{"int_col": 1, "float_col": 2.5, "string_col": "a"}]}


def _details(client: httpx.Client) -> dict:  # type: ignore[type-arg]
    r = client.get(f"/api/2.0/serving-endpoints/{EP}")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def test_not_ready_becomes_ready_after_n_polls(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, ready_after_polls=3)
    seen = [_details(admin) for _ in range(4)]
    assert [d["state"]["ready"] for d in seen] == ["NOT_READY", "NOT_READY", "NOT_READY", "READY"]
    assert [d["state"]["config_update"] for d in seen] == ["IN_PROGRESS"] * 3 + ["NOT_UPDATING"]
    updating = seen[0]
    assert "config" not in updating
    pending = updating["pending_config"]
    assert pending["config_version"] == 2
    assert isinstance(pending["start_time"], int)
    assert pending["served_entities"][0]["state"]["deployment"] == "DEPLOYMENT_CREATING"
    ready = seen[3]
    assert "pending_config" not in ready
    assert ready["config"]["served_entities"][0]["state"]["deployment"] == "DEPLOYMENT_READY"


def test_while_updating_queries_get_503_and_openapi_is_unavailable(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, ready_after_polls=1)
    r = admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS)
    assert r.status_code == 503
    assert r.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    openapi = admin.get(f"/api/2.0/serving-endpoints/{EP}/openapi")
    assert openapi.status_code == 400
    assert openapi.json()["error_code"] == "INVALID_STATE"
    assert "only available when the endpoint is READY" in openapi.json()["message"]
    # Neither counted as a poll: the one GET of the details ends the update.
    assert _details(admin)["state"]["ready"] == "NOT_READY"
    assert _details(admin)["state"]["ready"] == "READY"
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200


def test_not_ready_becomes_ready_after_n_seconds(mock_server) -> None:  # type: ignore[no-untyped-def]
    server = mock_server(DOCS_EXAMPLE, ready_after_seconds=0.3)
    with server.client() as client:
        assert _details(client)["state"] == {"ready": "NOT_READY", "config_update": "IN_PROGRESS"}
        deadline = time.monotonic() + 10
        while _details(client)["state"]["ready"] != "READY":
            assert time.monotonic() < deadline, "never became READY"
            time.sleep(0.05)
        assert _details(client)["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}


def test_failed_deployment(mock_server) -> None:  # type: ignore[no-untyped-def]
    server = mock_server(DOCS_EXAMPLE, deployment_failed=True, failure_message="pip could not find torch==9.9")
    with server.client() as client:
        details = _details(client)
        assert details["state"] == {"ready": "NOT_READY", "config_update": "UPDATE_FAILED"}
        entity = details["pending_config"]["served_entities"][0]
        assert entity["state"] == {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": "pip could not find torch==9.9"}
        build = client.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/build-logs").json()["logs"]
        assert build.rstrip().splitlines()[-2].endswith("ERROR: pip could not find torch==9.9")
        assert "build failed" in build.rstrip().splitlines()[-1]
        logs = client.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/logs").json()["logs"]
        assert "[ERROR] Model server failed to start: pip could not find torch==9.9" in logs
        r = client.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS)
        assert r.status_code == 400
        assert "the update failed" in r.json()["message"]
        # A failed update is not in progress: the endpoint can be stopped.
        assert client.post(f"/api/2.0/serving-endpoints/{EP}/config:stop").status_code == 200


def test_failed_deployment_after_polls(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, ready_after_polls=2, deployment_failed=True)
    updates = [_details(admin)["state"]["config_update"] for _ in range(3)]
    assert updates == ["IN_PROGRESS", "IN_PROGRESS", "UPDATE_FAILED"]


def test_no_schema(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, no_schema=True)
    r = admin.get(f"/api/2.0/serving-endpoints/{EP}/openapi")
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "has no model signature" in r.json()["message"]
    # The endpoint itself still serves.
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200


def test_first_k_queries_get_429_with_retry_after(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, throttle_queries=2, retry_after=7)
    first, second, third = (admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS) for _ in range(3))
    for r in (first, second):
        assert r.status_code == 429
        assert r.headers["retry-after"] == "7"
        assert r.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert third.status_code == 200
    # Management calls are not throttled.
    assert _details(admin)["state"]["ready"] == "READY"


def test_next_k_queries_get_503(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, throttle_queries=1, unavailable_queries=2)
    statuses = [admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code for _ in range(4)]
    assert statuses == [429, 503, 503, 200]
    server.configure(EP, unavailable_queries=1, throttle_queries=0)  # counting starts again
    statuses = [admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code for _ in range(2)]
    assert statuses == [503, 200]


def test_latency_is_added_to_queries(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, latency=0.2)
    started = time.monotonic()
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_settings_from_the_constructor_per_endpoint(tmp_path: Path) -> None:
    with MockServer(
        [DOCS_EXAMPLE, SAMPLES / "foundation-model-chat.json"], settings={"chat-endpoint": {"throttle_queries": 1}}
    ) as server, server.client() as client:
        assert client.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200
        chat = {"messages": [{"role": "user", "content": "hi"}]}
        assert client.post("/serving-endpoints/chat-endpoint/invocations", json=chat).status_code == 429
        assert server.settings("chat-endpoint").throttle_queries == 1
