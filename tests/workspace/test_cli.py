"""`schemakit fetch` and `schemakit endpoint ...` run as a user runs them, against the emulator over HTTP."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from ws_helpers import (
    ADMIN_TOKEN,
    ALICE_TOKEN,
    ENDPOINT,
    ROOT,
    SAMPLE,
    Seen,
    StubServer,
    cli_env,
    forward,
    json_reply,
    oidc_handler,
    run_cli,
    write_config,
)

from schemakit._exceptions import PermissionDeniedError
from schemakit.cli.main import cli
from schemakit.testing import MockServer

MODEL = "vanilla_simple_model-2"
SAMPLE_DOCUMENT = json.loads((ROOT / "samples" / "docs-example-dataframe.json").read_text())


def env_for(server: MockServer, token: str = ADMIN_TOKEN) -> dict[str, str]:
    return cli_env(DATABRICKS_HOST=server.url, DATABRICKS_TOKEN=token)


def test_fetch_with_a_profile_file_then_check(server: MockServer, tmp_path: Path) -> None:
    config = write_config(tmp_path / "databrickscfg", f"[staging]\nhost = {server.url}\ntoken = {ADMIN_TOKEN}\n")
    env = cli_env(DATABRICKS_CONFIG_FILE=str(config))
    target = tmp_path / "schemas" / "ads.json"

    fetched = run_cli("fetch", ENDPOINT, "--profile", "staging", "-o", str(target), env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == ""
    assert fetched.stderr.startswith(
        f"wrote {target}: endpoint '{ENDPOINT}' (config version 2), 1 served model(s), 7 warning(s)"
    )
    text = target.read_text()
    assert json.loads(text) == SAMPLE_DOCUMENT
    # Sorted keys, two-space indent, a final newline: a committed copy diffs cleanly.
    assert text == json.dumps(SAMPLE_DOCUMENT, indent=2, sort_keys=True) + "\n"

    up_to_date = run_cli("fetch", ENDPOINT, "--profile", "staging", "-o", str(target), "--check", env=env)
    assert up_to_date.returncode == 0
    assert up_to_date.stderr == f"{target} is up to date with endpoint '{ENDPOINT}' (config version 2)\n"

    stale = json.loads(text)
    stale["info"]["version"] = "1"
    del stale["servers"]
    target.write_text(json.dumps(stale))
    differs = run_cli("fetch", ENDPOINT, "--profile", "staging", "-o", str(target), "--check", env=env)
    assert differs.returncode == 1
    assert differs.stderr.splitlines()[:3] == [
        f"{target} differs from endpoint '{ENDPOINT}' (config version 2) at 2 place(s):",
        '  /info/version: "1" in the file, "2" in the endpoint\'s schema',
        "  /servers: only in the endpoint's schema",
    ]
    assert json.loads(target.read_text()) == stale  # --check writes nothing


def test_fetch_with_environment_variables_to_stdout(server: MockServer) -> None:
    result = run_cli("fetch", ENDPOINT, env=env_for(server))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SAMPLE_DOCUMENT
    assert result.stderr == f"fetched endpoint '{ENDPOINT}' (config version 2): 1 served model(s), 7 warning(s)\n"


def test_fetch_refuses_an_endpoint_that_is_updating(server: MockServer, tmp_path: Path) -> None:
    server.configure(ENDPOINT, ready_after_polls=50)
    result = run_cli("fetch", ENDPOINT, "-o", str(tmp_path / "x.json"), env=env_for(server))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"schemakit: error: endpoint '{ENDPOINT}' is not ready: a configuration update is in progress, so the "
        "schema could be stale (NOT_READY, config update IN_PROGRESS, pending config version 2)"
    )
    assert f"pending served entity '{MODEL}' (vanilla_simple_model version 2): DEPLOYMENT_CREATING" in lines[1]
    assert lines[-1] == f"  wait for it: schemakit fetch {ENDPOINT} --wait 900"
    assert not (tmp_path / "x.json").exists()


def test_fetch_waits_through_not_ready_to_ready(server: MockServer, tmp_path: Path) -> None:
    server.configure(ENDPOINT, ready_after_polls=3)
    target = tmp_path / "ads.json"
    result = run_cli("fetch", ENDPOINT, "--wait", "60", "--poll", "0.05", "-o", str(target), env=env_for(server))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"endpoint '{ENDPOINT}': NOT_READY, config update IN_PROGRESS, pending config version 2; waiting up to 60 s"
    )
    assert lines[1].startswith(f"endpoint '{ENDPOINT}': READY, config update NOT_UPDATING, config version 2 (after")
    assert json.loads(target.read_text()) == SAMPLE_DOCUMENT


def test_fetch_wait_times_out_with_the_last_state(server: MockServer) -> None:
    server.configure(ENDPOINT, ready_after_polls=100_000)
    result = run_cli("fetch", ENDPOINT, "--wait", "0.3", "--poll", "0.05", env=env_for(server))
    assert result.returncode == 2
    assert f"schemakit: error: endpoint '{ENDPOINT}' still not ready after" in result.stderr
    assert "(NOT_READY, config update IN_PROGRESS, pending config version 2)" in result.stderr
    assert result.stdout == ""


def test_failed_deployment_shows_states_messages_and_build_logs(server: MockServer) -> None:
    server.configure(ENDPOINT, deployment_failed=True)
    result = run_cli("fetch", ENDPOINT, "--wait", "60", "--poll", "0.05", env=env_for(server))
    assert result.returncode == 2
    err = result.stderr
    assert (
        f"schemakit: error: endpoint '{ENDPOINT}' is not ready: the last configuration update failed "
        "(NOT_READY, config update UPDATE_FAILED, pending config version 2)"
    ) in err
    assert "DEPLOYMENT_FAILED: Container image build failed: `pip install` exited with status 1." in err
    assert f"  build logs of '{MODEL}' (vanilla_simple_model version 2) (last 7 lines):" in err
    assert "ERROR: Could not install the model's dependencies." in err
    assert "fix the served model" in err


def test_a_document_with_errors_is_not_written(tmp_path: Path) -> None:
    broken = dict(SAMPLE_DOCUMENT)
    broken["info"] = {"title": ENDPOINT, "version": "2", "contact": "not an object"}
    source = tmp_path / "broken.json"
    source.write_text(json.dumps(broken))
    with MockServer([str(source)], token=ADMIN_TOKEN) as server:
        target = tmp_path / "out.json"
        result = run_cli("fetch", ENDPOINT, "-o", str(target), env=env_for(server))
    assert result.returncode == 1, result.stderr
    assert f"endpoint:{ENDPOINT}: error [openapi-structure] /info/contact:" in result.stderr
    assert result.stderr.splitlines()[-1] == f"endpoint:{ENDPOINT}: the fetched schema has 1 error(s); nothing written"
    assert not target.exists()


def test_status_text_and_json(server: MockServer) -> None:
    text = run_cli("endpoint", "status", ENDPOINT, env=env_for(server))
    assert text.returncode == 0
    assert text.stdout.splitlines() == [
        f"endpoint        {ENDPOINT} (id {server.endpoint_id(ENDPOINT)})",
        "state           READY, config update NOT_UPDATING",
        "config version  2",
        "your permission CAN_MANAGE",
        "served entities",
        f"  {MODEL}  vanilla_simple_model v2   DEPLOYMENT_READY",
        "traffic",
        f"  100%  {MODEL}",
    ]
    as_json = run_cli("endpoint", "status", ENDPOINT, "--format", "json", env=env_for(server))
    data = json.loads(as_json.stdout)
    assert (data["ready"], data["config_update"], data["is_ready"], data["config_version"]) == (
        "READY",
        "NOT_UPDATING",
        True,
        2,
    )
    assert data["traffic_routes"] == [{"served_model_name": MODEL, "traffic_percentage": 100}]


def test_stop_then_start(server: MockServer) -> None:
    env = env_for(server)
    stopped = run_cli("endpoint", "stop", ENDPOINT, env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == f"stopped endpoint '{ENDPOINT}': NOT_READY, config update NOT_UPDATING, config version 2\n"

    refused = run_cli("fetch", ENDPOINT, "--wait", "30", env=env)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"schemakit: error: endpoint '{ENDPOINT}' is not ready: it is stopped")
    assert f"start it: schemakit endpoint start {ENDPOINT}" in refused.stderr

    started = run_cli("endpoint", "start", ENDPOINT, "--wait", "30", "--poll", "0.05", env=env)
    assert started.returncode == 0, started.stderr
    assert started.stdout == f"started endpoint '{ENDPOINT}': READY, config update NOT_UPDATING, config version 2\n"
    assert run_cli("fetch", ENDPOINT, env=env).returncode == 0


def test_delete_asks_first(server: MockServer) -> None:
    env = env_for(server)
    declined = run_cli("endpoint", "delete", ENDPOINT, env=env, input="n\n")
    assert declined.returncode == 2
    assert f"Delete serving endpoint '{ENDPOINT}'" in declined.stderr
    assert declined.stderr.rstrip().endswith("schemakit: aborted")
    assert server.endpoints == [ENDPOINT]

    no_answer = run_cli("endpoint", "delete", ENDPOINT, env=env)  # stdin closed: no silent yes
    assert no_answer.returncode == 2
    assert server.endpoints == [ENDPOINT]

    confirmed = run_cli("endpoint", "delete", ENDPOINT, env=env, input="y\n")
    assert confirmed.returncode == 0
    assert confirmed.stdout == f"deleted endpoint '{ENDPOINT}'\n"
    assert server.endpoints == []

    gone = run_cli("endpoint", "status", ENDPOINT, env=env)
    assert gone.returncode == 2
    assert gone.stderr == f"schemakit: error: no serving endpoint named '{ENDPOINT}' on {server.url}\n"


def test_delete_with_yes_and_with_cli_runner(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    runner = CliRunner()
    declined = runner.invoke(cli, ["endpoint", "delete", ENDPOINT], input="n\n")
    assert declined.exit_code == 1  # click's Abort, which `schemakit` turns into exit 2
    assert server.endpoints == [ENDPOINT]
    deleted = runner.invoke(cli, ["endpoint", "delete", ENDPOINT, "--yes", "--format", "json"])
    assert deleted.exit_code == 0, deleted.output
    assert json.loads(deleted.output) == {"schema_version": 1, "name": ENDPOINT, "deleted": True}
    assert server.endpoints == []


def test_logs_and_build_logs(server: MockServer) -> None:
    env = env_for(server)
    logs = run_cli("endpoint", "logs", ENDPOINT, MODEL, "--tail", "2", env=env)
    assert logs.returncode == 0
    assert len(logs.stdout.splitlines()) == 2
    build = run_cli("endpoint", "build-logs", ENDPOINT, MODEL, "--config-version", "1", "--format", "json", env=env)
    data = json.loads(build.stdout)
    assert data["config_version"] == 1
    assert any("config_version=1" in line for line in data["lines"])
    unknown = run_cli("endpoint", "logs", ENDPOINT, "nope", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr == (
        f"schemakit: error: endpoint '{ENDPOINT}' has no served model 'nope' (served models: {MODEL})\n"
    )


def test_permission_grant_then_403(server: MockServer) -> None:
    server.add_user("alice", token=ALICE_TOKEN)
    denied = run_cli("endpoint", "status", ENDPOINT, env=env_for(server, ALICE_TOKEN))
    assert denied.returncode == 2
    assert denied.stderr.startswith(
        f"schemakit: error: permission denied to read endpoint '{ENDPOINT}': that needs CAN_VIEW, which the "
        "token from DATABRICKS_TOKEN does not have"
    )

    granted = run_cli("endpoint", "permissions", ENDPOINT, "--grant", "alice=can_query", env=env_for(server))
    assert granted.returncode == 0, granted.stderr
    assert granted.stderr == f"granted CAN_QUERY on endpoint '{ENDPOINT}' to user alice\n"
    assert "  alice              user               CAN_QUERY" in granted.stdout.splitlines()

    as_alice = env_for(server, ALICE_TOKEN)
    assert run_cli("fetch", ENDPOINT, env=as_alice).returncode == 0
    stop = run_cli("endpoint", "stop", ENDPOINT, env=as_alice)
    assert stop.returncode == 2
    assert stop.stderr.startswith(
        f"schemakit: error: permission denied to stop endpoint '{ENDPOINT}': that needs CAN_MANAGE, which the "
        "token from DATABRICKS_TOKEN does not have (HTTP 403: User alice does not have Can Manage permission"
    )
    regrant = run_cli("endpoint", "permissions", ENDPOINT, "--grant", "alice=CAN_MANAGE", env=as_alice)
    assert regrant.returncode == 2
    assert "that needs CAN_MANAGE" in regrant.stderr

    bad_level = run_cli("endpoint", "permissions", ENDPOINT, "--grant", "alice=OWNER", env=env_for(server))
    assert bad_level.returncode == 2
    assert "unknown level 'OWNER'" in bad_level.stderr


def test_permission_denied_through_cli_runner(server: MockServer) -> None:
    server.add_user("alice", token=ALICE_TOKEN)
    result = CliRunner().invoke(cli, ["endpoint", "status", ENDPOINT, "--host", server.url, "--token", ALICE_TOKEN])
    assert isinstance(result.exception, PermissionDeniedError)
    assert "the token from --token does not have" in result.exception.format_message()


def test_endpoint_source_for_inspect(server: MockServer, tmp_path: Path) -> None:
    result = run_cli("inspect", f"endpoint:{ENDPOINT}", "--format", "json", env=env_for(server))
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert described["title"] == ENDPOINT
    assert [c["name"] for c in described["models"][0]["columns"]] == ["int_col", "float_col", "string_col", "becx_col"]

    config = write_config(tmp_path / "cfg", f"[ci]\nhost = {server.url}\ntoken = {ADMIN_TOKEN}\n")
    with_profile = run_cli("inspect", f"endpoint:ci/{ENDPOINT}", env=cli_env(DATABRICKS_CONFIG_FILE=str(config)))
    assert with_profile.returncode == 0, with_profile.stderr
    assert with_profile.stdout.startswith(f"{ENDPOINT}  version 2")

    server.configure(ENDPOINT, ready_after_polls=50)
    updating = run_cli("inspect", f"endpoint:{ENDPOINT}", env=env_for(server))
    assert updating.returncode == 2
    assert updating.stderr.startswith(
        f"schemakit: error: endpoint '{ENDPOINT}' is not ready: a configuration update is in progress"
    )


def test_usage_errors(server: MockServer) -> None:
    result = run_cli("fetch", ENDPOINT, "--check", env=env_for(server))
    assert result.returncode == 2
    assert "--check needs -o FILE" in result.stderr
    missing = run_cli("endpoint", "status", ENDPOINT, env=cli_env())
    assert missing.returncode == 2
    assert missing.stderr.startswith("schemakit: error: no workspace credentials: pass --host and --token")


def test_oauth_without_the_extra_says_how_to_get_it(server: MockServer) -> None:
    # Run the real CLI with databricks-sdk made unimportable, as on an install without schemakit[databricks].
    code = (
        "import sys; sys.modules['databricks'] = None; sys.modules['databricks.sdk'] = None\n"
        "from schemakit.cli.main import main; main()"
    )
    import subprocess

    env = cli_env(DATABRICKS_HOST=server.url, DATABRICKS_CLIENT_ID="sp-id", DATABRICKS_CLIENT_SECRET="sp-secret")
    result = subprocess.run(
        [sys.executable, "-c", code, "endpoint", "status", ENDPOINT],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "schemakit: error: DATABRICKS_CLIENT_ID needs databricks-sdk's unified authentication: "
        "pip install 'schemakit[databricks]'\n"
    )


def test_oauth_m2m_through_databricks_sdk(server: MockServer, stub: Callable[..., StubServer]) -> None:
    pytest.importorskip("databricks.sdk")
    oidc = stub(oidc_handler("oauth-access-token-0123456789", "sp-id", "sp-secret-value"))
    server.add_user("robot", token="oauth-access-token-0123456789")
    server.set_permission(ENDPOINT, "robot", "CAN_VIEW")
    env = cli_env(
        DATABRICKS_HOST=server.url,
        DATABRICKS_CLIENT_ID="sp-id",
        DATABRICKS_CLIENT_SECRET="sp-secret-value",
        DATABRICKS_DISCOVERY_URL=f"{oidc.url}/oidc/.well-known/oauth-authorization-server",
    )
    result = run_cli("fetch", ENDPOINT, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == SAMPLE_DOCUMENT
    assert [s.path for s in oidc.seen] == ["/oidc/.well-known/oauth-authorization-server", "/oidc/v1/token"]
    assert "sp-secret-value" not in result.stderr


def test_cli_retries_429_then_succeeds(server: MockServer, stub: Callable[..., StubServer]) -> None:
    answered = {"n": 0}

    def throttle_twice(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
        answered["n"] += 1
        if answered["n"] <= 2:
            return json_reply(
                429, '{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}', **{"Retry-After": "0"}
            )
        return forward(server.url, request)

    front = stub(throttle_twice)
    result = CliRunner().invoke(cli, ["endpoint", "status", ENDPOINT, "--host", front.url, "--token", ADMIN_TOKEN])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "state           READY, config update NOT_UPDATING"
    assert answered["n"] == 3

    answered["n"] = -100  # now it never stops throttling: the command gives up after --retries
    given_up = CliRunner().invoke(
        cli, ["endpoint", "status", ENDPOINT, "--host", front.url, "--token", ADMIN_TOKEN, "--retries", "1"]
    )
    assert given_up.exception is not None
    assert "is still rate limited (HTTP 429)" in str(given_up.exception)
    assert "after 2 attempts" in str(given_up.exception)


def test_list_shows_every_endpoint_with_its_state() -> None:
    documents = [str(SAMPLE), str(ROOT / "samples" / "multi-model.json")]
    with MockServer(documents, token=ADMIN_TOKEN) as running:
        running.configure("ads-ranking", ready_after_polls=100)
        text = run_cli("endpoint", "list", env=env_for(running))
        as_json = run_cli("endpoint", "list", "--format", "json", env=env_for(running))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        "ads-ranking       NOT_READY, config update IN_PROGRESS, config version 7  (ads-1, ads-2, ctr_calibrator)",
        f"{ENDPOINT}  READY, config update NOT_UPDATING, config version 2  ({MODEL})",
    ]
    listed = json.loads(as_json.stdout)
    assert listed["schema_version"] == 1
    assert sorted(e["name"] for e in listed["endpoints"]) == ["ads-ranking", ENDPOINT]
