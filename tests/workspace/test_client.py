"""The Python API against the emulator over real HTTP: status, readiness, errors, retries, redirects, transport."""

from __future__ import annotations

import email.utils
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ws_helpers import ADMIN_TOKEN, ALICE_TOKEN, ENDPOINT, ROOT, Seen, StubServer, forward, json_reply

from schemakit import EndpointStatus, RetryPolicy, Workspace
from schemakit._exceptions import (
    AuthenticationError,
    EndpointNotFoundError,
    EndpointNotReadyError,
    PermissionDeniedError,
    RateLimitedError,
    SchemaUnavailableError,
    TransportError,
    WorkspaceError,
)
from schemakit.testing import MockServer

FAST = RetryPolicy(retries=3, backoff=0.01, max_backoff=0.05)
MODEL = "vanilla_simple_model-2"


def admin(server: MockServer, **kwargs: object) -> Workspace:
    return Workspace(host=server.url, token=ADMIN_TOKEN, **kwargs)  # type: ignore[arg-type]


def test_status_is_read_into_frozen_values(server: MockServer) -> None:
    with admin(server) as ws:
        status = ws.get_endpoint(ENDPOINT)
    assert status.is_ready
    assert (status.ready, status.config_update, status.config_version) == ("READY", "NOT_UPDATING", 2)
    assert [(e.name, e.entity_name, e.entity_version, e.deployment) for e in status.served_entities] == [
        (MODEL, "vanilla_simple_model", "2", "DEPLOYMENT_READY")
    ]
    assert [(r.served_model_name, r.traffic_percentage) for r in status.traffic_routes] == [(MODEL, 100)]
    assert status.pending_config is None
    assert status.permission_level == "CAN_MANAGE"
    with pytest.raises(AttributeError):
        status.ready = "NOT_READY"  # type: ignore[misc]


def test_older_update_state_field_is_read() -> None:
    details = json.loads((ROOT / "samples" / "endpoint-details.json").read_text())
    status = EndpointStatus.from_api(details)
    assert status.config_update == "NOT_UPDATING"
    assert status.is_ready
    assert status.served_entities[0].name == "ads1-1"


def test_list_and_document(server: MockServer) -> None:
    with admin(server) as ws:
        assert [e.name for e in ws.list_endpoints()] == [ENDPOINT]
        document = ws.get_openapi(ENDPOINT)
    assert document["info"]["title"] == ENDPOINT
    assert document == json.loads((ROOT / "samples" / "docs-example-dataframe.json").read_text())


def test_wait_until_ready_polls_through_not_ready(server: MockServer) -> None:
    server.configure(ENDPOINT, ready_after_polls=3)
    seen: list[str] = []
    with admin(server) as ws:
        with pytest.raises(EndpointNotReadyError, match="a configuration update is in progress"):
            ws.fetch_schema(ENDPOINT)
        status = ws.wait_until_ready(ENDPOINT, timeout=30, poll=0.05, on_poll=lambda s, _: seen.append(s.ready))
    assert status.is_ready
    assert seen[0] == "NOT_READY"
    assert seen[-1] == "READY"


def test_wait_gives_up_with_the_last_state(server: MockServer) -> None:
    server.configure(ENDPOINT, ready_after_polls=10_000)
    with admin(server) as ws, pytest.raises(EndpointNotReadyError) as caught:
        ws.wait_until_ready(ENDPOINT, timeout=0.3, poll=0.05)
    first = caught.value.format_message()
    assert first.startswith("endpoint 'example-endpoint' still not ready after")
    assert "NOT_READY, config update IN_PROGRESS" in first
    assert "DEPLOYMENT_CREATING" in str(caught.value)


def test_failed_deployment_stops_the_wait_and_shows_the_build_logs(server: MockServer) -> None:
    server.configure(ENDPOINT, deployment_failed=True)
    with admin(server) as ws, pytest.raises(EndpointNotReadyError) as caught:
        ws.wait_until_ready(ENDPOINT, timeout=60, poll=0.05)
    text = str(caught.value)
    assert caught.value.format_message().startswith(
        "endpoint 'example-endpoint' is not ready: the last configuration update failed"
    )
    assert "DEPLOYMENT_FAILED: Container image build failed" in text
    assert f"build logs of '{MODEL}'" in text
    assert "ERROR: Could not install the model's dependencies." in text


