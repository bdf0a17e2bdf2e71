"""Authentication as the platform has it: bearer PATs, basic `token:<PAT>` (curl -u), and OAuth M2M for service
principals, with tokens that expire so a client's refresh is exercised. databricks-sdk is the client."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemakit.testing import MockServer

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "docs-example-dataframe.json"
EP = "example-endpoint"
TOKEN = "dapi-auth-admin"
CLIENT_ID = "5f2d0e6a-0000-4000-8000-00000000c11e"
SECRET = "dose-secret-for-sp"
ROWS = [{"int_col": 1, "float_col": 2.0, "string_col": "a"}]
#: Short enough that the test sees a token expire and the SDK fetch another.
TOKEN_SECONDS = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(
        [SAMPLE], token=TOKEN, service_principals={CLIENT_ID: SECRET}, oauth_token_seconds=TOKEN_SECONDS
    ) as running:
        running.set_permission(EP, CLIENT_ID, "CAN_QUERY")
        yield running


def _token_requests(server: MockServer) -> int:
    return sum(1 for r in server.requests if r.path == "/oidc/v1/token" and r.status == 200)


def test_databricks_sdk_oauth_m2m_with_refresh(server: MockServer) -> None:
    sdk = pytest.importorskip("databricks.sdk")
    before = _token_requests(server)
    w = sdk.WorkspaceClient(host=server.url, client_id=CLIENT_ID, client_secret=SECRET)
    assert w.config.auth_type == "oauth-m2m"
    assert w.serving_endpoints.get(EP).name == EP
    time.sleep(TOKEN_SECONDS + 0.3)
    assert len(w.serving_endpoints.query(EP, dataframe_records=ROWS).predictions) == 1
    assert _token_requests(server) - before >= 2
    # A service principal has the permissions it was granted, and no more.
    with pytest.raises(sdk.errors.PermissionDenied):
        w.serving_endpoints.delete(EP)


def test_wrong_client_secret_is_refused(server: MockServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        answer = client.post(
            "/oidc/v1/token", data={"grant_type": "client_credentials", "scope": "all-apis"}, auth=(CLIENT_ID, "nope")
        )
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"
        assert client.post("/oidc/v1/token", data={"grant_type": "password"}).status_code == 400


def test_an_expired_token_is_a_401(server: MockServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        token = client.post(
            "/oidc/v1/token", data={"grant_type": "client_credentials", "scope": "all-apis"}, auth=(CLIENT_ID, SECRET)
        ).json()
        assert token["token_type"] == "Bearer"
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.get(f"/api/2.0/serving-endpoints/{EP}", headers=headers).status_code == 200
        time.sleep(TOKEN_SECONDS + 0.2)
        expired = client.get(f"/api/2.0/serving-endpoints/{EP}", headers=headers)
        assert expired.status_code == 401
        assert "expired" in expired.json()["message"]


def test_basic_token_pat_as_curl_sends_it(server: MockServer) -> None:
    with httpx.Client(base_url=server.url, auth=("token", TOKEN)) as client:
        assert client.post(f"/serving-endpoints/{EP}/invocations", json={"dataframe_records": ROWS}).status_code == 200
    with httpx.Client(base_url=server.url, auth=("token", "wrong")) as client:
        assert client.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 401
    with httpx.Client(base_url=server.url, auth=("someone-else", TOKEN)) as client:
        assert client.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 401


def test_databricks_sdk_basic_auth(server: MockServer) -> None:
    sdk = pytest.importorskip("databricks.sdk")
    w = sdk.WorkspaceClient(host=server.url, username="token", password=TOKEN, auth_type="basic")
    assert w.serving_endpoints.get(EP).name == EP


def test_curl_u_as_the_docs_show(server: MockServer, tmp_path: Path) -> None:
    curl = subprocess.run(["which", "curl"], capture_output=True, text=True, check=False).stdout.strip()
    if not curl:
        pytest.skip("curl is not installed")
    body = tmp_path / "body.json"
    body.write_text('{"dataframe_records": [{"int_col": 1, "float_col": 2.0, "string_col": "a"}]}')
    done = subprocess.run(
        [curl, "-s", "-u", f"token:{TOKEN}", "-X", "POST", "-H", "Content-Type: application/json",
         "-d", f"@{body}", f"{server.url}/serving-endpoints/{EP}/invocations"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert '"predictions"' in done.stdout, done.stdout + done.stderr


def test_cli_service_principal_option(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemakit", "mock", "--token", TOKEN, "--service-principal", f"{CLIENT_ID}={SECRET}",
         "--grant", f"{EP}:{CLIENT_ID}=CAN_VIEW", str(SAMPLE)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        with httpx.Client(base_url=url, timeout=10) as client:
            token = client.post(
                "/oidc/v1/token", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, SECRET)
            ).json()["access_token"]
            answer = client.get(f"/api/2.0/serving-endpoints/{EP}", headers={"Authorization": f"Bearer {token}"})
            assert answer.json()["permission_level"] == "CAN_VIEW"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert SECRET not in err
