"""Queries over real HTTP: validation, deterministic answers shaped by the 200 schema, routing, robustness."""

from __future__ import annotations

import collections
import contextlib
import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

import schemakit
from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EP = "example-endpoint"
MODEL = "vanilla_simple_model-2"
SPLIT = {
    "dataframe_split": {
        "columns": ["int_col", "float_col", "string_col"],
        "data": [[3, 10.4, "abc"], [2, 20.4, "xyz"], [3, 10.4, "abc"]],
    }
}

# Every sample document with payloads, and the payload files beside it. One emulator serves one
# document per endpoint name, so a later version of an endpoint (same `info.title`) gets a second one.
_ALL_DOCS = {
    p.stem: p
    for p in sorted([*SAMPLES.glob("*.json"), *SAMPLES.glob("*.yaml")])
    if (SAMPLES / "payloads" / p.stem).is_dir() and p.stem != "all-types-refs"
}
_NEXT_VERSIONS = {"docs-example-dataframe-v3"}
_DOCS = {stem: path for stem, path in _ALL_DOCS.items() if stem not in _NEXT_VERSIONS}
_PAYLOADS = [(stem, f.name) for stem in sorted(_ALL_DOCS) for f in sorted((SAMPLES / "payloads" / stem).glob("*.json"))]


@pytest.fixture(scope="module")
def samples_servers() -> dict[str, MockServer]:
    with (
        MockServer(list(_DOCS.values()), token="dapi-test") as current,
        MockServer([_ALL_DOCS[stem] for stem in sorted(_NEXT_VERSIONS)], token="dapi-test") as next_versions,
    ):
        yield {stem: next_versions if stem in _NEXT_VERSIONS else current for stem in _ALL_DOCS}  # type: ignore[misc]


def _target_model(schema: schemakit.EndpointSchema, payload_name: str) -> schemakit.ServedModel:
    # multi-model payloads name their served model: valid-ads-2-records.json -> ads-2
    named = [m for m in schema.models if f"-{m.name}-" in f"-{payload_name}"]
    return max(named, key=lambda m: len(m.name)) if named else schema.models[0]


def _rows(payload: dict) -> int:  # type: ignore[type-arg]
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        if key in payload:
            value = payload[key]
            if key == "dataframe_split":
                return len(value["data"])
            if isinstance(value, dict):
                return max(len(v) for v in value.values())
            return len(value)
    return 1


@pytest.mark.parametrize(("stem", "payload_name"), _PAYLOADS)
def test_every_sample_payload_gets_the_verdict_and_a_schema_shaped_answer(
    samples_servers: dict[str, MockServer], stem: str, payload_name: str
) -> None:
    samples_server = samples_servers[stem]
    schema = schemakit.load(str(_ALL_DOCS[stem]))
    model = _target_model(schema, payload_name)
    body = (SAMPLES / "payloads" / stem / payload_name).read_bytes()
    with samples_server.client() as client:
        r = client.post(f"/serving-endpoints/{schema.title}/served-models/{model.name}/invocations", content=body)
    assert r.headers["served-model-name"] == model.name
    if payload_name.startswith("invalid"):
        assert r.status_code == 400, r.text
        assert r.json()["error_code"] == "BAD_REQUEST"
        assert r.json()["message"].startswith(f"invalid for {model.name}")
        return
    assert r.status_code == 200, r.text
    answer = r.json()
    assert model.response is not None
    errors = [e.message for e in Draft202012Validator(dict(model.response.schema)).iter_errors(answer)]
    assert errors == []
    payload = json.loads(body)
    if model.response.predictions is not None:
        assert len(answer["predictions"]) == _rows(payload)


def test_a_bad_payload_gets_schemakits_report_naming_row_and_column(admin: httpx.Client) -> None:
    bad = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 2.0, "a"], [3.5, 1.0, "b"]]}}
    r = admin.post(f"/serving-endpoints/{EP}/invocations", json=bad)
    assert r.status_code == 400
    assert r.json()["error_code"] == "BAD_REQUEST"
    assert "row 1, column int_col ($.dataframe_split.data[1][0]): expected long, got number 3.5" in r.json()["message"]


