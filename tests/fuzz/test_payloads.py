"""Hostile request bodies through the library validator, both middlewares and the emulator.

Properties: the library returns a report (never raises anything but a SchemakitError); the middlewares answer
400/413 or hand the body on unchanged; the emulator never answers 5xx; JSON keys survive the trip into a report.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.testing import MockServer

from ..security.hostile import SAMPLES, assert_one_line, raw_controls
from .strategies import fuzz_settings, fuzz_timeout, payloads, raw_bodies

pytestmark = fuzz_timeout(120)

DOCS = [SAMPLES / "docs-example-dataframe.json", SAMPLES / "foundation-model-chat.json", SAMPLES / "tensor-model.json"]
SCHEMA = schemakit.load(str(DOCS[0]))
COLUMNS = ["int_col", "float_col", "string_col", "becx_col"]
VALIDATOR = schemakit.compile_endpoint_validator(SCHEMA)


@fuzz_settings(150)
@given(body=raw_bodies(COLUMNS))
def test_library_validator_reports_on_any_bytes(body: bytes) -> None:
    try:
        report = VALIDATOR.validate_json(body)
    except SchemakitError as exc:
        assert_one_line(exc)
        return
    text = report.to_text()
    json.dumps(report.to_json())
    assert not raw_controls(text), f"raw {raw_controls(text)} in a payload report"


@fuzz_settings(100)
@given(payload=payloads(COLUMNS))
def test_payload_keys_survive_into_reports(payload: Any) -> None:
    report = VALIDATOR.validate(payload)
    encoded = json.dumps(report.to_json(), ensure_ascii=False)
    assert json.loads(encoded) == report.to_json()


def _wsgi(body: bytes) -> tuple[str, bytes]:
    def app(environ: dict[str, Any], start: Any) -> list[bytes]:
        start("200 OK", [("Content-Type", "application/octet-stream")])
        return [environ["wsgi.input"].read()]

    middleware = schemakit.PayloadValidationWSGIMiddleware(app, SCHEMA, max_body=1 << 20)
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/served-models/vanilla_simple_model-2/invocations",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(middleware(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], out


def _asgi(body: bytes) -> tuple[int, bytes]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": message.get("body", b"")})

    middleware = schemakit.PayloadValidationASGIMiddleware(app, SCHEMA, max_body=1 << 20)
    sent: list[dict[str, Any]] = []
    half = len(body) // 2
    parts = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:], "more_body": False},
    ]

    async def receive() -> dict[str, Any]:
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/served-models/vanilla_simple_model-2/invocations",
        "headers": [],
    }
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@fuzz_settings(100)
@given(body=raw_bodies(COLUMNS))
def test_middlewares_answer_400_or_pass_the_body_unchanged(body: bytes) -> None:
    status, out = _wsgi(body)
    assert status[:3] in ("200", "400", "413"), status
    if status.startswith("200"):
        assert out == body
    else:
        json.loads(out)
    code, out = _asgi(body)
    assert code in (200, 400, 413)
    if code == 200:
        assert out == body
    else:
        json.loads(out)


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[MockServer, httpx.Client]]:
    with MockServer(DOCS, token="dapi-test", max_body_bytes=1 << 20) as server, server.client(timeout=20) as client:
        yield server, client


@fuzz_settings(100)
@given(body=raw_bodies(COLUMNS))
def test_emulator_never_answers_5xx(emulator: tuple[MockServer, httpx.Client], body: bytes) -> None:
    _server, client = emulator
    for path in (
        "/serving-endpoints/example-endpoint/invocations",
        "/serving-endpoints/example-endpoint/served-models/vanilla_simple_model-2/invocations",
    ):
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code < 500, (path, body[:300], answer.text[:300])
        if answer.status_code >= 400:
            assert isinstance(answer.json().get("message"), str)