def test_unknown_endpoint_suggests_near_names(server: MockServer) -> None:
    with admin(server) as ws, pytest.raises(EndpointNotFoundError) as caught:
        ws.get_endpoint("example-endpont")
    assert caught.value.format_message() == (
        f"no serving endpoint named 'example-endpont' on {server.url}; did you mean 'example-endpoint'?"
    )
    assert caught.value.exit_code == 2


def test_no_signature_is_schema_unavailable(server: MockServer) -> None:
    server.configure(ENDPOINT, no_schema=True)
    with admin(server) as ws, pytest.raises(SchemaUnavailableError) as caught:
        ws.get_openapi(ENDPOINT)
    assert "serves no query schema" in str(caught.value)
    assert "has no model signature" in str(caught.value)
    assert "mlflow.models.infer_signature" in str(caught.value)


def test_stop_start_delete(server: MockServer) -> None:
    with admin(server) as ws:
        stopped = ws.stop(ENDPOINT)
        assert stopped is not None
        assert stopped.is_stopped
        assert stopped.is_terminal
        with pytest.raises(EndpointNotReadyError, match="it is stopped"):
            ws.fetch_schema(ENDPOINT)
        assert ws.start(ENDPOINT) is not None
        assert ws.wait_until_ready(ENDPOINT, timeout=30, poll=0.05).is_ready
        ws.delete(ENDPOINT)
        with pytest.raises(EndpointNotFoundError):
            ws.get_endpoint(ENDPOINT)


def test_logs_and_build_logs(server: MockServer) -> None:
    with admin(server) as ws:
        assert "config_version=2" in ws.logs(ENDPOINT, MODEL)
        assert "config_version=1" in ws.build_logs(ENDPOINT, MODEL, config_version=1)
        with pytest.raises(WorkspaceError) as caught:
            ws.logs(ENDPOINT, "vanilla_simple_model")
    assert caught.value.format_message() == (
        f"endpoint '{ENDPOINT}' has no served model 'vanilla_simple_model' (served models: {MODEL}); "
        f"did you mean {MODEL}?"
    )


def test_grant_then_permission_denied(server: MockServer) -> None:
    server.add_user("alice", token=ALICE_TOKEN)
    with Workspace(host=server.url, token=ALICE_TOKEN) as alice:
        with pytest.raises(PermissionDeniedError, match="needs CAN_VIEW"):
            alice.get_endpoint(ENDPOINT)
        with admin(server) as ws:
            acl = ws.grant(ENDPOINT, "alice", "can_query")
        assert acl.levels_of("alice") == ("CAN_QUERY",)
        with admin(server) as ws:
            assert ws.grant(ENDPOINT, "users", "CAN_VIEW", kind="group").levels_of("users") == ("CAN_VIEW",)
            with pytest.raises(ValueError, match="unknown permission level 'OWNER'"):
                ws.grant(ENDPOINT, "alice", "owner")
        assert alice.get_openapi(ENDPOINT)["info"]["title"] == ENDPOINT
        with pytest.raises(PermissionDeniedError) as caught:
            alice.stop(ENDPOINT)
    message = caught.value.format_message()
    assert message.startswith(
        f"permission denied to stop endpoint '{ENDPOINT}': that needs CAN_MANAGE, "
        "which the token from --token does not have (HTTP 403: User alice does not have Can Manage permission"
    )
    assert message.endswith("--grant USER=CAN_MANAGE")