def test_predictions_are_deterministic_one_per_row(admin: httpx.Client, server: MockServer) -> None:
    first = admin.post(f"/serving-endpoints/{EP}/invocations", json=SPLIT).json()["predictions"]
    assert len(first) == 3
    assert first[0] == first[2]  # the same row, the same prediction
    assert first[0] != first[1]
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=SPLIT).json()["predictions"] == first
    # The same rows as records, or as a split with the columns reordered, get the same answers.
    records = {"dataframe_records": [{"int_col": 3, "float_col": 10.4, "string_col": "abc"}]}
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=records).json()["predictions"] == [first[0]]
    reordered = {"dataframe_split": {"columns": ["string_col", "int_col", "float_col"], "data": [["abc", 3, 10.4]]}}
    assert admin.post(f"/serving-endpoints/{EP}/invocations", json=reordered).json()["predictions"] == [first[0]]
    # ... and another server, in another run, answers the same.
    with MockServer([SAMPLES / "docs-example-dataframe.json"]) as other, other.client() as client:
        assert client.post(f"/serving-endpoints/{EP}/invocations", json=SPLIT).json()["predictions"] == first


def test_direct_served_model_query_and_header(admin: httpx.Client) -> None:
    payload = {"dataframe_records": [{"hour": 3, "country": "FR", "device": "mobile"}]}
    r = admin.post("/serving-endpoints/ads-ranking/served-models/ads-2/invocations", json=payload)
    assert r.headers["served-model-name"] == "ads-2"
    missing = admin.post("/serving-endpoints/ads-ranking/served-models/ads-9/invocations", json=payload)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_invocations_are_routed_by_traffic_percentages(server: MockServer) -> None:
    ads1 = json.loads((SAMPLES / "payloads" / "multi-model" / "valid-ads-1-split.json").read_text())
    with server.client() as client:
        counts = collections.Counter(
            client.post("/serving-endpoints/ads-ranking/invocations", json=ads1).headers["served-model-name"]
            for _ in range(100)
        )
    assert counts == {"ads-1": 34, "ads-2": 33, "ctr_calibrator": 33}

    server.configure("ads-ranking", traffic={"ads-1": 80, "ads-2": 20, "ctr_calibrator": 0})
    with server.client() as client:
        details = client.get("/api/2.0/serving-endpoints/ads-ranking").json()
        routes = {r["served_model_name"]: r["traffic_percentage"] for r in details["config"]["traffic_config"]["routes"]}
        assert routes == {"ads-1": 80, "ads-2": 20, "ctr_calibrator": 0}
        names = [
            client.post("/serving-endpoints/ads-ranking/invocations", json=ads1).headers["served-model-name"]
            for _ in range(100)
        ]
    assert collections.Counter(names) == {"ads-1": 80, "ads-2": 20}
    assert len(set(names[:10])) == 2  # interleaved, not 80 in a row


