"""Create and update, as deploy pipelines call them: databricks-sdk (create + waiter, update_config + waiter,
put_ai_gateway, patch tags, export_metrics) and MLflow Deployments (create_endpoint, update_endpoint_config,
update_endpoint, update_endpoint_ai_gateway), with served entities from the registry the user gives."""

from __future__ import annotations

import datetime
import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
TOKEN = "dapi-deploy-admin"
CLIENT_ID = "deploy-sp"
SECRET = "deploy-sp-secret"
ENTITY = "main.default.prices"
REGISTRY = {
    f"{ENTITY}/1": SAMPLES / "docs-example-dataframe.json",
    f"{ENTITY}/2": SAMPLES / "docs-example-dataframe-v3.json",
}
ROWS = [{"int_col": 1, "float_col": 2.0, "string_col": "a"}]
UPDATE_SECONDS = 0.5
WAIT = datetime.timedelta(seconds=60)

sdk = pytest.importorskip("databricks.sdk")
serving = pytest.importorskip("databricks.sdk.service.serving")


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(
        [SAMPLES / "foundation-model-chat.json"],
        token=TOKEN,
        registry=REGISTRY,
        update_seconds=UPDATE_SECONDS,
        service_principals={CLIENT_ID: SECRET},
    ) as running:
        yield running


def _entity(version: str) -> Any:
    return serving.ServedEntityInput(
        entity_name=ENTITY, entity_version=version, workload_size="Small", scale_to_zero_enabled=True
    )


def test_pipeline_create_wait_query_update_with_traffic_split(server: MockServer) -> None:
    w = sdk.WorkspaceClient(host=server.url, token=TOKEN)
    waiter = w.serving_endpoints.create(
        "prices",
        config=serving.EndpointCoreConfigInput(name="prices", served_entities=[_entity("1")]),
        tags=[serving.EndpointTag(key="team", value="ml")],
    )
    assert waiter.response.state.config_update is serving.EndpointStateConfigUpdate.IN_PROGRESS
    assert waiter.response.state.ready is serving.EndpointStateReady.NOT_READY
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        early = client.post("/serving-endpoints/prices/invocations", json={"dataframe_records": ROWS})
    assert early.status_code == 503  # not ready yet (the SDK would retry it)
    endpoint = waiter.result(timeout=WAIT)
    assert endpoint.state.ready is serving.EndpointStateReady.READY
    assert endpoint.config.config_version == 1
    entity = endpoint.config.served_entities[0]
    assert (entity.name, entity.entity_name, entity.entity_version) == ("prices-1", ENTITY, "1")
    assert endpoint.tags == [serving.EndpointTag(key="team", value="ml")]

    # A service principal, granted CAN_QUERY, queries with OAuth M2M.
    w.serving_endpoints.set_permissions(
        endpoint.id,
        access_control_list=[
            serving.ServingEndpointAccessControlRequest(
                service_principal_name=CLIENT_ID, permission_level=serving.ServingEndpointPermissionLevel.CAN_QUERY
            )
        ],
    )
    sp = sdk.WorkspaceClient(host=server.url, client_id=CLIENT_ID, client_secret=SECRET)
    assert sp.serving_endpoints.query("prices", dataframe_records=ROWS).served_model_name == "prices-1"

    split = serving.TrafficConfig(
        routes=[
            serving.Route(served_model_name="prices-1", traffic_percentage=80),
            serving.Route(served_model_name="prices-2", traffic_percentage=20),
        ]
    )
    pending = w.serving_endpoints.update_config(
        "prices", served_entities=[_entity("1"), _entity("2")], traffic_config=split
    )
    assert pending.response.state.ready is serving.EndpointStateReady.READY  # the old config still serves
    assert pending.response.pending_config.config_version == 2
    assert w.serving_endpoints.query("prices", dataframe_records=ROWS).served_model_name == "prices-1"
    updated = pending.result(timeout=WAIT)
    assert updated.config.config_version == 2
    routes = {r.served_model_name: r.traffic_percentage for r in updated.config.traffic_config.routes}
    assert routes == {"prices-1": 80, "prices-2": 20}
    served = [sp.serving_endpoints.query("prices", dataframe_records=ROWS).served_model_name for _ in range(100)]
    assert served.count("prices-2") == 20

    gateway = w.serving_endpoints.put_ai_gateway(
        "prices", usage_tracking_config=serving.AiGatewayUsageTrackingConfig(enabled=True)
    )
    assert gateway.usage_tracking_config.enabled is True
    assert w.serving_endpoints.get("prices").ai_gateway.usage_tracking_config.enabled is True
    tags = w.serving_endpoints.patch("prices", add_tags=[serving.EndpointTag(key="stage", value="prod")])
    assert {t.key for t in tags.tags} == {"team", "stage"}
    metrics = w.serving_endpoints.export_metrics("prices").contents.read().decode()
    assert 'request_count_total{served_entity_name="prices-2"} 20\n' in metrics


