"""The generated sync and async clients against the local emulator (real sockets on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import importlib

import httpx
import pytest

from schemakit.testing import MockServer

from .conftest import SAMPLES, GeneratePackage

TOKEN = "dapi-test"


@pytest.fixture
def server() -> MockServer:
    with MockServer([SAMPLES / "docs-example-dataframe.json"], token=TOKEN) as running:
        yield running


def _base(server: MockServer) -> str:
    return f"{server.url}/serving-endpoints/example-endpoint"


def test_sync_client_predicts_and_retries_429(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated("docs-example-dataframe.json", "pydantic")
    model = pkg.vanilla_simple_model
    payload = model.to_dataframe_split([model.Row(int_col=1, float_col=0.5, string_col="a")])
    server.configure("example-endpoint", throttle_queries=1, retry_after=0)
    with pkg.Client(_base(server), token=TOKEN, backoff=0.01) as client:
        response = client.predict_vanilla_simple_model(payload)
        assert isinstance(response, model.Response)
        assert isinstance(response.predictions, list)
        assert len(response.predictions) == 1
        assert all(isinstance(p, float) for p in response.predictions)
        assert client.predict(payload).predictions is not None  # endpoint-level /invocations
    throttled = [r for r in server.requests if r.path.endswith("/invocations")]
    assert len(throttled) == 3  # one 429, then two successes


def test_token_comes_from_the_environment(
    generated: GeneratePackage, server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = generated("docs-example-dataframe.json", "dataclasses")
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    model = pkg.vanilla_simple_model
    with pkg.Client(_base(server)) as client:
        assert TOKEN not in repr(client)
        result = client.predict_vanilla_simple_model(
            model.to_dataframe_records([model.Row(int_col=1, float_col=2.0, string_col="x")])
        )
        assert len(result.predictions) == 1
    monkeypatch.delenv("DATABRICKS_TOKEN")
    with pytest.raises(pkg.MissingTokenError, match="DATABRICKS_TOKEN"):
        pkg.Client(_base(server))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")
    with pytest.raises(pkg.MissingTokenError, match="credentials"):
        pkg.Client.from_workspace()


def test_errors_carry_the_server_message(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated("docs-example-dataframe.json", "msgspec")
    model = pkg.vanilla_simple_model
    bad = {"dataframe_split": {"columns": ["int_col"], "data": [["not a number"]]}}
    with pkg.Client(_base(server), token=TOKEN) as client:
        with pytest.raises(pkg.InvalidPayloadError) as invalid:
            client.predict_vanilla_simple_model(bad)  # validated before sending
        assert not invalid.value.report.ok
        with pytest.raises(pkg.BadRequestError) as rejected:
            client.predict_vanilla_simple_model(bad, validate=False)
        assert rejected.value.status == 400
        assert rejected.value.message
        # A plain rejection is not about a stopped endpoint (that one is EndpointStoppedError, below).
        assert "stopped" not in str(rejected.value)
        assert not isinstance(rejected.value, pkg.EndpointStoppedError)
        httpx.post(
            f"{server.url}/api/2.0/serving-endpoints/example-endpoint/config:stop",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).raise_for_status()
        good = model.to_dataframe_split([{"int_col": 1, "float_col": 1.0, "string_col": "s"}])
        with pytest.raises(pkg.EndpointStoppedError, match="stopped"):
            client.predict_vanilla_simple_model(good)
    with pkg.Client(_base(server), token="wrong") as client, pytest.raises(pkg.EndpointError) as denied:
        client.predict_vanilla_simple_model(good)
    assert denied.value.status in (401, 403)
    assert "wrong" not in str(denied.value)


def test_async_client_retries_503_and_429(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated("docs-example-dataframe.json", "typeddict")
    model = pkg.vanilla_simple_model
    payload = model.to_dataframe_split([{"int_col": 1, "float_col": 0.5, "string_col": "a"}], as_bytes=True)
    server.configure("example-endpoint", throttle_queries=1, unavailable_queries=1, retry_after=0)

    async def run() -> object:
        async with pkg.AsyncClient(_base(server), token=TOKEN, backoff=0.01) as client:
            return await client.predict_vanilla_simple_model(payload)

    response = asyncio.run(run())
    assert isinstance(response["predictions"], list)


def test_retries_run_out(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated("docs-example-dataframe.json", "pydantic")
    model = pkg.vanilla_simple_model
    server.configure("example-endpoint", throttle_queries=5, retry_after=0)
    payload = model.to_dataframe_split([model.Row(int_col=1, float_col=0.5, string_col="a")])
    with (
        pkg.Client(_base(server), token=TOKEN, max_retries=1, backoff=0.01) as client,
        pytest.raises(pkg.RateLimitedError, match="rate limit"),
    ):
        client.predict_vanilla_simple_model(payload)


def test_retry_delay_honours_retry_after(generated: GeneratePackage) -> None:
    import email.utils
    from datetime import datetime, timedelta, timezone

    client = importlib.import_module(generated("docs-example-dataframe.json", "pydantic").__name__ + ".client")
    assert client.retry_delay("7", 0, 0.5, 30.0) == 7.0
    assert client.retry_delay("600", 0, 0.5, 30.0) == 120.0
    later = email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=50), usegmt=True)
    assert 40 < client.retry_delay(later, 0, 0.5, 30.0) <= 50
    assert 2.0 <= client.retry_delay(None, 3, 0.5, 30.0) <= 4.0  # no header: jittered exponential
    assert 15.0 <= client.retry_delay("soon", 10, 0.5, 30.0) <= 30.0


def test_connection_refused_is_a_transport_error(generated: GeneratePackage) -> None:
    import socket

    pkg = generated("docs-example-dataframe.json", "dataclasses")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    model = pkg.vanilla_simple_model
    payload = model.to_dataframe_records([model.Row(int_col=1, float_col=0.5, string_col="a")])
    with (
        pkg.Client(f"http://127.0.0.1:{port}/serving-endpoints/x", token=TOKEN, max_retries=1, backoff=0.01) as client,
        pytest.raises(pkg.TransportError, match="cannot connect"),
    ):
        client.predict_vanilla_simple_model(payload)


def test_unknown_served_model_and_bad_response(generated: GeneratePackage, server: MockServer) -> None:
    pkg = generated("docs-example-dataframe.json", "dataclasses")
    with (
        pkg.Client(_base(server), token=TOKEN) as client,
        pytest.raises(ValueError, match="no served model named 'nope'"),
    ):
        client.invoke({"dataframe_split": {"columns": [], "data": []}}, served_model="nope")
    client_module = importlib.import_module(pkg.__name__ + ".client")
    with pytest.raises(pkg.ResponseError, match="does not fit"):
        client_module._parsed(pkg.vanilla_simple_model.parse_response, ["not", "an", "object"])


def test_a_server_echoing_the_token_does_not_put_it_in_the_exception(generated: GeneratePackage) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = f'{{"error_code": "INTERNAL_ERROR", "message": "boom {self.headers["Authorization"]}"}}'.encode()
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        pkg = generated("docs-example-dataframe.json", "dataclasses")
        model = pkg.vanilla_simple_model
        payload = model.to_dataframe_split([model.Row(int_col=1, float_col=0.5, string_col="a")])
        secret = "dapi-SUPERSECRET-X"
        base = f"http://127.0.0.1:{httpd.server_address[1]}/serving-endpoints/example-endpoint"
        with pkg.Client(base, token=secret, max_retries=0) as client, pytest.raises(pkg.EndpointError) as caught:
            client.predict_vanilla_simple_model(payload)
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)
        assert "boom Bearer ***" in str(caught.value)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_token_is_not_sent_over_plain_http_to_another_machine(generated: GeneratePackage) -> None:
    pkg = generated("docs-example-dataframe.json", "pydantic")
    with pytest.raises(ValueError, match=r"refusing to send credentials over plain http to 'attacker\.example'"):
        pkg.Client("http://attacker.example:8080/serving-endpoints/example-endpoint", token=TOKEN)
    pkg.Client("http://attacker.example:8080/x", token=TOKEN, allow_insecure_http=True).close()
    pkg.Client("http://localhost:8080/x", token=TOKEN).close()