def test_chat_model_answers_a_chat_completion(admin: httpx.Client) -> None:
    r = admin.post(
        "/serving-endpoints/chat-endpoint/invocations",
        json={"messages": [{"role": "user", "content": "hello"}], "n": 2},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "meta_llama_v3_1_8b_instruct-4"
    assert [c["index"] for c in body["choices"]] == [0, 1]
    assert body["choices"][0]["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"this is not json", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "expected object"),
        (b'{"dataframe_split": ', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_bodies_that_are_not_json_objects_are_400(admin: httpx.Client, body: bytes, fragment: str) -> None:
    r = admin.post(f"/serving-endpoints/{EP}/invocations", content=body)
    assert r.status_code == 400
    assert r.json()["error_code"] == "BAD_REQUEST"
    assert fragment in r.json()["message"]


def test_bodies_above_the_limit_are_413(mock_server) -> None:  # type: ignore[no-untyped-def]
    server = mock_server(SAMPLES / "docs-example-dataframe.json", max_body_bytes=1000)
    big = {"dataframe_records": [{"int_col": i, "float_col": 1.0, "string_col": "x" * 20} for i in range(100)]}
    with server.client() as client:
        r = client.post(f"/serving-endpoints/{EP}/invocations", json=big)
        assert r.status_code == 413
        assert r.json()["error_code"] == "BAD_REQUEST"
        assert "limit is 1000 bytes" in r.json()["message"]
        # The connection was closed; the client reconnects and the server still answers.
        small = {"dataframe_records": [{"int_col": 1, "float_col": 1.0, "string_col": "x"}]}
        assert client.post(f"/serving-endpoints/{EP}/invocations", json=small).status_code == 200


def test_chunked_bodies_are_read_and_limited(mock_server) -> None:  # type: ignore[no-untyped-def]
    server = mock_server(SAMPLES / "docs-example-dataframe.json", max_body_bytes=2000)
    payload = json.dumps({"dataframe_records": [{"int_col": 1, "float_col": 1.0, "string_col": "x"}]}).encode()

    def chunks(data: bytes, times: int = 1):  # type: ignore[no-untyped-def]
        for _ in range(times):
            yield data

    with server.client() as client:
        ok = client.post(f"/serving-endpoints/{EP}/invocations", content=chunks(payload))
        assert ok.status_code == 200
        assert len(ok.json()["predictions"]) == 1
        too_big = client.post(f"/serving-endpoints/{EP}/invocations", content=chunks(b" " * 500, 10))
        assert too_big.status_code == 413


def test_200_concurrent_queries_from_20_threads(server: MockServer) -> None:
    expected: dict[int, list[float]] = {}
    with server.client() as client:
        for i in range(10):
            payload = {"dataframe_records": [{"int_col": i, "float_col": 0.5, "string_col": str(i)}]}
            expected[i] = client.post(f"/serving-endpoints/{EP}/invocations", json=payload).json()["predictions"]
    local = threading.local()
    clients: list[httpx.Client] = []

    def query(n: int) -> tuple[int, int, list[float]]:
        if not hasattr(local, "client"):
            local.client = server.client()
            clients.append(local.client)
        i = n % 10
        payload = {"dataframe_records": [{"int_col": i, "float_col": 0.5, "string_col": str(i)}]}
        r = local.client.post(f"/serving-endpoints/{EP}/invocations", json=payload)
        return i, r.status_code, r.json()["predictions"]

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(query, range(200)))
    finally:
        for client in clients:
            client.close()
    assert len(results) == 200
    assert all(status == 200 for _, status, _ in results)
    assert all(predictions == expected[i] for i, _, predictions in results)


def test_wrong_methods_and_unknown_paths(admin: httpx.Client, server: MockServer) -> None:
    r = admin.get(f"/serving-endpoints/{EP}/invocations")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["error_code"] == "METHOD_NOT_ALLOWED"
    assert admin.put(f"/api/2.0/serving-endpoints/{EP}").status_code == 405
    assert admin.patch("/api/2.0/serving-endpoints").status_code == 405
    assert admin.post("/api/2.0/serving-endpoints").status_code == 400  # create, without a name
    for path in ("/", "/api/2.0/clusters/list", f"/api/2.0/serving-endpoints/{EP}/nothing", "/serving-endpoints/x"):
        r = admin.get(path)
        assert r.status_code == 404, path
        assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    head = admin.head(f"/api/2.0/serving-endpoints/{EP}")
    assert head.status_code == 405
    assert head.content == b""


def _raw(server: MockServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # The server may answer and close before reading everything: then read its answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/9.9\r\n\r\n", b"505"),
        (b"BREW /serving-endpoints/x/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"405"),
        (b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n", b"400"),
        (b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nX: " + b"b" * 70000 + b"\r\n\r\n", b"431"),
        (b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n", b"400"),
        (b"GET /api/2.0/serving-endpoints/%ff%fe HTTP/1.1\r\nAuthorization: Bearer dapi-test\r\nConnection: close\r\n\r\n", b"404"),
        (b"GET http://evil/../../etc/passwd HTTP/1.1\r\nConnection: close\r\n\r\n", b"404"),
    ],
)
def test_malformed_requests_get_a_proper_4xx_and_the_server_lives_on(
    server: MockServer, request_bytes: bytes, status: bytes
) -> None:
    answer = _raw(server, request_bytes)
    assert answer.split(b" ", 2)[1] == status, answer[:200]
    with server.client() as client:
        assert client.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 200


def test_a_client_that_hangs_up_mid_body_does_not_hurt(server: MockServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\n"
            b"Authorization: Bearer dapi-test\r\nContent-Length: 1000\r\n\r\n{\"dataframe"
        )
    with server.client() as client:
        assert client.get(f"/api/2.0/serving-endpoints/{EP}").status_code == 200


def test_keep_alive_serves_many_requests_on_one_connection(server: MockServer) -> None:
    request = (
        b"GET /api/2.0/serving-endpoints/example-endpoint HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer dapi-test\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request * 3 + request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 4


def test_embeddings_answer_one_vector_per_input(mock_server) -> None:  # type: ignore[no-untyped-def]
    server = mock_server(SAMPLES / "foundation-model-embeddings.json", SAMPLES / "foundation-model-completions.json")
    with server.client() as client:
        body = client.post("/serving-endpoints/embeddings-endpoint/invocations", json={"input": ["a", "b", "c"]}).json()
        assert [d["index"] for d in body["data"]] == [0, 1, 2]
        assert len({tuple(d["embedding"]) for d in body["data"]}) == 3
        completion = client.post("/serving-endpoints/completions-endpoint/invocations", json={"prompt": "hi", "n": 2}).json()
        assert [c["index"] for c in completion["choices"]] == [0, 1]
        assert completion["object"] == "text_completion"