def test_create_errors_are_classified(server: MockServer) -> None:
    w = sdk.WorkspaceClient(host=server.url, token=TOKEN)
    config = serving.EndpointCoreConfigInput(name="x", served_entities=[_entity("9")])
    with pytest.raises(sdk.errors.NotFound, match="registry"):
        w.serving_endpoints.create("unknown-version", config=config)
    with pytest.raises(sdk.errors.ResourceAlreadyExists):
        w.serving_endpoints.create(
            "chat-endpoint", config=serving.EndpointCoreConfigInput(name="c", served_entities=[_entity("1")])
        )


def test_unemulated_routes_fail_fast_with_a_classified_error(server: MockServer) -> None:
    w = sdk.WorkspaceClient(host=server.url, token=TOKEN)
    started = time.monotonic()
    with pytest.raises(sdk.errors.NotImplemented, match="does not emulate"):
        w.serving_endpoints.update_notifications("chat-endpoint")
    with pytest.raises(sdk.errors.NotImplemented, match="provisioned-throughput"):
        w.serving_endpoints.create_provisioned_throughput_endpoint(
            "pt-endpoint", config=serving.PtEndpointCoreConfig(served_entities=[])
        )
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        answer = client.post("/api/2.0/serving-endpoints/chat-endpoint/served-models/x/scale")
    assert answer.status_code == 404
    assert answer.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert time.monotonic() - started < 30  # no retry storm (a bound, not a timing assertion)


