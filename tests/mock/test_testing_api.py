"""`schemakit.testing`: MockServer's start/stop life, and the `mock_server` fixture."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import schemakit
from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS_EXAMPLE = SAMPLES / "docs-example-dataframe.json"
EP = "example-endpoint"


def test_start_and_stop_without_a_with_block() -> None:
    server = MockServer([str(DOCS_EXAMPLE)], token="tok")
    assert not server.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    assert server.start() is server
    try:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
        url = server.url
        assert httpx.get(f"{url}/api/2.0/serving-endpoints/{EP}", headers={"Authorization": "Bearer tok"}).status_code == 200
        assert repr(server) == f"MockServer({url}, endpoints=['{EP}'])"
    finally:
        server.stop()
    server.stop()  # twice is fine
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/2.0/serving-endpoints", timeout=5)


def test_stop_closes_open_keep_alive_connections() -> None:
    server = MockServer([DOCS_EXAMPLE]).start()
    with server.client() as client:
        assert client.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 200  # a pooled connection stays open
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get(f"/api/2.0/serving-endpoints/{EP}")


def test_each_server_gets_its_own_free_port() -> None:
    with MockServer([DOCS_EXAMPLE]) as one, MockServer([DOCS_EXAMPLE]) as two:
        assert one.port != two.port
        one.configure(EP, throttle_queries=1)
        with two.client() as client:
            payload = {"dataframe_records": [{"int_col": 1, "float_col": 1.0, "string_col": "a"}]}
            assert client.post(f"/serving-endpoints/{EP}/invocations", json=payload).status_code == 200


def test_the_fixture_starts_servers_and_stops_them(mock_server) -> None:  # type: ignore[no-untyped-def]
    first = mock_server(DOCS_EXAMPLE, token="a")
    second = mock_server(DOCS_EXAMPLE, SAMPLES / "multi-model.json", token="b", latency=0.0)
    assert first.running
    assert second.running
    assert second.endpoints == [EP, "ads-ranking"]
    assert first.invocations_url(EP) == f"{first.url}/serving-endpoints/{EP}/invocations"
    assert second.invocations_url("ads-ranking", "ads-2").endswith("/serving-endpoints/ads-ranking/served-models/ads-2/invocations")


def test_public_exports() -> None:
    assert schemakit.MockServer is MockServer
    assert "MockServer" in schemakit.__all__


def test_a_document_without_served_models_is_refused() -> None:
    with pytest.raises(schemakit.SchemakitError):
        MockServer([SAMPLES / "invalid" / "no-invocations.json"])


def test_no_sources_is_refused() -> None:
    with pytest.raises(schemakit.SourceError, match="no schema documents given"):
        MockServer([])


def test_pytest_plugins_in_a_users_conftest_works(tmp_path: Path) -> None:
    """As docs/mock.md says: `pytest_plugins = ["schemakit.testing"]`, beside the entry point that registers it too."""
    import subprocess
    import sys

    sample = Path(__file__).resolve().parents[2] / "samples" / "docs-example-dataframe.json"
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["schemakit.testing"]\n')
    (tmp_path / "test_user.py").write_text(
        "def test_emulator(mock_server):\n"
        f"    server = mock_server({str(sample)!r}, token='dapi-user')\n"
        "    assert server.endpoints == ['example-endpoint']\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
