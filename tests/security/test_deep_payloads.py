"""Issue 23, the regression: payloads nested 1,000 to 100,000 levels deep ended in `internal error: RecursionError`.

The speed work's typed decoders (msgspec) recursed once a level. Every JSON reader now asks
`schemakit.runtime.parse.json_too_deep` before a decoder sees the bytes (and `value_too_deep` of
parsed objects), so every path gives the same verdict: `invalid-json`, nested more than
`MAX_JSON_DEPTH` levels. Each shape below reaches a different decoder: the preferred direct
decoder, the general and small request decoders, the `others` decoders (params), the row
screens of large bodies, the exact path's chunked reader and the object (chat) decoder.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

import schemakit
from schemakit import PayloadValidationASGIMiddleware, PayloadValidationWSGIMiddleware, PayloadValidator
from schemakit.runtime.parse import (
    MAX_JSON_DEPTH,
    TOO_DEEP,
    PayloadDecodeError,
    json_too_deep,
    parse_json,
    value_too_deep,
)

from .hostile import SAMPLES, assert_clean, run_cli, write_json

pytestmark = pytest.mark.timeout(60)

DEPTHS = (1_000, 10_000, 100_000)


def _any_document() -> dict[str, Any]:
    """Every dataframe and tensor format, with an `any` column, an `any` tensor and an `any` param."""
    row = {"x": {}, "n": {"type": "integer"}}
    props = {
        "dataframe_records": {"type": "array", "items": {"type": "object", "properties": row}},
        "dataframe_split": {
            "type": "object",
            "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "data": {"type": "array", "items": {"type": "array", "prefixItems": [{}, {"type": "integer"}]}},
            },
        },
        "instances": {"type": "array", "items": {}},
        "inputs": {},
        "params": {"type": "object", "properties": {"p": {}}},
    }
    body = {"content": {"application/json": {"schema": {"type": "object", "properties": props}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "deep", "version": "1"},
        "paths": {
            "/served-models/m-1/invocations": {
                "post": {"requestBody": body, "responses": {"200": {"description": "ok"}}}
            }
        },
    }


def _arrays(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


def _objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


TEMPLATES = {
    "records-any-cell": b'{"dataframe_records": [{"x": %s, "n": 1}]}',
    "records-rows": b'{"dataframe_records": %s}',
    "split-cell": b'{"dataframe_split": {"columns": ["x", "n"], "data": [[%s, 1]]}}',
    "split-index": b'{"dataframe_split": {"columns": ["x", "n"], "data": [[1, 1]], "index": %s}}',
    "instances": b'{"instances": [%s]}',
    "inputs": b'{"inputs": %s}',
    "params": b'{"dataframe_records": [{"x": 1, "n": 1}], "params": {"p": %s}}',
    "top-level": b"%s",
    # Over the exact path's chunk size: the chunked reader and the row screens.
    "large-records": b'{"dataframe_records": [' + b'{"x": 1, "n": 1},' * 40_000 + b'{"x": %s, "n": 1}]}',
    "large-split": b'{"dataframe_split": {"columns": ["x", "n"], "data": [' + b"[1, 1]," * 60_000 + b"[%s, 1]]}}",
}


@pytest.fixture(scope="module")
def any_validator() -> PayloadValidator:
    validator = schemakit.compile_validator(schemakit.resolve(_any_document()).models[0])
    assert validator.has_fast_path  # or the typed decoders would not be exercised at all
    return validator


@pytest.fixture(scope="module")
def chat_validator() -> PayloadValidator:
    return schemakit.compile_validator(schemakit.load(str(SAMPLES / "foundation-model-chat.json")).models[0])


def _too_deep(report: Any) -> bool:
    return (
        not report.ok
        and [p.code for p in report.problems] == ["invalid-json"]
        and TOO_DEEP in report.problems[0].message
    )


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("shape", sorted(TEMPLATES))
def test_every_decoder_refuses_deep_payloads(any_validator: PayloadValidator, shape: str, depth: int) -> None:
    for nested in (_arrays(depth), _objects(depth)):
        body = TEMPLATES[shape] % nested
        report = any_validator.validate_json(body)
        assert _too_deep(report), report.to_text()
        assert _too_deep(any_validator.validate_json(body.decode()))


@pytest.mark.parametrize("depth", DEPTHS)
def test_object_requests_refuse_deep_payloads(chat_validator: PayloadValidator, depth: int) -> None:
    for nested in (_arrays(depth), _objects(depth)):
        for body in (b'{"messages": %s}' % nested, b'{"messages": [{"role": "user", "content": %s}]}' % nested):
            assert _too_deep(chat_validator.validate_json(body))


@pytest.mark.parametrize("depth", DEPTHS)
def test_parsed_payloads_get_the_same_verdict(any_validator: PayloadValidator, depth: int) -> None:
    value: Any = 1
    for _ in range(depth):
        value = {"a": [value]} if depth % 2 else [value]
    for payload in ({"instances": [value]}, {"dataframe_records": [{"x": value, "n": 1}]}, {"inputs": value}):
        assert _too_deep(any_validator.validate(payload))


def test_the_limit_is_exact_and_the_same_on_every_path(any_validator: PayloadValidator) -> None:
    # "instances" + its list: two levels of the payload around the value.
    for depth, ok in ((MAX_JSON_DEPTH - 2, True), (MAX_JSON_DEPTH - 1, False)):
        for nested in (_arrays(depth), _objects(depth)):
            body = b'{"instances": [%s]}' % nested
            fast = any_validator.validate_json(body)
            exact = any_validator.validate(json.loads(body))
            assert fast.ok is exact.ok is ok, (depth, fast.to_text(), exact.to_text())


def test_brackets_in_strings_and_escapes_do_not_count() -> None:
    deep_text = json.dumps({"s": "[" * 5000 + '\\"{' * 500, "t": ["\\\\", "[[", '\\\\"']}).encode()
    assert not json_too_deep(deep_text)
    assert not json_too_deep(deep_text.decode())
    assert parse_json(deep_text)["t"][0] == "\\\\"
    assert json_too_deep(b'["\\\\", ' + _arrays(200) + b"]")
    assert not json_too_deep(b'["\\"' + b"[" * 300 + b'", ' + _arrays(100) + b"]")
    assert not json_too_deep(b",".join([_arrays(MAX_JSON_DEPTH)] * 2000))
    assert json_too_deep(b",".join([_arrays(MAX_JSON_DEPTH)] * 2000 + [_arrays(MAX_JSON_DEPTH + 1)]))
    # Interleaved values deepen one level at a time: the peeling passes cannot see through them.
    assert json_too_deep(b"[1," * 200 + b"1" + b"]" * 200)
    assert not value_too_deep([[1]] * 100)


@pytest.mark.parametrize("depth", DEPTHS)
def test_parse_json_refuses_deep_bytes(depth: int) -> None:
    with pytest.raises(PayloadDecodeError, match=TOO_DEEP):
        parse_json(_objects(depth))


@pytest.mark.parametrize("depth", DEPTHS)
def test_check_cli_refuses_deep_payloads(tmp_path: Path, env: dict[str, str], depth: int) -> None:
    spec = write_json(tmp_path / "any.json", _any_document())
    for shape in ("records-any-cell", "instances", "params"):
        payload = tmp_path / f"{shape}.json"
        payload.write_bytes(TEMPLATES[shape] % _objects(depth))
        run = run_cli("check", str(spec), str(payload), env=env)
        assert_clean(run, codes=(2,))  # as for any payload file that is not JSON
        assert TOO_DEEP in run.text


def _asgi_status(app: Any, body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)] or [b""]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/served-models/m-1/invocations",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def _never(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("a deep body reached the app")


def _never_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    raise AssertionError("a deep body reached the app")


@pytest.mark.parametrize("depth", DEPTHS)
def test_middlewares_answer_400(depth: int) -> None:
    schema = schemakit.resolve(_any_document())
    asgi = PayloadValidationASGIMiddleware(_never, schema)
    wsgi = PayloadValidationWSGIMiddleware(_never_wsgi, schema)
    for shape in ("records-any-cell", "inputs", "large-records"):
        body = TEMPLATES[shape] % _arrays(depth)
        status, answer = _asgi_status(asgi, body)
        assert status == 400
        assert b"invalid-json" in answer
        statuses: list[str] = []
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/served-models/m-1/invocations",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        answer = b"".join(wsgi(environ, lambda status, _headers, *_: statuses.append(status)))  # noqa: B023
        assert statuses[0].startswith("400")
        assert b"invalid-json" in answer
