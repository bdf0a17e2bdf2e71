"""The ecosystem's own clients talk to the emulator as to a workspace: databricks-sdk and MLflow Deployments."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EP = "example-endpoint"
ROWS = [{"int_col": 1, "float_col": 2.0, "string_col": "a"}, {"int_col": 2, "float_col": 3.0, "string_col": "b"}]


def test_databricks_sdk(server: MockServer) -> None:
    sdk = pytest.importorskip("databricks.sdk")
    from databricks.sdk.errors import BadRequest, NotFound, PermissionDenied
    from databricks.sdk.service.serving import EndpointStateReady

    w = sdk.WorkspaceClient(host=server.url, token=server.token)
    endpoint = w.serving_endpoints.get(EP)
    assert endpoint.state.ready is EndpointStateReady.READY
    assert endpoint.config.served_entities[0].name == "vanilla_simple_model-2"
    assert {e.name for e in w.serving_endpoints.list()} == {EP, "chat-endpoint", "ads-ranking"}

    answer = w.serving_endpoints.query(EP, dataframe_records=ROWS)
    assert len(answer.predictions) == 2
    assert answer.served_model_name == "vanilla_simple_model-2"
    with pytest.raises(BadRequest, match="row 0, column int_col"):
        w.serving_endpoints.query(EP, dataframe_records=[{"int_col": 1.5, "float_col": 2.0, "string_col": "a"}])

    document = w.serving_endpoints.get_open_api(EP).contents.read()
    assert document == (SAMPLES / "docs-example-dataframe.json").read_bytes()
    assert "config_version=2" in w.serving_endpoints.logs(EP, "vanilla_simple_model-2").logs
    assert "build succeeded" in w.serving_endpoints.build_logs(EP, "vanilla_simple_model-2").logs

    permissions = w.serving_endpoints.get_permissions(endpoint.id)
    assert permissions.object_type == "serving-endpoint"

    server.add_user("alice", token="alice-token")
    server.set_permission(EP, "alice", "CAN_QUERY")
    alice = sdk.WorkspaceClient(host=server.url, token="alice-token")
    assert len(alice.serving_endpoints.query(EP, dataframe_records=ROWS).predictions) == 2
    with pytest.raises(PermissionDenied):
        alice.serving_endpoints.delete(EP)

    w.serving_endpoints.delete(EP)
    with pytest.raises(NotFound):
        w.serving_endpoints.get(EP)


def test_mlflow_deployments_client(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    deployments = pytest.importorskip("mlflow.deployments")
    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", server.token)
    client = deployments.get_deploy_client("databricks")
    assert client.get_endpoint(EP)["state"]["ready"] == "READY"
    answer = client.predict(endpoint=EP, inputs={"dataframe_records": ROWS})
    assert len(answer["predictions"]) == 2
    chat = client.predict(endpoint="chat-endpoint", inputs={"messages": [{"role": "user", "content": "hi"}]})
    assert chat["choices"][0]["message"]["role"] == "assistant"
