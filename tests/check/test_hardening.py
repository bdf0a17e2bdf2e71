"""Issue 12 in payload checking: hostile patterns, huge integers, deep nesting and huge bodies give findings.

Each case goes through every entry point a client can reach: `schemakit check`, `check_payload`
(bytes and parsed objects), and both middlewares over real sockets, which must answer 400 (or 413),
never 500 or an unhandled exception. Bounded time is enforced by the test timeout, not by timed asserts.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import uvicorn

import schemakit
from schemakit import EndpointSchema, PayloadValidationASGIMiddleware, PayloadValidationWSGIMiddleware
from schemakit.runtime.patterns import LINEAR_PATTERNS

pytestmark = pytest.mark.timeout(60)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS_PATH = "/served-models/vanilla_simple_model-2/invocations"
EVIL = "a" * 40 + "b"  # exponential for ^(a+)+$ under a backtracking engine
HUGE = "9" * 5000  # more digits than int() converts


def _pattern_doc(pattern: str) -> dict[str, Any]:
    row = {"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}, "n": {"type": "integer"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "patterns", "version": "1"},
        "paths": {
            "/served-models/p-1/invocations": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"dataframe_records": {"type": "array", "items": row}},
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


@pytest.fixture(scope="module")
def redos_schema() -> EndpointSchema:
    return schemakit.resolve(_pattern_doc("^(a+)+$"))


def _records(**row: Any) -> bytes:
    return json.dumps({"dataframe_records": [row]}).encode()


def test_linear_time_patterns_are_installed() -> None:
    assert LINEAR_PATTERNS  # google-re2 is a dependency of schemakit


def test_a_catastrophic_pattern_answers_at_once(redos_schema: EndpointSchema) -> None:
    validator = schemakit.compile_validator(redos_schema.models[0])
    for report in (
        validator.validate({"dataframe_records": [{"s": EVIL * 10}]}),
        validator.validate_json(_records(s=EVIL)),
        schemakit.check_payload(redos_schema, _records(s="a" * 10_000 + "!")),
    ):
        assert [p.code for p in report.problems] == ["pattern"]
    assert validator.validate_json(_records(s="a" * 100_000)).ok


def test_check_cli_with_a_catastrophic_pattern(run_cli: Any, tmp_path: Path) -> None:
    spec = tmp_path / "doc.json"
    spec.write_text(json.dumps(_pattern_doc("^(a+)+$")))
    payload = tmp_path / "p.json"
    payload.write_bytes(_records(s=EVIL))
    result = run_cli("check", str(spec), str(payload))
    assert result.returncode == 1, result.stderr
    assert "error [pattern]" in result.stdout


def test_a_pattern_re2_cannot_run_is_a_clear_problem_not_a_hang() -> None:
    plan = {
        "model": "m",
        "request_schema": {"type": "object", "properties": {"s": {"pattern": "^(a+)+\\1$"}}},
        "formats": [],
    }
    from schemakit.runtime.engine import Engine

    report = Engine(plan).validate({"s": EVIL})
    (problem,) = report.problems
    assert problem.code == "pattern"
    assert "needs backtracking" in problem.message
    assert "\n" not in problem.message
    assert Engine(plan).validate({"s": 1}).ok  # a non-string is not checked against a pattern


@pytest.mark.parametrize("as_bytes", [True, False])
def test_integers_beyond_4300_digits_are_int_range_findings(as_bytes: bool) -> None:
    docs = schemakit.load(str(SAMPLES / "docs-example-dataframe.json"))
    body = '{"dataframe_split": {"columns": ["int_col", "float_col"], "data": [[' + HUGE + ", -" + HUGE + "]]}}"
    parsed = {"dataframe_split": {"columns": ["int_col"], "data": [[int(HUGE[:4000]) ** 2]]}}
    payload: Any = body.encode() if as_bytes else parsed
    report = schemakit.check_payload(docs, payload)
    assert not report.ok
    assert {p.code for p in report.problems} == {"int-range"}
    assert "digits" in report.problems[0].message
    assert len(report.to_text()) < 2000


def test_check_cli_with_a_huge_integer(run_cli: Any, tmp_path: Path) -> None:
    payload = tmp_path / "huge.json"
    payload.write_text('{"dataframe_records": [{"int_col": ' + HUGE + ', "float_col": 1, "string_col": "x"}]}')
    result = run_cli("check", str(SAMPLES / "docs-example-dataframe.json"), str(payload))
    assert result.returncode == 1, result.stderr
    assert "error [int-range]" in result.stdout
    assert "Traceback" not in result.stderr


# -- the middlewares over real sockets -----------------------------------------------------------


async def _echo_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"forwarded": true}'})


def _echo_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"forwarded": true}']


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(kind: str, schema: EndpointSchema) -> Iterator[str]:
    if kind == "wsgi":
        server = make_server("127.0.0.1", 0, PayloadValidationWSGIMiddleware(_echo_wsgi, schema), handler_class=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
        return
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = PayloadValidationASGIMiddleware(_echo_asgi, schema)
    uv = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_middlewares_answer_hostile_bodies_with_400(kind: str, redos_schema: EndpointSchema) -> None:
    docs = schemakit.load(str(SAMPLES / "docs-example-dataframe.json"))
    with _serve(kind, docs) as url:
        huge = b'{"dataframe_split": {"columns": ["int_col"], "data": [[%s]]}}' % HUGE.encode()
        status, body = _post(url + DOCS_PATH, huge)
        assert (status, body["report"]["problems"][0]["code"]) == (400, "int-range")
        deep = b'{"dataframe_records": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
        status, body = _post(url + DOCS_PATH, deep)
        assert (status, body["report"]["problems"][0]["code"]) == (400, "invalid-json")
    with _serve(kind, redos_schema) as url:
        status, body = _post(url + "/served-models/p-1/invocations", _records(s=EVIL))
        assert (status, body["report"]["problems"][0]["code"]) == (400, "pattern")


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_middlewares_answer_a_body_over_the_endpoint_limit_with_413(kind: str) -> None:
    chat = schemakit.load(str(SAMPLES / "foundation-model-chat.json"))
    path = f"/served-models/{chat.models[0].name}/invocations"
    with _serve(kind, chat) as url:
        ok = json.dumps({"messages": [{"role": "user", "content": "x" * 1000}]}).encode()
        assert _post(url + path, ok)[0] == 200
        big = json.dumps({"messages": [{"role": "user", "content": "x" * (4 * 1024 * 1024)}]}).encode()
        status, body = _post(url + path, big)
        assert status == 413
        assert "4,194,304" in body["message"]
        status, body = _post(url + path, b"{}")
        assert (status, body["report"]["problems"][0]["code"]) == (400, "required-field")
