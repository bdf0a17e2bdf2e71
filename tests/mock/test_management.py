"""The management API over real HTTP: list, get, openapi, stop/start, delete, logs, permissions, errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from schemakit.testing import ADMIN_USER, MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS_EXAMPLE = SAMPLES / "docs-example-dataframe.json"
EP = "example-endpoint"
MODEL = "vanilla_simple_model-2"
RECORDS = {"dataframe_records": [{"int_col": 1, "float_col": 2.5, "string_col": "a"}]}


def test_list_shows_every_endpoint_with_state_and_permission_level(admin: httpx.Client) -> None:
    r = admin.get("/api/2.0/serving-endpoints")
    assert r.status_code == 200
    endpoints = {e["name"]: e for e in r.json()["endpoints"]}
    assert set(endpoints) == {"example-endpoint", "chat-endpoint", "ads-ranking"}
    example = endpoints["example-endpoint"]
    assert example["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
    assert example["permission_level"] == "CAN_MANAGE"
    assert [e["name"] for e in example["config"]["served_entities"]] == [MODEL]
    assert endpoints["chat-endpoint"]["task"] == "llm/v1/chat"


def test_get_is_shaped_like_the_reference_details(admin: httpx.Client, server: MockServer) -> None:
    reference = json.loads((SAMPLES / "endpoint-details.json").read_text())
    details = admin.get(f"/api/2.0/serving-endpoints/{EP}").json()
    # Every key of the reference example is there, at every level a client reads.
    assert set(reference) <= set(details)
    assert set(reference["config"]) <= set(details["config"])
    entity = details["config"]["served_entities"][0]
    assert set(reference["config"]["served_entities"][0]) <= set(entity)
    assert entity["name"] == MODEL
    assert (entity["entity_name"], entity["entity_version"]) == ("vanilla_simple_model", "2")
    assert entity["state"] == {"deployment": "DEPLOYMENT_READY", "deployment_state_message": ""}
    assert details["config"]["traffic_config"]["routes"] == [
        {"served_model_name": MODEL, "served_entity_name": MODEL, "traffic_percentage": 100}
    ]
    assert details["config"]["config_version"] == 2  # from info.version "2"
    assert details["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
    assert details["id"] == server.endpoint_id(EP)
    assert details["permission_level"] == "CAN_MANAGE"
    assert "pending_config" not in details


def test_traffic_is_split_evenly_across_served_models(admin: httpx.Client) -> None:
    routes = admin.get("/api/2.0/serving-endpoints/ads-ranking").json()["config"]["traffic_config"]["routes"]
    assert [(r["served_model_name"], r["traffic_percentage"]) for r in routes] == [
        ("ads-1", 34),
        ("ads-2", 33),
        ("ctr_calibrator", 33),
    ]


def test_openapi_answers_the_original_document_bytes(admin: httpx.Client) -> None:
    r = admin.get(f"/api/2.0/serving-endpoints/{EP}/openapi")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == DOCS_EXAMPLE.read_bytes()


def test_openapi_of_a_yaml_document_is_json(mock_server) -> None:  # type: ignore[no-untyped-def]
    server = mock_server(SAMPLES / "house-prices.yaml")
    with server.client() as client:
        body = client.get("/api/2.0/serving-endpoints/house-prices/openapi").json()
    assert body["info"]["title"] == "house-prices"
    assert body["openapi"].startswith("3.")


def test_unknown_endpoint_is_404_resource_does_not_exist(admin: httpx.Client) -> None:
    for request in (
        admin.build_request("GET", "/api/2.0/serving-endpoints/nope"),
        admin.build_request("GET", "/api/2.0/serving-endpoints/nope/openapi"),
        admin.build_request("POST", "/api/2.0/serving-endpoints/nope/config:stop"),
        admin.build_request("DELETE", "/api/2.0/serving-endpoints/nope"),
        admin.build_request("POST", "/serving-endpoints/nope/invocations", json=RECORDS),
    ):
        r = admin.send(request)
        assert r.status_code == 404, request.url
        assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert "nope" in r.json()["message"]


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Credential was not sent"),
        ("Bearer wrong-token", "Invalid access token"),
        ("Basic dXNlcjpwYXNz", "Invalid access token"),  # basic token:<PAT> is read; user:pass is no PAT
        ("Bearer", "Credential was not sent"),
    ],
)
def test_missing_or_bad_token_is_401(server: MockServer, authorization: str | None, message: str) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (
        ("GET", "/api/2.0/serving-endpoints"),
        ("GET", f"/api/2.0/serving-endpoints/{EP}"),
        ("POST", f"/serving-endpoints/{EP}/invocations"),
        ("GET", f"/api/2.0/permissions/serving-endpoints/{server.endpoint_id(EP)}"),
    ):
        r = httpx.request(method, server.url + path, headers=headers, json=RECORDS)
        assert r.status_code == 401, path
        assert r.json()["error_code"] == "UNAUTHENTICATED"
        assert message in r.json()["message"]
        assert "wrong-token" not in r.text


def test_stop_query_400_start_query_200(admin: httpx.Client) -> None:
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200

    stopped = admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop")
    assert stopped.status_code == 200
    assert stopped.json()["state"]["ready"] == "NOT_READY"
    assert admin.get(f"/api/2.0/serving-endpoints/{EP}").json()["state"]["ready"] == "NOT_READY"

    r = admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS)
    assert r.status_code == 400
    assert r.json()["error_code"] == "BAD_REQUEST"
    assert "is stopped" in r.json()["message"]
    assert admin.post(f"/serving-endpoints/{EP}/served-models/{MODEL}/invocations", json=RECORDS).status_code == 400

    again = admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop")
    assert again.status_code == 400
    assert "already stopped" in again.json()["message"]

    started = admin.post(f"/api/2.0/serving-endpoints/{EP}/config:start")
    assert started.status_code == 200
    assert started.json()["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200
    assert admin.post(f"/api/2.0/serving-endpoints/{EP}/config:start").status_code == 400


def test_stop_is_refused_while_an_update_is_in_progress(server: MockServer, admin: httpx.Client) -> None:
    server.configure(EP, ready_after_polls=1)
    r = admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop")
    assert r.status_code == 409
    assert r.json()["error_code"] == "RESOURCE_CONFLICT"
    assert "update is in progress" in r.json()["message"]
    admin.get(f"/api/2.0/serving-endpoints/{EP}")  # the one poll that finishes the update
    assert admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop").status_code == 200


def test_foundation_model_endpoints_cannot_be_stopped(admin: httpx.Client) -> None:
    r = admin.post("/api/2.0/serving-endpoints/chat-endpoint/config:stop")
    assert r.status_code == 400
    assert "custom models" in r.json()["message"]


def test_start_after_stop_replays_the_update_when_configured(server: MockServer, admin: httpx.Client) -> None:
    assert admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop").status_code == 200
    server.configure(EP, ready_after_polls=2)
    started = admin.post(f"/api/2.0/serving-endpoints/{EP}/config:start").json()
    assert started["state"] == {"ready": "NOT_READY", "config_update": "IN_PROGRESS"}
    states = [admin.get(f"/api/2.0/serving-endpoints/{EP}").json()["state"]["ready"] for _ in range(3)]
    assert states == ["NOT_READY", "NOT_READY", "READY"]


def test_delete_removes_the_endpoint(admin: httpx.Client, server: MockServer) -> None:
    endpoint_id = server.endpoint_id(EP)
    r = admin.delete(f"/api/2.0/serving-endpoints/{EP}")
    assert r.status_code == 200
    assert r.json() == {}
    assert admin.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 404
    assert EP not in [e["name"] for e in admin.get("/api/2.0/serving-endpoints").json()["endpoints"]]
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 404
    assert admin.get(f"/api/2.0/permissions/serving-endpoints/{endpoint_id}").status_code == 404
    assert admin.delete(f"/api/2.0/serving-endpoints/{EP}").status_code == 404
    assert server.endpoints == ["chat-endpoint", "ads-ranking"]


def test_logs_and_build_logs(admin: httpx.Client) -> None:
    admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS)
    logs = admin.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/logs")
    assert logs.status_code == 200
    text = logs.json()["logs"]
    assert "config_version=2" in text
    assert "1 row(s) scored" in text
    build = admin.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/build-logs").json()["logs"]
    assert "Container image build succeeded." in build
    assert "config_version=2" in build


def test_logs_honour_config_version(admin: httpx.Client) -> None:
    old = admin.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/logs", params={"config_version": 1})
    assert old.status_code == 200
    assert "config_version=1" in old.json()["logs"]
    assert "config_version=2" not in old.json()["logs"]
    old_build = admin.get(
        f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/build-logs", params={"config_version": "1"}
    )
    assert "config_version=1" in old_build.json()["logs"]

    future = admin.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/logs", params={"config_version": 3})
    assert future.status_code == 404
    assert future.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    bad = admin.get(f"/api/2.0/serving-endpoints/{EP}/served-models/{MODEL}/logs", params={"config_version": "x"})
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_logs_of_an_unknown_served_model_are_404(admin: httpx.Client) -> None:
    r = admin.get(f"/api/2.0/serving-endpoints/{EP}/served-models/ghost/logs")
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert MODEL in r.json()["message"]


def test_permissions_get_patch_put(server: MockServer, admin: httpx.Client) -> None:
    server.add_user("alice", token="alice-token")
    server.add_user("bob", token="bob-token", groups=["analysts"])
    url = f"/api/2.0/permissions/serving-endpoints/{server.endpoint_id(EP)}"

    acl = admin.get(url).json()
    assert acl["object_id"] == f"/serving-endpoints/{server.endpoint_id(EP)}"
    assert acl["object_type"] == "serving-endpoint"
    assert {"user_name": ADMIN_USER, "display_name": ADMIN_USER, "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": False}]} in acl["access_control_list"]

    patched = admin.patch(url, json={"access_control_list": [{"user_name": "alice", "permission_level": "CAN_QUERY"}]})
    assert patched.status_code == 200
    levels = {e.get("user_name") or e.get("group_name"): e["all_permissions"][0]["permission_level"] for e in patched.json()["access_control_list"]}
    assert levels == {ADMIN_USER: "CAN_MANAGE", "alice": "CAN_QUERY", "admins": "CAN_MANAGE"}

    with server.client("alice-token") as alice:
        assert alice.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200

    put = admin.put(url, json={"access_control_list": [{"group_name": "analysts", "permission_level": "CAN_VIEW"}]})
    levels = {e.get("user_name") or e.get("group_name"): e["all_permissions"][0]["permission_level"] for e in put.json()["access_control_list"]}
    assert levels == {"analysts": "CAN_VIEW", "admins": "CAN_MANAGE"}
    with server.client("alice-token") as alice:
        assert alice.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 403
    with server.client("bob-token") as bob:
        assert bob.get(f"/api/2.0/serving-endpoints/{EP}").json()["permission_level"] == "CAN_VIEW"
    # The admin keeps CAN_MANAGE through the admins group.
    assert admin.get(f"/api/2.0/serving-endpoints/{EP}").json()["permission_level"] == "CAN_MANAGE"

    levels_doc = admin.get(url + "/permissionLevels").json()
    assert [p["permission_level"] for p in levels_doc["permission_levels"]] == ["CAN_MANAGE", "CAN_QUERY", "CAN_VIEW"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"access_control_list": [{"user_name": "carol", "permission_level": "CAN_QUERY"}]}, "UserName(carol) does not exist"),
        ({"access_control_list": [{"user_name": "alice", "permission_level": "CAN_EVERYTHING"}]}, "permission_level must be one of"),
        ({"access_control_list": [{"permission_level": "CAN_QUERY"}]}, "exactly one of"),
        ({"access_control_list": "alice"}, "expected a list"),
    ],
)
def test_bad_permission_updates_are_400(server: MockServer, admin: httpx.Client, body: object, fragment: str) -> None:
    server.add_user("alice", token="alice-token")
    r = admin.patch(f"/api/2.0/permissions/serving-endpoints/{server.endpoint_id(EP)}", json=body)
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in r.json()["message"]


def test_can_query_cannot_manage(server: MockServer) -> None:
    server.add_user("alice", token="alice-token")
    server.set_permission(EP, "alice", "CAN_QUERY")
    url = f"/api/2.0/permissions/serving-endpoints/{server.endpoint_id(EP)}"
    with server.client("alice-token") as alice:
        assert alice.get(f"/api/2.0/serving-endpoints/{EP}").json()["permission_level"] == "CAN_QUERY"
        assert alice.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200
        for r in (
            alice.post(f"/api/2.0/serving-endpoints/{EP}/config:stop"),
            alice.post(f"/api/2.0/serving-endpoints/{EP}/config:start"),
            alice.delete(f"/api/2.0/serving-endpoints/{EP}"),
            alice.patch(url, json={"access_control_list": [{"user_name": "alice", "permission_level": "CAN_MANAGE"}]}),
            alice.put(url, json={"access_control_list": []}),
        ):
            assert r.status_code == 403, r.request.url
            assert r.json()["error_code"] == "PERMISSION_DENIED"
            assert "Can Manage" in r.json()["message"]
        assert alice.get(url).status_code == 200
    assert server.endpoints[0] == EP  # nothing was deleted


def test_can_view_cannot_query_and_no_permission_sees_nothing(server: MockServer) -> None:
    server.add_user("viewer", token="viewer-token")
    server.add_user("stranger", token="stranger-token")
    server.set_permission(EP, "viewer", "CAN_VIEW")
    with server.client("viewer-token") as viewer:
        assert viewer.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 200
        assert viewer.get(f"/api/2.0/serving-endpoints/{EP}/openapi").status_code == 200
        r = viewer.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS)
        assert r.status_code == 403
        assert "Can Query" in r.json()["message"]
        assert [e["name"] for e in viewer.get("/api/2.0/serving-endpoints").json()["endpoints"]] == [EP]
    with server.client("stranger-token") as stranger:
        assert stranger.get("/api/2.0/serving-endpoints").json() == {"endpoints": []}
        assert stranger.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 403


def test_group_grants_reach_members(server: MockServer) -> None:
    server.add_user("dana", token="dana-token")
    server.set_permission(EP, "users", "CAN_QUERY")  # every principal is in `users`
    with server.client("dana-token") as dana:
        assert dana.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200


def test_unknown_permissions_id_is_404(admin: httpx.Client) -> None:
    r = admin.get("/api/2.0/permissions/serving-endpoints/0123456789abcdef")
    assert r.status_code == 404
    assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_requests_are_recorded_with_headers(server: MockServer, admin: httpx.Client) -> None:
    server.clear_requests()
    admin.get(f"/api/2.0/serving-endpoints/{EP}", params={"x": "1"})
    [request] = server.requests
    assert (request.method, request.path, request.query, request.status) == ("GET", f"/api/2.0/serving-endpoints/{EP}", "x=1", 200)
    assert request.headers["authorization"] == "Bearer dapi-test"
    assert request.headers["Authorization"] == "Bearer dapi-test"
    assert "dapi-test" not in repr(request)  # a failing assert never prints the token


def test_python_api_rejects_bad_settings(server: MockServer) -> None:
    with pytest.raises(TypeError, match="unknown endpoint setting"):
        server.configure(EP, ready_after=3)
    with pytest.raises(ValueError, match="must sum to 100"):
        server.configure("ads-ranking", traffic={"ads-1": 50})
    with pytest.raises(ValueError, match="permission level must be one of"):
        server.set_permission(EP, ADMIN_USER, "OWNER")
    with pytest.raises(ValueError, match="no user or group named"):
        server.set_permission(EP, "nobody", "CAN_VIEW")
    with pytest.raises(KeyError, match="no endpoint named"):
        server.configure("nope", latency=0.1)