def test_bad_token_names_its_source(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-expired")
    with Workspace() as ws, pytest.raises(AuthenticationError) as caught:
        ws.get_endpoint(ENDPOINT)
    assert caught.value.format_message().startswith(
        f"{server.url} rejected the token from DATABRICKS_TOKEN (HTTP 401: Invalid access token.)"
    )


def throttling(
    upstream: str, failures: int, status: int, retry_after: str | None
) -> Callable[[Seen, StubServer], tuple[int, dict[str, str], bytes]]:
    """Answer `status` (with Retry-After) to the first `failures` requests, then pass them to `upstream`."""
    count = {"n": 0}

    def handle(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
        count["n"] += 1
        if count["n"] <= failures:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            code = "REQUEST_LIMIT_EXCEEDED" if status == 429 else "TEMPORARILY_UNAVAILABLE"
            return json_reply(status, json.dumps({"error_code": code, "message": "slow down"}), **headers)
        return forward(upstream, request)

    return handle


def test_retries_429_honouring_retry_after_then_succeeds(server: MockServer, stub: Callable[..., StubServer]) -> None:
    front = stub(throttling(server.url, 2, 429, "1"))
    slept: list[float] = []
    with Workspace(host=front.url, token=ADMIN_TOKEN, retries=FAST, sleep=slept.append) as ws:
        assert ws.get_endpoint(ENDPOINT).is_ready
    assert slept == [1.0, 1.0]
    assert len(front.seen) == 3


def test_retry_after_as_an_http_date(server: MockServer, stub: Callable[..., StubServer]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    front = stub(throttling(server.url, 1, 503, when))
    slept: list[float] = []
    with Workspace(host=front.url, token=ADMIN_TOKEN, retries=FAST, sleep=slept.append) as ws:
        assert ws.get_endpoint(ENDPOINT).is_ready
    assert len(slept) == 1
    assert 27 <= slept[0] <= 30


def test_real_sleep_between_retries(server: MockServer, stub: Callable[..., StubServer]) -> None:
    front = stub(throttling(server.url, 2, 503, None))
    with Workspace(host=front.url, token=ADMIN_TOKEN, retries=FAST) as ws:
        assert ws.get_openapi(ENDPOINT)["info"]["title"] == ENDPOINT
    assert len(front.seen) == 3


def test_rate_limited_after_every_retry(stub: Callable[..., StubServer]) -> None:
    front = stub(throttling("http://unused", 100, 429, "0"))
    with Workspace(host=front.url, token=ADMIN_TOKEN, retries=FAST) as ws, pytest.raises(RateLimitedError) as caught:
        ws.get_endpoint(ENDPOINT)
    assert len(front.seen) == 4
    assert caught.value.format_message().startswith(
        f"{front.url} is still rate limited (HTTP 429) (asked to read endpoint '{ENDPOINT}') after 4 attempts"
    )
    assert caught.value.exit_code == 2


def test_a_retry_after_beyond_the_cap_fails_at_once(stub: Callable[..., StubServer]) -> None:
    front = stub(throttling("http://unused", 100, 429, "3600"))
    with Workspace(host=front.url, token=ADMIN_TOKEN, retries=FAST) as ws, pytest.raises(RateLimitedError) as caught:
        ws.get_endpoint(ENDPOINT)
    assert len(front.seen) == 1
    assert "asks to retry after 3600 s, more than the 60 s schemakit waits" in str(caught.value)


def test_post_is_retried_on_429_but_not_on_500(server: MockServer, stub: Callable[..., StubServer]) -> None:
    front = stub(throttling(server.url, 1, 429, "0"))
    with Workspace(host=front.url, token=ADMIN_TOKEN, retries=FAST) as ws:
        assert ws.stop(ENDPOINT) is not None
    broken = stub(lambda request, _: json_reply(500, '{"error_code": "INTERNAL_ERROR", "message": "boom"}'))
    with Workspace(host=broken.url, token=ADMIN_TOKEN, retries=FAST) as ws, pytest.raises(WorkspaceError) as caught:
        ws.start(ENDPOINT)
    assert len(broken.seen) == 1
    assert caught.value.format_message() == (
        f"cannot start endpoint '{ENDPOINT}': {broken.url} workspace error (HTTP 500 INTERNAL_ERROR: boom)"
    )


def test_redirect_to_another_host_does_not_carry_the_token(server: MockServer, stub: Callable[..., StubServer]) -> None:
    # The document lives on another host (127.0.0.2): it is fetched there, without the workspace's token.
    document = (ROOT / "samples" / "docs-example-dataframe.json").read_bytes()
    elsewhere = stub(lambda request, _: (200, {"Content-Type": "application/json"}, document), host="127.0.0.2")

    def redirect_openapi(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
        if request.path.endswith("/openapi"):
            return 307, {"Location": f"{elsewhere.url}/schemas/example.json"}, b""
        return forward(server.url, request)

    front = stub(redirect_openapi)
    with Workspace(host=front.url, token=ADMIN_TOKEN) as ws:
        assert ws.get_openapi(ENDPOINT)["info"]["title"] == ENDPOINT
    assert front.seen[0].headers["authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert [s.path for s in elsewhere.seen] == ["/schemas/example.json"]
    assert "authorization" not in elsewhere.seen[0].headers
    assert all(ADMIN_TOKEN not in json.dumps(s.headers) for s in elsewhere.seen)


def test_same_host_redirects_keep_the_token_and_chains_that_leave_never_regain_it(
    server: MockServer, stub: Callable[..., StubServer]
) -> None:
    holder: dict[str, StubServer] = {}

    def bounce(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": f"{holder['front'].url}/after-bounce{request.path}"}, b""

    other = stub(bounce, host="127.0.0.2")

    def front_handler(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
        for prefix in ("/moved/", "/after-bounce/"):
            if request.path.startswith(prefix):
                moved = Seen(request.method, request.path[len(prefix) - 1 :], request.headers, request.body)
                return forward(server.url, moved)
        if request.path.endswith("/build-logs"):
            return 302, {"Location": f"{other.url}{request.path}"}, b""
        return 301, {"Location": f"/moved{request.path}"}, b""

    front = stub(front_handler)
    holder["front"] = front
    with Workspace(host=front.url, token=ADMIN_TOKEN) as ws:
        assert ws.get_endpoint(ENDPOINT).is_ready
        # Same origin: the token follows (the second request reached the emulator, which demands it).
        assert front.seen[1].headers["authorization"] == f"Bearer {ADMIN_TOKEN}"
        with pytest.raises(AuthenticationError):
            ws.build_logs(ENDPOINT, MODEL)
    assert "authorization" not in other.seen[0].headers
    back = [s for s in front.seen if s.path.startswith("/after-bounce/")]
    assert back
    assert "authorization" not in back[0].headers


def test_too_many_redirects(stub: Callable[..., StubServer]) -> None:
    loop = stub(lambda request, _: (302, {"Location": request.path}, b""))
    with Workspace(host=loop.url, token=ADMIN_TOKEN) as ws, pytest.raises(TransportError, match="more than 5 times"):
        ws.get_endpoint(ENDPOINT)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_for_get_then_reported() -> None:
    slept: list[float] = []
    url = f"http://127.0.0.1:{_free_port()}"
    with Workspace(host=url, token=ADMIN_TOKEN, retries=FAST, sleep=slept.append) as ws:
        with pytest.raises(TransportError) as caught:
            ws.get_endpoint(ENDPOINT)
        assert len(slept) == 3
        slept.clear()
        with pytest.raises(TransportError):
            ws.stop(ENDPOINT)
        assert slept == []
    assert caught.value.format_message() == (
        f"cannot connect to {url} (asked to read endpoint '{ENDPOINT}'): connection refused "
        "(is the host right and reachable?)"
    )


def test_timeout_is_one_line(stub: Callable[..., StubServer]) -> None:
    def slow(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return json_reply(200, "{}")

    front = stub(slow)
    with (
        Workspace(host=front.url, token=ADMIN_TOKEN, timeout=0.2, retries=0) as ws,
        pytest.raises(TransportError) as caught,
    ):
        ws.get_endpoint(ENDPOINT)
    assert caught.value.format_message() == (
        f"{front.url} did not answer within 0.2 s (asked to read endpoint '{ENDPOINT}')"
    )


def test_tls_failure_is_one_line(stub: Callable[..., StubServer]) -> None:
    plain = stub(lambda request, _: json_reply(200, "{}"))
    host = plain.url.replace("http://", "https://")
    with Workspace(host=host, token=ADMIN_TOKEN, retries=0) as ws, pytest.raises(TransportError) as caught:
        ws.get_endpoint(ENDPOINT)
    assert caught.value.format_message().startswith(f"TLS handshake with {host} failed")


def test_sdk_pat_auth_against_the_emulator(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("databricks.sdk")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(Path("/nonexistent/databrickscfg")))
    with Workspace(host=server.url, token=ADMIN_TOKEN, auth_type="pat") as ws:
        assert ws.auth_description == "databricks-sdk 'pat' auth with the token from --token"
        assert ws.get_endpoint(ENDPOINT).is_ready
    assert server.requests[-1].headers["authorization"] == f"Bearer {ADMIN_TOKEN}"
