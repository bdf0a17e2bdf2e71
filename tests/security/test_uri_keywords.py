"""Issue 12, security: no URI-bearing keyword makes schemakit read a file or open a connection.

`$dynamicRef`, `$schema`, `$id` with a remote base and `unevaluatedProperties` behind a remote `$dynamicRef` fell
through to jsonschema, whose default retriever fetches http:// and reads file://. Every command, the emulator, the
middlewares and generated packages are driven with documents that point such keywords at a canary file and at a
recording listener: no byte of either may come back, and the listener must see no connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemakit
from schemakit._exceptions import SchemakitError

from .hostile import CANARY_TEXT, REMOTE_TEXT, Listener, Run, assert_clean, document, run_cli, write_json

pytestmark = pytest.mark.timeout(60)

Column = Callable[[Path, Listener], dict[str, Any]]

#: A column schema per URI-bearing keyword, pointing at the canary file or at the listener.
HOSTILE_COLUMNS: dict[str, Column] = {
    "dynamicRef-file": lambda canary, lst: {"$dynamicRef": canary.as_uri()},
    "dynamicRef-http": lambda canary, lst: {"$dynamicRef": f"{lst.url}/schema.json"},
    "schema-http": lambda canary, lst: {"$schema": f"{lst.url}/meta", "type": "string"},
    "schema-file": lambda canary, lst: {"$schema": canary.as_uri(), "type": "string"},
    "id-remote-base": lambda canary, lst: {
        "$id": f"{lst.url}/base/",
        "type": "object",
        "properties": {"inner": {"$dynamicRef": "inner.json"}},
    },
    "id-file-base": lambda canary, lst: {
        "$id": canary.parent.as_uri() + "/",
        "type": "object",
        "properties": {"inner": {"$dynamicRef": canary.name}},
    },
    "unevaluated-through-remote-dynamicRef": lambda canary, lst: {
        "type": "object",
        "$dynamicRef": f"{lst.url}/props.json",
        "unevaluatedProperties": False,
    },
    "ref-http-inside-allOf": lambda canary, lst: {"allOf": [{"$ref": f"{lst.url}/s.json"}]},
    "ref-file": lambda canary, lst: {"$ref": canary.as_uri()},
    "dynamicAnchor-with-remote-id": lambda canary, lst: {
        "$id": f"{lst.url}/anchor.json",
        "$dynamicAnchor": "node",
        "$dynamicRef": "#node",
    },
}

CASES = sorted(HOSTILE_COLUMNS)


def _hostile_doc(tmp_path: Path, case: str, canary: Path, listener: Listener) -> Path:
    props = {"x": HOSTILE_COLUMNS[case](canary, listener), "n": {"type": "integer"}}
    return write_json(tmp_path / "hostile.json", document({"m-1": props}))


def _payloads(tmp_path: Path) -> Path:
    return write_json(tmp_path / "payload.json", {"dataframe_records": [{"x": "a", "n": 1}, {"x": {"inner": 1}}]})


def _quiet(run: Run, listener: Listener) -> None:
    assert_clean(run)
    assert listener.connections == 0, f"{listener.connections} connection(s) to the address the document chose\n{run}"


@pytest.mark.parametrize("case", CASES)
def test_validate_reports_uri_keywords(
    tmp_path: Path, case: str, canary: Path, listener: Listener, env: dict[str, str]
) -> None:
    doc = _hostile_doc(tmp_path, case, canary, listener)
    for args in (("validate", str(doc)), ("validate", "--format", "json", str(doc))):
        run = run_cli(*args, env=env)
        _quiet(run, listener)
        assert run.code != 0, f"a URI-bearing keyword must be reported, not accepted\n{run}"


@pytest.mark.parametrize("case", CASES)
def test_inspect_and_check_never_follow(
    tmp_path: Path, case: str, canary: Path, listener: Listener, env: dict[str, str]
) -> None:
    doc = _hostile_doc(tmp_path, case, canary, listener)
    payload = _payloads(tmp_path)
    for args in (
        ("inspect", str(doc)),
        ("inspect", "--format", "json", str(doc)),
        ("check", str(doc), str(payload)),
        ("check", "--format", "json", str(doc), str(payload)),
    ):
        _quiet(run_cli(*args, env=env), listener)


@pytest.mark.parametrize("case", ["dynamicRef-file", "dynamicRef-http", "id-remote-base", "schema-http"])
def test_diff_never_follows(tmp_path: Path, case: str, canary: Path, listener: Listener, env: dict[str, str]) -> None:
    doc = _hostile_doc(tmp_path, case, canary, listener)
    for fmt in ("text", "json", "markdown"):
        _quiet(run_cli("diff", "--format", fmt, str(doc), str(doc), env=env), listener)


@pytest.mark.parametrize("case", CASES)
def test_library_check_payload_never_follows(tmp_path: Path, case: str, canary: Path, listener: Listener) -> None:
    doc = _hostile_doc(tmp_path, case, canary, listener)
    try:
        schema = schemakit.load(str(doc))
        validator = schemakit.compile_endpoint_validator(schema)
        reports = [validator.validate(p) for p in json.loads(_payloads(tmp_path).read_text())["dataframe_records"]]
        text = " ".join(json.dumps(r.to_json()) + r.to_text() for r in reports)
    except SchemakitError as exc:
        text = str(exc)
        assert "\n" not in text
    assert CANARY_TEXT not in text
    assert REMOTE_TEXT not in text
    assert listener.connections == 0


@pytest.mark.parametrize(
    "case", ["dynamicRef-file", "dynamicRef-http", "id-file-base", "unevaluated-through-remote-dynamicRef"]
)
def test_emulator_never_follows(tmp_path: Path, case: str, canary: Path, listener: Listener) -> None:
    from schemakit.testing import MockServer

    doc = _hostile_doc(tmp_path, case, canary, listener)
    try:
        server = MockServer([doc], token="dapi-test")
    except SchemakitError:
        assert listener.connections == 0
        return  # refusing the document at start-up is a fine answer
    with server:
        for row in ({"x": "a", "n": 1}, {"x": {"inner": 1}}, {"x": 5}):
            answer = httpx.post(
                server.invocations_url("hostile-endpoint", "m-1"),
                json={"dataframe_records": [row]},
                headers={"Authorization": "Bearer dapi-test"},
                timeout=20,
            )
            assert answer.status_code < 500, answer.text
            assert CANARY_TEXT not in answer.text
            assert REMOTE_TEXT not in answer.text
    assert listener.connections == 0


@pytest.mark.parametrize("case", ["dynamicRef-file", "dynamicRef-http"])
def test_codegen_refuses_or_generates_a_package_that_never_follows(
    tmp_path: Path, case: str, canary: Path, listener: Listener, env: dict[str, str]
) -> None:
    doc = _hostile_doc(tmp_path, case, canary, listener)
    run = run_cli("codegen", str(doc), "-o", str(tmp_path / "out"), "--package", "hostile_pkg", env=env)
    _quiet(run, listener)
    assert run.code != 0, "codegen accepted a document whose schema names a URI"
