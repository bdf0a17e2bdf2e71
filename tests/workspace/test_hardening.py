"""The workspace client against hostile servers and damaged settings: no leak, no hang, one line."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemakit import EndpointNotReadyError, SchemakitError, Workspace
from schemakit._exceptions import CredentialsError, SourceError, TransportError, WorkspaceError

from .ws_helpers import ADMIN_TOKEN, ENDPOINT, StubServer, cli_env, run_cli


def _details(message: str) -> dict[str, object]:
    return {
        "name": ENDPOINT,
        "state": {"ready": "NOT_READY", "config_update": "UPDATE_FAILED"},
        "config": {
            "served_entities": [
                {"name": "m-1", "state": {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": message}}
            ]
        },
    }


def test_a_token_echoed_anywhere_in_an_answer_is_masked(stub: Callable[..., StubServer]) -> None:
    import json

    echo = f"failed with header Authorization: Bearer {ADMIN_TOKEN} and {ADMIN_TOKEN}"
    server = stub(lambda seen, _: (200, {"Content-Type": "application/json"}, json.dumps(_details(echo)).encode()))
    with Workspace(host=server.url, token=ADMIN_TOKEN, retries=0) as ws:
        status = ws.get_endpoint(ENDPOINT)
        with pytest.raises(EndpointNotReadyError) as caught:
            ws.fetch_schema(ENDPOINT)
    for text in (str(status), repr(status), str(caught.value), repr(caught.value), json.dumps(status.to_json())):
        assert ADMIN_TOKEN not in text
        assert ADMIN_TOKEN[5:25] not in text
    result = run_cli("endpoint", "status", ENDPOINT, env=cli_env(DATABRICKS_HOST=server.url, DATABRICKS_TOKEN=ADMIN_TOKEN))
    assert ADMIN_TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("where", ["error_code", "message"])
def test_a_token_in_an_error_body_is_masked(stub: Callable[..., StubServer], where: str) -> None:
    import json

    body = {"error_code": "BAD", "message": "no"}
    body[where] = f"echo {ADMIN_TOKEN}"
    server = stub(lambda seen, _: (400, {"Content-Type": "application/json"}, json.dumps(body).encode()))
    with Workspace(host=server.url, token=ADMIN_TOKEN, retries=0) as ws, pytest.raises(WorkspaceError) as caught:
        ws.get_endpoint(ENDPOINT)
    assert ADMIN_TOKEN not in str(caught.value) + repr(caught.value) + str(caught.value.error_code)


def test_a_token_straddling_the_cut_of_a_text_body_never_shows_in_part(stub: Callable[..., StubServer]) -> None:
    for offset in (280, 295, 299, 1990, 1999):
        body = ("x" * offset + ADMIN_TOKEN + "y" * 3000).encode()
        server = stub(lambda seen, _, body=body: (500, {"Content-Type": "text/plain"}, body))
        with Workspace(host=server.url, token=ADMIN_TOKEN, retries=0) as ws, pytest.raises(WorkspaceError) as caught:
            ws.delete(ENDPOINT)
        text = str(caught.value)
        # No piece of the token that could identify it: not its first 10 characters, nor any 10 in a row.
        pieces = {ADMIN_TOKEN[i : i + 10] for i in range(len(ADMIN_TOKEN) - 9)}
        assert not any(piece in text for piece in pieces), (offset, text)


@pytest.fixture
def dripping() -> Iterator[int]:
    """A server that sends its headers, then one body byte every 0.5 s for a minute."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n")
                for _ in range(120):
                    if stop.is_set():
                        break
                    conn.sendall(b" ")
                    time.sleep(0.5)
            except OSError:
                pass
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


@pytest.mark.timeout(30)
def test_the_timeout_bounds_the_whole_request_not_each_read(dripping: int) -> None:
    # The server would drip for a minute; the pytest timeout above fails the test if the client waits for it.
    ws = Workspace(host=f"http://127.0.0.1:{dripping}", token=ADMIN_TOKEN, timeout=2, retries=0)
    with ws, pytest.raises(TransportError, match="within 2 s"):
        ws.get_endpoint(ENDPOINT)


@pytest.mark.parametrize("name", [".", "..", " .. ", "a\x1bb", ""])
def test_dot_names_and_control_characters_are_not_endpoint_names(stub: Callable[..., StubServer], name: str) -> None:
    server = stub(lambda seen, _: (200, {}, b"{}"))
    with Workspace(host=server.url, token=ADMIN_TOKEN, retries=0) as ws:
        for call in (ws.get_endpoint, ws.delete, ws.stop):
            with pytest.raises(SourceError):
                call(name)
    assert server.seen == []
    result = run_cli("endpoint", "delete", "..", env=cli_env(DATABRICKS_HOST=server.url, DATABRICKS_TOKEN=ADMIN_TOKEN))
    assert result.returncode == 2
    assert "is not an endpoint name" in result.stderr
    assert server.seen == []


@pytest.mark.timeout(20)
def test_a_config_file_that_never_ends_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="not a configuration file"):
        Workspace(config_file="/dev/zero", profile="x")


def test_a_host_url_with_a_password_is_never_printed(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.write_text("[p]\nhost = https://user:hunter2secret@[broken\ntoken = dapi-x\n")
    with pytest.raises(SchemakitError) as caught:
        Workspace(config_file=config, profile="p")
    assert "hunter2secret" not in str(caught.value)
    result = run_cli("endpoint", "list", "--profile", "p", env=cli_env(DATABRICKS_CONFIG_FILE=str(config)))
    assert result.returncode == 2
    assert "hunter2secret" not in result.stdout + result.stderr
