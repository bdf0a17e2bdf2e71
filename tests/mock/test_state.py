"""State that survives a restart (--state-file), and settings files (--config)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import schemakit
from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS_EXAMPLE = SAMPLES / "docs-example-dataframe.json"
MULTI = SAMPLES / "multi-model.json"
EP = "example-endpoint"
RECORDS = {"dataframe_records": [{"int_col": 1, "float_col": 2.5, "string_col": "a"}]}


def test_stop_delete_and_permissions_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with MockServer([DOCS_EXAMPLE, MULTI], token="t", state_file=state) as server, server.client() as admin:
        server.add_user("alice", token="alice-token")
        endpoint_id = server.endpoint_id(EP)
        url = f"/api/2.0/permissions/serving-endpoints/{endpoint_id}"
        assert admin.patch(url, json={"access_control_list": [{"user_name": "alice", "permission_level": "CAN_VIEW"}]}).status_code == 200
        assert admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop").status_code == 200
        assert admin.delete("/api/2.0/serving-endpoints/ads-ranking").status_code == 200
        created = admin.get(f"/api/2.0/serving-endpoints/{EP}").json()["creation_timestamp"]
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    saved = json.loads(state.read_text())
    assert saved["endpoints"][EP]["stopped"] is True
    assert saved["endpoints"]["ads-ranking"]["deleted"] is True
    assert "t" not in json.dumps(saved.get("users", []))  # tokens given in code are never written
    assert "alice-token" not in state.read_text()

    with MockServer([DOCS_EXAMPLE, MULTI], token="t", state_file=state) as server, server.client() as admin:
        server.add_user("alice", token="alice-token")
        details = admin.get(f"/api/2.0/serving-endpoints/{EP}").json()
        assert details["state"]["ready"] == "NOT_READY"
        assert details["creation_timestamp"] == created
        assert details["id"] == endpoint_id
        r = admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS)
        assert r.status_code == 400
        assert "is stopped" in r.json()["message"]
        assert admin.get("/api/2.0/serving-endpoints/ads-ranking").status_code == 404
        with server.client("alice-token") as alice:
            assert alice.get(f"/api/2.0/serving-endpoints/{EP}").json()["permission_level"] == "CAN_VIEW"
        assert admin.post(f"/api/2.0/serving-endpoints/{EP}/config:start").status_code == 200

    with MockServer([DOCS_EXAMPLE, MULTI], token="t", state_file=state) as server, server.client() as admin:
        assert admin.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200


def test_state_file_keeps_what_the_user_wrote(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "users": [{"name": "bob", "token": "bob-token"}],
                "endpoints": {EP: {"throttle_queries": 1, "permissions": [{"user_name": "bob", "permission_level": "CAN_QUERY"}]}},
            }
        )
    )
    with MockServer([DOCS_EXAMPLE], state_file=state) as server, server.client("bob-token") as bob:
        assert bob.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 429
        assert bob.post(f"/serving-endpoints/{EP}/invocations", json=RECORDS).status_code == 200
        assert bob.post(f"/api/2.0/serving-endpoints/{EP}/config:stop").status_code == 403
        server.set_permission(EP, "bob", "CAN_MANAGE")
        assert bob.post(f"/api/2.0/serving-endpoints/{EP}/config:stop").status_code == 200
    saved = json.loads(state.read_text())
    assert saved["users"] == [{"name": "bob", "token": "bob-token"}]
    assert saved["endpoints"][EP]["throttle_queries"] == 1
    assert saved["endpoints"][EP]["stopped"] is True
    assert {"user_name": "bob", "permission_level": "CAN_MANAGE"} in saved["endpoints"][EP]["permissions"]


def test_state_is_written_atomically(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with MockServer([DOCS_EXAMPLE], state_file=state) as server, server.client() as admin:
        for _ in range(5):
            admin.post(f"/api/2.0/serving-endpoints/{EP}/config:stop")
            json.loads(state.read_text())  # always whole
            admin.post(f"/api/2.0/serving-endpoints/{EP}/config:start")
    assert sorted(os.listdir(tmp_path)) == ["state.json"]  # no temporary files left behind


def test_yaml_config_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(
        "users:\n"
        "  - {name: carol, token: carol-token, groups: [analysts]}\n"
        "endpoints:\n"
        "  ads-ranking:\n"
        "    traffic: {ads-1: 100, ads-2: 0, ctr_calibrator: 0}\n"
        "    permissions:\n"
        "      - {group_name: analysts, permission_level: CAN_QUERY}\n"
    )
    payload = json.loads((SAMPLES / "payloads" / "multi-model" / "valid-ads-1-split.json").read_text())
    with MockServer([MULTI], config=config) as server, server.client("carol-token") as carol:
        names = {carol.post("/serving-endpoints/ads-ranking/invocations", json=payload).headers["served-model-name"] for _ in range(10)}
        assert names == {"ads-1"}
    assert "schemakit_mock_state" not in config.read_text()  # a config file is never written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected an object with `users` and `endpoints`"),
        ("{\"endpoint\": {}}", "unknown key(s) endpoint"),
        ("{\"endpoints\": {\"example-endpoint\": {\"throttle\": 1}}}", "unknown key(s) throttle"),
        ("{\"endpoints\": {\"example-endpoint\": {\"throttle_queries\": \"2\"}}}", "throttle_queries: expected integer"),
        ("{\"endpoints\": {\"example-endpoint\": {\"latency\": -1}}}", "latency must be a number of seconds >= 0"),
        ("{\"endpoints\": {\"example-endpoint\": {\"traffic\": {\"x\": 100}}}}", "traffic names served model(s) x"),
        ("{\"endpoints\": {\"nowhere\": {}}}", "no document defines: nowhere"),
        ("{\"users\": [{\"name\": \"x\"}]}", "expected a non-empty `token`"),
        ("{\"endpoints\": {\"example-endpoint\": {\"permissions\": [{\"user_name\": \"x\", \"permission_level\": \"OWNER\"}]}}}", "permission_level must be one of"),
        ("{not json", "mock.json"),
    ],
)
def test_bad_config_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "mock.json"
    config.write_text(text)
    with pytest.raises(schemakit.SourceError) as info:
        MockServer([DOCS_EXAMPLE], config=config)
    assert message in info.value.format_message()
    assert "\n" not in info.value.format_message()


def test_two_documents_with_one_title_are_refused() -> None:
    with pytest.raises(schemakit.SourceError, match="two documents define the endpoint 'all-types'"):
        MockServer([SAMPLES / "all-types.json", SAMPLES / "all-types-refs.json"])


def test_endpoint_schema_objects_are_sources() -> None:
    schema = schemakit.load(str(DOCS_EXAMPLE))
    with MockServer([schema]) as server, server.client() as admin:
        assert admin.get(f"/api/2.0/serving-endpoints/{EP}/openapi").json()["info"]["title"] == EP
        assert server.url.startswith("http://127.0.0.1:")
        assert server.endpoint_url(EP) == f"{server.url}/serving-endpoints/{EP}"


def test_a_state_file_that_cannot_be_written_fails_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(schemakit.SourceError, match=r"not-a-directory/state.json: cannot (read|write)"):
        MockServer([DOCS_EXAMPLE], state_file=blocker / "state.json")


def test_a_new_state_file_is_written_at_start(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with MockServer([DOCS_EXAMPLE], state_file=state):
        saved = json.loads(state.read_text())
    assert saved["endpoints"][EP]["stopped"] is False
    assert saved["endpoints"][EP]["permissions"] == [{"permission_level": "CAN_MANAGE", "user_name": "admin@example.com"}]
