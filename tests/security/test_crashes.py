"""Issue 12, crashes: inputs that gave internal errors, HTTP 500s or unhandled exceptions.

Integers past 4,300 digits (payloads, documents, MLflow signatures), integers above 2^64 (inspect/diff JSON, fetch,
`endpoint:` sources, from-mlflow defaults and tensor shapes), an unresolvable `$dynamicRef`, a `$ref` with a
5,000-digit array index, an ignore file with an impossible date, and damaged emulator state files.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.testing import MockServer

from .hostile import ROOT, SAMPLE, TOKEN, assert_clean, assert_one_line, document, run_cli, write_json

pytestmark = pytest.mark.timeout(30)

HUGE = "9" * 5000  # past int()'s 4,300-digit limit
ABOVE_2_64 = 2**64 + 7


def _raw_json(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- integers with more than 4,300 digits in a payload ----------------------------------------------------------

BIG_PAYLOADS = [
    f'{{"dataframe_split": {{"columns": ["int_col", "float_col", "string_col"], "data": [[{HUGE}, 1.0, "a"]]}}}}',
    f'{{"dataframe_records": [{{"int_col": {HUGE}, "float_col": 1.0, "string_col": "a"}}]}}',
    f'{{"dataframe_records": [{{"int_col": -{HUGE}, "float_col": 1.0, "string_col": "a"}}]}}',
    '{"dataframe_records": [{"int_col": 1, "float_col": 1e99999, "string_col": "a"}]}',
    f'{{"dataframe_records": [{{"int_col": 1, "float_col": {HUGE}.5e3, "string_col": "a"}}], "params": {{"sentiment": {HUGE}}}}}',
    f'{{"instances": [{HUGE}]}}',
]


@pytest.mark.parametrize("index", range(len(BIG_PAYLOADS)))
def test_big_ints_in_payload_check(tmp_path: Path, index: int, env: dict[str, str]) -> None:
    payload = _raw_json(tmp_path / "p.json", BIG_PAYLOADS[index])
    for fmt in ("text", "json"):
        run = run_cli("check", "--format", fmt, str(SAMPLE), str(payload), env=env)
        assert_clean(run, codes=(1, 2))
    report = (
        schemakit.check_payload(schemakit.load(str(SAMPLE)), BIG_PAYLOADS[index])
        if hasattr(schemakit, "check_payload")
        else None
    )
    assert report is None or not report.ok


@pytest.mark.parametrize("index", range(len(BIG_PAYLOADS)))
def test_big_ints_in_payload_emulator(index: int) -> None:
    with MockServer([SAMPLE], token="dapi-test") as server, server.client() as client:
        answer = client.post("/serving-endpoints/example-endpoint/invocations", content=BIG_PAYLOADS[index])
        assert answer.status_code == 400, answer.text
        answer = client.post(
            "/serving-endpoints/example-endpoint/served-models/vanilla_simple_model-2/invocations",
            content=BIG_PAYLOADS[index],
        )
        assert answer.status_code in (400, 404), answer.text


@pytest.mark.parametrize("index", range(len(BIG_PAYLOADS)))
def test_big_ints_in_payload_middlewares(index: int) -> None:
    schema = schemakit.load(str(SAMPLE))
    body = BIG_PAYLOADS[index].encode()

    def inner_wsgi(environ: dict[str, Any], start: Any) -> list[bytes]:
        start("200 OK", [])
        return [b"ok"]

    wsgi = schemakit.PayloadValidationWSGIMiddleware(inner_wsgi, schema)
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/invocations",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    b"".join(wsgi(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("400")

    async def inner_asgi(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    asgi = schemakit.PayloadValidationASGIMiddleware(inner_asgi, schema)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi({"type": "http", "method": "POST", "path": "/invocations", "headers": []}, receive, send))
    assert sent[0]["status"] == 400


# -- integers with more than 4,300 digits in a document or an MLflow signature -------------------------------------


def _with_huge(where: str) -> str:
    props = {"x": {"type": "integer"}}
    doc = json.dumps(document({"m-1": props}))
    replacement = {
        "maximum": f'"x": {{"type": "integer", "maximum": {HUGE}}}',
        "default": f'"x": {{"type": "integer", "default": {HUGE}}}',
        "enum": f'"x": {{"type": "integer", "enum": [1, {HUGE}]}}',
        "multipleOf": f'"x": {{"type": "integer", "multipleOf": {HUGE}}}',
        "maxItems": f'"x": {{"type": "array", "maxItems": {HUGE}}}',
        "float": '"x": {"type": "number", "minimum": 1e99999}',
    }[where]
    return doc.replace('"x": {"type": "integer"}', replacement)


@pytest.mark.parametrize("where", ["maximum", "default", "enum", "multipleOf", "maxItems", "float"])
def test_big_ints_in_a_document(tmp_path: Path, where: str, env: dict[str, str]) -> None:
    doc = _raw_json(tmp_path / "doc.json", _with_huge(where))
    payload = write_json(tmp_path / "p.json", {"dataframe_records": [{"x": 1}]})
    for args in (
        ("validate", str(doc)),
        ("inspect", str(doc)),
        ("inspect", "--format", "json", str(doc)),
        ("check", str(doc), str(payload)),
        ("diff", "--format", "json", str(doc), str(SAMPLE)),
    ):
        assert_clean(run_cli(*args, env=env))


def _mlmodel(tmp_path: Path, params: str, inputs: str | None = None) -> Path:
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    text = (ROOT / "tests" / "mlflow" / "models" / "house-prices" / "MLmodel").read_text()
    head, _, _ = text.partition("signature:")
    signature = "signature:\n"
    signature += "  inputs: '" + (inputs or '[{"type": "long", "name": "n", "required": true}]') + "'\n"
    signature += '  outputs: \'[{"type": "double", "required": true}]\'\n'
    signature += "  params: '" + params + "'\n"
    (model / "MLmodel").write_text(head + signature)
    return model


@pytest.mark.parametrize(
    ("params", "inputs"),
    ids=[
        "huge-default",
        "above-2-64-default",
        "above-2-64-list-default",
        "inf-default",
        "above-2-64-shape",
        "huge-shape",
    ],
    argvalues=[
        (f'[{{"name": "k", "type": "long", "default": {HUGE}, "shape": null}}]', None),
        (f'[{{"name": "k", "type": "long", "default": {ABOVE_2_64}, "shape": null}}]', None),
        (f'[{{"name": "k", "type": "long", "default": [{ABOVE_2_64}], "shape": [-1]}}]', None),
        ('[{"name": "k", "type": "double", "default": 1e99999, "shape": null}]', None),
        ("[]", f'[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, {ABOVE_2_64}]}}}}]'),
        ("[]", f'[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1, {HUGE}]}}}}]'),
    ],
)
def test_big_ints_in_an_mlflow_signature(tmp_path: Path, params: str, inputs: str | None, env: dict[str, str]) -> None:
    model = _mlmodel(tmp_path, params, inputs)
    for args in (("from-mlflow", str(model)), ("inspect", "--format", "json", f"mlflow:{model}")):
        assert_clean(run_cli(*args, env=env))


# -- integers above 2^64 in a document validate passes --------------------------------------------------------------


def _above_2_64_doc(tmp_path: Path) -> Path:
    props = {
        "x": {"type": "integer", "maximum": ABOVE_2_64, "minimum": -ABOVE_2_64, "default": ABOVE_2_64},
        "y": {"type": "integer", "enum": [1, ABOVE_2_64]},
        "z": {"type": "array", "items": {"type": "integer"}, "maxItems": ABOVE_2_64},
    }
    return write_json(tmp_path / "big.json", document({"m-1": props}))


def test_above_2_64_inspect_and_diff_json(tmp_path: Path, env: dict[str, str]) -> None:
    doc = _above_2_64_doc(tmp_path)
    for args in (
        ("validate", str(doc)),
        ("inspect", "--format", "json", str(doc)),
        ("diff", "--format", "json", str(doc), str(SAMPLE)),
        ("diff", "--format", "json", str(SAMPLE), str(doc)),
        ("diff", "--format", "junit", str(doc), str(doc)),
    ):
        run = run_cli(*args, env=env)
        assert_clean(run)
        if "--format" in args and args[args.index("--format") + 1] == "json":
            json.loads(run.out)


def test_above_2_64_fetch_and_endpoint_sources(tmp_path: Path, env: dict[str, str]) -> None:
    doc = _above_2_64_doc(tmp_path)
    with MockServer([doc], token=TOKEN) as server:
        run_env = {**env, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": TOKEN}
        for args in (
            ("fetch", "hostile-endpoint"),
            ("fetch", "hostile-endpoint", "-o", str(tmp_path / "fetched.json")),
            ("inspect", "--format", "json", "endpoint:hostile-endpoint"),
            ("diff", "--format", "json", "endpoint:hostile-endpoint", str(doc)),
        ):
            assert_clean(run_cli(*args, env=run_env))


# -- references --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    ids=[
        "dynamicRef-anchor",
        "dynamicRef-pointer",
        "dynamicRef-empty",
        "dynamicRef-int",
        "index-5000-digits-leading-zeros",
        "index-5000-digits",
        "index-negative",
        "index-leading-zero",
        "bad-percent",
    ],
    argvalues=[
        {"$dynamicRef": "#nope"},
        {"$dynamicRef": "#/nowhere"},
        {"$dynamicRef": ""},
        {"$dynamicRef": 5},
        {"$ref": "#/servers/" + "0" * 4999 + "1"},
        {"$ref": "#/servers/" + "9" * 5000},
        {"$ref": "#/servers/-1"},
        {"$ref": "#/servers/01"},
        {"$ref": "#/paths/%ZZ"},
    ],
)
def test_bad_references_are_findings(tmp_path: Path, column: dict[str, Any], env: dict[str, str]) -> None:
    doc = write_json(tmp_path / "doc.json", document({"m-1": {"x": column, "n": {"type": "integer"}}}))
    payload = write_json(tmp_path / "p.json", {"dataframe_records": [{"x": 1, "n": 1}]})
    for args in (
        ("validate", str(doc)),
        ("inspect", "--format", "json", str(doc)),
        ("check", str(doc), str(payload)),
        ("diff", str(doc), str(SAMPLE)),
    ):
        assert_clean(run_cli(*args, env=env))
    try:
        schema = schemakit.load(str(doc))
        schemakit.compile_endpoint_validator(schema).validate({"dataframe_records": [{"x": 1, "n": 1}]})
    except SchemakitError as exc:
        assert_one_line(exc)


# -- ignore files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires", ["2027-02-30", "2027-13-01", "99999-01-01", "yesterday", "2027-02-28T25:00:00", 20270101]
)
def test_ignore_file_with_an_impossible_date(tmp_path: Path, expires: object, env: dict[str, str]) -> None:
    ignore = write_json(
        tmp_path / "ignore.json",
        {"ignore": [{"rule": "column-removed", "column": "x", "reason": "r", "expires": expires}]},
    )
    ignore_yaml = tmp_path / "ignore.yaml"
    ignore_yaml.write_text(f"ignore:\n  - rule: column-removed\n    column: x\n    reason: r\n    expires: {expires}\n")
    for path in (ignore, ignore_yaml):
        run = run_cli("diff", "--ignore", str(path), str(SAMPLE), str(SAMPLE), env=env)
        assert_clean(run, codes=(2,))


# -- emulator state files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        {"endpoints": {"example-endpoint": {"creation_timestamp": "yesterday"}}},
        {"endpoints": {"example-endpoint": {"last_updated_timestamp": 10**30}}},
        {"endpoints": {"example-endpoint": {"ready_after_seconds": 10**30}}},
        {"endpoints": {"example-endpoint": {"ready_after_seconds": float("inf")}}},
        {"endpoints": {"example-endpoint": {"latency": 1e308}}},
        {"endpoints": {"example-endpoint": {"retry_after": 10**30}}},
        {"users": [{"name": "a", "token": "dapi-same"}, {"name": "b", "token": "dapi-same"}]},
        {"users": [{"name": "a", "token": "dapi-test"}]},
        {"endpoints": {"example-endpoint": {"stopped": "yes"}}},
        {"endpoints": []},
        [],
    ],
)
def test_damaged_state_file_is_one_line(tmp_path: Path, state: Any, env: dict[str, str]) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    try:
        server = MockServer([SAMPLE], token="dapi-test", state_file=path)
        server.start()
    except SchemakitError as exc:
        assert_one_line(exc)
        # The command line refuses it the same way, in one line, before it listens.
        run = run_cli("mock", "--token", "dapi-test", "--state-file", str(path), str(SAMPLE), env=env)
        assert_clean(run, codes=(2,))
    else:
        with server.client() as client:
            for route in ("/api/2.0/serving-endpoints", "/api/2.0/serving-endpoints/example-endpoint"):
                assert client.get(route).status_code < 500
        server.stop()


def test_a_stop_is_saved_to_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with MockServer([SAMPLE], token="dapi-test", state_file=path) as server, server.client() as client:
        assert (
            client.put("/api/2.0/serving-endpoints/example-endpoint/config:stop").status_code < 300
            or client.post("/api/2.0/serving-endpoints/example-endpoint/config:stop").status_code < 300
        )
    saved = json.loads(path.read_text())
    assert saved["endpoints"]["example-endpoint"]["stopped"] is True
    with MockServer([SAMPLE], token="dapi-test", state_file=path) as server, server.client() as client:
        answer = client.post("/serving-endpoints/example-endpoint/invocations", json={"dataframe_records": []})
        assert "stopped" in answer.text
    assert isinstance(httpx, object)
