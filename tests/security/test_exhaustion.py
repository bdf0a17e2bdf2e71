"""Issue 12, resource exhaustion and hangs: each input class ends within 20 s with a verdict or a one-line error.

ReDoS patterns, exponential `$ref` expansion, a server that drips one byte at a time under a request timeout, the
emulator's chunked bodies and request log, and a configuration file that never ends. The 20 s bound is a
pytest-timeout mark, not a timed assert.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.testing import MockServer

from .hostile import (
    SAMPLE,
    TOKEN,
    HostileHandler,
    assert_clean,
    document,
    drip,
    hostile_server,
    run_cli,
    write_json,
)

pytestmark = pytest.mark.timeout(20)

EVIL_PATTERNS = [
    "^(a+)+$",
    "^(a|aa)+$",
    "^(a|a?)+$",
    "^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
]
EVIL_INPUT = "a" * 35 + "!"


def _redos_doc(tmp_path: Path, pattern: str) -> Path:
    props = {"s": {"type": "string", "pattern": pattern, "default": EVIL_INPUT, "examples": [EVIL_INPUT]}}
    doc = document({"m-1": props})
    branch = doc["paths"]["/served-models/m-1/invocations"]["post"]["requestBody"]["content"]["application/json"]
    branch["schema"]["oneOf"][0]["examples"] = [{"dataframe_records": [{"s": EVIL_INPUT}]}]
    return write_json(tmp_path / "redos.json", doc)


@pytest.mark.parametrize("pattern", EVIL_PATTERNS)
def test_redos_pattern_in_check_and_validate(tmp_path: Path, pattern: str, env: dict[str, str]) -> None:
    doc = _redos_doc(tmp_path, pattern)
    payload = write_json(tmp_path / "payload.json", {"dataframe_records": [{"s": EVIL_INPUT}, {"s": "a" * 5000 + "!"}]})
    assert_clean(run_cli("validate", str(doc), env=env))
    assert_clean(run_cli("check", str(doc), str(payload), env=env))


@pytest.mark.parametrize("pattern", EVIL_PATTERNS[:1])
def test_redos_pattern_in_library_emulator_and_middleware(tmp_path: Path, pattern: str) -> None:
    doc = _redos_doc(tmp_path, pattern)
    payload = {"dataframe_records": [{"s": EVIL_INPUT}]}
    schema = schemakit.load(str(doc))
    assert not schemakit.compile_endpoint_validator(schema).validate(payload).ok
    with MockServer([doc], token="dapi-test") as server, server.client() as client:
        answer = client.post("/serving-endpoints/hostile-endpoint/invocations", json=payload)
        assert answer.status_code == 400, answer.text
    statuses: list[str] = []
    app = schemakit.PayloadValidationWSGIMiddleware(lambda environ, start: [start("200 OK", []) or b"ok"], schema)
    body = json.dumps(payload).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/invocations",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": __import__("io").BytesIO(body),
    }
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("400")


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?<=a)b", "[[:alpha:]]", "\\p{Greek}", "(?P<x>a)(?P=x)", "a{99999}"])
def test_patterns_a_linear_engine_cannot_compile_are_reported_not_crashed(
    tmp_path: Path, pattern: str, env: dict[str, str]
) -> None:
    doc = write_json(tmp_path / "doc.json", document({"m-1": {"s": {"type": "string", "pattern": pattern}}}))
    payload = write_json(tmp_path / "p.json", {"dataframe_records": [{"s": "aab"}]})
    for args in (("validate", str(doc)), ("inspect", str(doc)), ("check", str(doc), str(payload))):
        assert_clean(run_cli(*args, env=env))


def _exponential_doc(tmp_path: Path, depth: int, width: int) -> Path:
    schemas: dict[str, Any] = {}
    for level in range(depth):
        target = {"$ref": f"#/components/schemas/L{level + 1}"} if level + 1 < depth else {"type": "string"}
        schemas[f"L{level}"] = {"type": "object", "properties": {f"p{i}": target for i in range(width)}}
    doc = document({"m-1": {"x": {"$ref": "#/components/schemas/L0"}}}, extra={"components": {"schemas": schemas}})
    return write_json(tmp_path / f"bomb-{depth}-{width}.json", doc)


@pytest.mark.parametrize(("depth", "width"), [(40, 2), (12, 8), (7, 40)])
def test_exponential_ref_expansion_fails_fast(tmp_path: Path, depth: int, width: int, env: dict[str, str]) -> None:
    doc = _exponential_doc(tmp_path, depth, width)
    payload = write_json(tmp_path / "p.json", {"dataframe_records": [{"x": {}}]})
    for args in (("validate", str(doc)), ("check", str(doc), str(payload)), ("diff", str(doc), str(SAMPLE))):
        run = run_cli(*args, env=env)
        assert_clean(run)
        assert run.code in (1, 2), f"an exponential document must be refused\n{run}"


def test_exponential_ref_expansion_library(tmp_path: Path) -> None:
    with pytest.raises(SchemakitError) as refused:
        schemakit.load(str(_exponential_doc(tmp_path, 40, 2)))
    assert "\n" not in str(refused.value)


def test_a_large_document_of_shared_refs_fails_fast(tmp_path: Path, env: dict[str, str]) -> None:
    # ~2 MB: a wide table whose every row references the same few thousand-node subtree.
    leaf = {"type": "object", "properties": {f"f{i}": {"type": "string", "description": "d" * 20} for i in range(300)}}
    schemas = {
        "Leaf": leaf,
        "Row": {"type": "object", "properties": {f"c{i}": {"$ref": "#/components/schemas/Leaf"} for i in range(4000)}},
    }
    doc = document(
        {"m-1": {f"x{i}": {"$ref": "#/components/schemas/Row"} for i in range(300)}},
        extra={"components": {"schemas": schemas}},
    )
    path = write_json(tmp_path / "wide.json", doc)
    run = run_cli("validate", str(path), env=env)
    assert_clean(run)
    assert run.code in (1, 2)


# -- a dripping server against a request timeout -------------------------------------------------------------------


def _drip(handler: HostileHandler) -> None:
    drip(handler, seconds=60, every=0.5)


def test_request_timeout_bounds_the_whole_request_cli(env: dict[str, str]) -> None:
    with hostile_server(_drip) as server:
        run_env = {**env, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": TOKEN}
        run = run_cli("endpoint", "status", "x", "--request-timeout", "3", "--retries", "0", env=run_env)
        assert_clean(run)
        assert run.code == 2
        run = run_cli("validate", "--timeout", "3", f"{server.url}/doc.json", env=env)
        assert_clean(run)
        assert run.code == 2


def test_request_timeout_bounds_the_whole_request_library() -> None:
    with hostile_server(_drip) as server, schemakit.Workspace(host=server.url, token=TOKEN, timeout=3, retries=0) as ws:
        with pytest.raises(SchemakitError) as raised:
            ws.get_endpoint("x")
        assert "\n" not in str(raised.value)
        with pytest.raises(SchemakitError):
            schemakit.load(f"{server.url}/doc.json", schemakit.LoadOptions(timeout=3))


# -- the emulator's bodies -----------------------------------------------------------------------------------------


def _raw(port: int, request: bytes, then: bytes = b"", repeat: int = 0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request)
        try:
            for _ in range(repeat):
                sock.sendall(then)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed early: what a bounded reader does
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
    return b"".join(chunks)


@pytest.mark.parametrize("size", [b"-1", b"-0", b"ffffffffffffffffffff", b"1_0", b" 10", b"10;ext=1"])
def test_emulator_chunk_sizes_never_bypass_the_body_limit(size: bytes) -> None:
    with MockServer([SAMPLE], token="dapi-test", max_body_bytes=4096) as server:
        head = (
            b"POST /serving-endpoints/example-endpoint/invocations HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer dapi-test\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\n"
        )
        answer = _raw(server.port, head, b"x" * 65536, repeat=64)  # 4 MB after a hostile chunk size
        assert answer.split(b" ", 2)[1] in (b"400", b"413"), answer[:300]
        assert all(len(r.body) <= 4096 for r in server.requests)


def test_emulator_keeps_no_unauthenticated_body_and_bounds_the_rest() -> None:
    big = b'{"dataframe_records": [{"x": "' + b"y" * (4 * 1024 * 1024) + b'"}]}'
    with MockServer([SAMPLE], token="dapi-test") as server:
        url = server.invocations_url("example-endpoint")
        with httpx.Client(timeout=15) as client:
            for token in ("nope", "dapi-test") * 20:
                client.post(url, content=big, headers={"Authorization": f"Bearer {token}"})
        assert all(r.body == b"" for r in server.requests if r.status in (401, 403))
        assert sum(len(r.body) for r in server.requests) <= 64 * 1024 * 1024


# -- a configuration file that never ends --------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_config_file_that_never_ends(device: str, env: dict[str, str]) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    run = run_cli("endpoint", "list", env={**env, "DATABRICKS_CONFIG_FILE": device})
    assert_clean(run)
    assert run.code == 2
    with pytest.raises(SchemakitError):
        schemakit.Workspace(config_file=device)