def test_mlflow_deployments_create_and_update(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    deployments = pytest.importorskip("mlflow.deployments")
    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    client = deployments.get_deploy_client("databricks")
    entity = {"entity_name": ENTITY, "entity_version": "1", "workload_size": "Small", "scale_to_zero_enabled": True}
    created = client.create_endpoint(config={"name": "mlflow-prices", "config": {"served_entities": [entity]}})
    assert created["state"]["config_update"] == "IN_PROGRESS"
    deadline = time.monotonic() + 30
    while client.get_endpoint("mlflow-prices")["state"]["ready"] != "READY" and time.monotonic() < deadline:
        time.sleep(0.1)
    answer = client.update_endpoint_config("mlflow-prices", {"served_entities": [{**entity, "entity_version": "2"}]})
    assert answer["pending_config"]["config_version"] == 2
    while "pending_config" in client.get_endpoint("mlflow-prices") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get_endpoint("mlflow-prices")["config"]["served_entities"][0]["entity_version"] == "2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # update_endpoint is deprecated in favour of the specific methods
        limits = client.update_endpoint(
            "mlflow-prices", {"rate_limits": [{"key": "user", "renewal_period": "minute", "calls": 10}]}
        )
    assert limits["rate_limits"][0]["calls"] == 10
    gateway = client.update_endpoint_ai_gateway("mlflow-prices", {"usage_tracking_config": {"enabled": True}})
    assert gateway["usage_tracking_config"] == {"enabled": True}
    assert client.predict(endpoint="mlflow-prices", inputs={"dataframe_records": ROWS})["predictions"]
    client.delete_endpoint("mlflow-prices")
    assert "mlflow-prices" not in {e["name"] for e in client.list_endpoints()}
    chunks = list(
        client.predict_stream(endpoint="chat-endpoint", inputs={"messages": [{"role": "user", "content": "Hi"}]})
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["usage"]["total_tokens"] > 0


def test_llm_documents_report_foundation_model_entities(server: MockServer) -> None:
    w = sdk.WorkspaceClient(host=server.url, token=TOKEN)
    endpoint = w.serving_endpoints.get("chat-endpoint")
    assert endpoint.task == "llm/v1/chat"
    assert endpoint.config.served_entities[0].foundation_model.name == "meta_llama_v3_1_8b_instruct"


def test_cli_registry_and_update_seconds() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "schemakit", "mock", "--token", TOKEN, "--update-seconds", "0",
         "--registry", f"{ENTITY}/1={REGISTRY[f'{ENTITY}/1']}", str(SAMPLES / "foundation-model-chat.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        entity = {"entity_name": ENTITY, "entity_version": "1"}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
            created = client.post(
                "/api/2.0/serving-endpoints", json={"name": "cli-made", "config": {"served_entities": [entity]}}
            )
            assert created.json()["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
            answer = client.post("/serving-endpoints/cli-made/invocations", json={"dataframe_records": ROWS})
            assert answer.status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_ai_gateway_rate_limits_and_the_inference_table_replay_reads(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "tables"
    with MockServer(
        [SAMPLES / "docs-example-dataframe.json"], token=TOKEN, inference_dir=folder, update_seconds=0
    ) as running:
        w = sdk.WorkspaceClient(host=running.url, token=TOKEN)
        w.serving_endpoints.put_ai_gateway(
            "example-endpoint",
            rate_limits=[
                serving.AiGatewayRateLimit(
                    calls=3,
                    key=serving.AiGatewayRateLimitKey.USER,
                    renewal_period=serving.AiGatewayRateLimitRenewalPeriod.MINUTE,
                )
            ],
            inference_table_config=serving.AiGatewayInferenceTableConfig(
                catalog_name="main", schema_name="logs", table_name_prefix="prices", enabled=True
            ),
        )
        with running.client() as client:
            url = "/serving-endpoints/example-endpoint/invocations"
            statuses = [client.post(url, json={"dataframe_records": ROWS}).status_code for _ in range(2)]
            statuses.append(client.post(url, json={"dataframe_records": [{"int_col": "x"}]}).status_code)
            limited = client.post(url, json={"dataframe_records": ROWS})
        assert statuses == [200, 200, 400]
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
    table = folder / "main.logs.prices_payload.jsonl"
    rows = [json.loads(line) for line in table.read_text().splitlines()]
    assert [r["status_code"] for r in rows] == [200, 200, 400]
    assert rows[0]["served_entity_id"] == "vanilla_simple_model-2"
    assert rows[0]["requester"] == "admin@example.com"
    replayed = subprocess.run(
        [sys.executable, "-m", "schemakit", "replay", str(SAMPLES / "docs-example-dataframe.json"), str(table)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr  # the rejected request had failed already
    assert "3" in replayed.stdout


def test_route_optimized_endpoint_on_its_own_host_with_oauth_only(server: MockServer) -> None:
    w = sdk.WorkspaceClient(host=server.url, token=TOKEN)
    endpoint = w.serving_endpoints.create_and_wait(
        "fast-prices",
        route_optimized=True,
        config=serving.EndpointCoreConfigInput(name="fast-prices", served_entities=[_entity("1")]),
        timeout=WAIT,
    )
    assert endpoint.route_optimized is True
    assert endpoint.endpoint_url.startswith(server.data_plane_url)
    assert endpoint.data_plane_info.query_info.endpoint_url == endpoint.endpoint_url
    w.serving_endpoints.set_permissions(
        endpoint.id,
        access_control_list=[
            serving.ServingEndpointAccessControlRequest(
                service_principal_name=CLIENT_ID, permission_level=serving.ServingEndpointPermissionLevel.CAN_QUERY
            )
        ],
    )
    sp = sdk.WorkspaceClient(host=server.url, client_id=CLIENT_ID, client_secret=SECRET)
    answer = sp.serving_endpoints_data_plane.query("fast-prices", dataframe_records=ROWS)
    assert answer.served_model_name == "prices-1"
    with pytest.raises(sdk.errors.BadRequest, match="route-optimized"):
        w.serving_endpoints.query("fast-prices", dataframe_records=ROWS)
    with httpx.Client() as client:
        pat = client.post(
            endpoint.endpoint_url, headers={"Authorization": f"Bearer {TOKEN}"}, json={"dataframe_records": ROWS}
        )
        assert pat.status_code == 401
        assert "OAuth tokens only" in pat.json()["message"]
        # The data-plane host answers queries of route-optimized endpoints, nothing else.
        assert client.get(f"{server.data_plane_url}/api/2.0/serving-endpoints").status_code == 404


def test_a_document_endpoint_marked_route_optimized() -> None:
    marked = MockServer([SAMPLES / "docs-example-dataframe.json"], token=TOKEN, route_optimized=["example-endpoint"])
    with marked as s, s.client() as client:
        details = client.get("/api/2.0/serving-endpoints/example-endpoint").json()
        assert details["route_optimized"] is True
        assert details["endpoint_url"] == f"{s.data_plane_url}/serving-endpoints/example-endpoint/invocations"
        refused = client.post("/serving-endpoints/example-endpoint/invocations", json={"dataframe_records": ROWS})
        assert refused.status_code == 400
    with pytest.raises(ValueError, match="no endpoint named"):
        MockServer([SAMPLES / "docs-example-dataframe.json"], route_optimized=["nope"])


def _dropped(sent: Any, kept: Any, path: str = "") -> list[str]:
    """Fields of `sent` that the SDK's dataclass round trip loses (unknown or misshapen to it)."""
    if isinstance(sent, dict):
        out = []
        for key, value in sent.items():
            out += [f"{path}.{key}"] if key not in kept else _dropped(value, kept[key], f"{path}.{key}")
        return out
    if isinstance(sent, list):
        return [d for i, (a, b) in enumerate(zip(sent, kept, strict=False)) for d in _dropped(a, b, f"{path}[{i}]")]
    return [] if sent == kept else [f"{path}: {sent!r} -> {kept!r}"]


def test_every_endpoint_object_reads_field_by_field_as_the_sdk_dataclass(tmp_path: Path) -> None:
    registry = {f"{ENTITY}/1": REGISTRY[f"{ENTITY}/1"]}
    with (
        MockServer(
            [SAMPLES / "foundation-model-chat.json", SAMPLES / "multi-model.json"],
            token=TOKEN,
            registry=registry,
            update_seconds=0.3,
            route_optimized=["chat-endpoint"],
        ) as running,
        running.client() as client,
    ):
        entity = {"entity_name": ENTITY, "entity_version": "1", "workload_size": "Small", "scale_to_zero_enabled": True}
        created = client.post(
            "/api/2.0/serving-endpoints",
            json={
                "name": "objects",
                "config": {"served_entities": [entity]},
                "tags": [{"key": "team", "value": "ml"}],
                "ai_gateway": {"usage_tracking_config": {"enabled": True}},
            },
        ).json()
        objects = {"created (updating)": created}
        time.sleep(0.4)
        for name in ("chat-endpoint", "ads-ranking", "objects"):
            objects[name] = client.get(f"/api/2.0/serving-endpoints/{name}").json()
        objects["pending update"] = client.put(
            "/api/2.0/serving-endpoints/objects/config", json={"served_entities": [entity]}
        ).json()
    for label, sent in objects.items():
        kept = serving.ServingEndpointDetailed.from_dict(sent).as_dict()
        assert _dropped(sent, kept) == [], label


def test_a_refused_create_leaves_nothing(server: MockServer) -> None:
    entity = {"entity_name": ENTITY, "entity_version": "1"}
    with server.client() as client:
        refused = client.post(
            "/api/2.0/serving-endpoints", json={"name": "half", "config": {"served_entities": [entity]}, "tags": "x"}
        )
        assert refused.status_code == 400
        assert client.get("/api/2.0/serving-endpoints/half").status_code == 404
