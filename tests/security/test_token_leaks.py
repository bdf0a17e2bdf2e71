"""Issue 12, security: a token never reaches output, exception text, a repr or a log line.

A hostile server echoes the token in every field (`error_code` included), in a plain-text body where it straddles
the 2,000-character cut, and in `deployment_state_message`; a profile's host URL carries a password. Both the
workspace client (library and CLI) and a generated client are driven against it.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.codegen.generate import generate_package, write_package

from .hostile import (
    SAMPLE,
    TOKEN,
    HostileHandler,
    assert_clean,
    assert_one_line,
    echo_token,
    hostile_server,
    leaks,
    run_cli,
)

pytestmark = pytest.mark.timeout(60)

ENDPOINT = "example-endpoint"


def _json_echo(status: int) -> Any:
    def answer(handler: HostileHandler) -> None:
        handler.reply(status, json.dumps(echo_token(handler)).encode(), WWW_Authenticate=f"Bearer {TOKEN}")

    return answer


def _text_straddling_cut(status: int, cut: int = 2000) -> Any:
    """A plain-text body whose token starts a few characters before the 2,000-character cut."""

    def answer(handler: HostileHandler) -> None:
        body = ("e" * (cut - 12) + TOKEN + " tail " + TOKEN).encode()
        handler.reply(status, body, "text/plain")

    return answer


def _not_ready(handler: HostileHandler) -> None:
    entity = {
        "name": "m-1",
        "entity_name": "m",
        "entity_version": "1",
        "state": {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": f"failed: token={TOKEN}"},
    }
    body = {
        "name": ENDPOINT,
        "state": {"ready": "NOT_READY", "config_update": "UPDATE_FAILED", "suspend_reason": TOKEN},
        "config": {"served_entities": [entity], "config_version": 1},
        "pending_config": {"served_entities": [entity]},
        "id": "abc",
    }
    if handler.path.endswith("/openapi") or "build-logs" in handler.path or "/logs" in handler.path:
        handler.reply(200, json.dumps({"logs": f"log line {TOKEN}"}).encode())
        return
    handler.reply(200, json.dumps(body).encode())


ANSWERS = {
    "json-400": _json_echo(400),
    "json-403": _json_echo(403),
    "json-404": _json_echo(404),
    "json-500": _json_echo(500),
    "text-400-straddling": _text_straddling_cut(400),
    "text-500-straddling": _text_straddling_cut(500),
    "text-502-straddling-300": _text_straddling_cut(502, 300),
    "not-ready-with-token-in-messages": _not_ready,
}


def _assert_no_leak_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    """schemakit's own loggers at any level, everybody's at INFO and above.

    httpcore's DEBUG trace prints response headers verbatim (a server may echo anything there): a documented limit.
    """
    for record in caplog.records:
        if record.name.startswith("schemakit") or record.levelno >= logging.INFO:
            assert not leaks(record.getMessage()), f"{record.name}: {record.getMessage()}"


def _no_leak_in(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *(str(a) for a in exc.args)):
        assert not leaks(text), f"token in exception text: {text[:500]!r}"
    for name, value in vars(exc).items() if hasattr(exc, "__dict__") else ():
        assert not leaks(repr(value)), f"token in {type(exc).__name__}.{name}: {value!r}"[:500]


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_workspace_client_never_leaks(answer: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with hostile_server(ANSWERS[answer]) as server, schemakit.Workspace(host=server.url, token=TOKEN, retries=0) as ws:
        assert not leaks(repr(ws))
        for call in (
            lambda: ws.get_endpoint(ENDPOINT),
            lambda: ws.get_openapi(ENDPOINT),
            lambda: ws.fetch_schema(ENDPOINT),
            lambda: ws.list_endpoints(),
            lambda: ws.get_permissions(ENDPOINT),
            lambda: ws.logs(ENDPOINT, "m-1"),
            lambda: ws.wait_until_ready(ENDPOINT, timeout=0.5),
        ):
            try:
                result = call()
            except schemakit.EndpointNotReadyError as exc:
                _no_leak_in(exc)  # documented to explain itself over several lines: state, entities, build logs
            except SchemakitError as exc:
                _no_leak_in(exc)
                assert_one_line(exc)
            else:
                # Logs and documents are data the caller asked for; a status is what schemakit summarises and prints.
                if answer != "not-ready-with-token-in-messages" or not isinstance(result, schemakit.EndpointStatus):
                    continue
                texts = [
                    repr(result),
                    str(result),
                    result.summary(),
                    *result.entity_lines(),
                    str(result.not_ready_reason()),
                ]
                for text in texts:
                    assert not leaks(text), f"token in a status: {text[:500]!r}"
    _assert_no_leak_in_logs(caplog)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_cli_never_leaks(answer: str, env: dict[str, str], tmp_path: Path) -> None:
    with hostile_server(ANSWERS[answer]) as server:
        run_env = {**env, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": TOKEN}
        for args in (
            ("fetch", ENDPOINT, "--retries", "0"),
            ("fetch", ENDPOINT, "--retries", "0", "-o", str(tmp_path / "out.json")),
            ("endpoint", "status", ENDPOINT, "--retries", "0"),
            ("endpoint", "status", ENDPOINT, "--retries", "0", "--format", "json"),
            ("endpoint", "list", "--retries", "0"),
            ("endpoint", "logs", ENDPOINT, "m-1", "--retries", "0"),
            ("endpoint", "permissions", ENDPOINT, "--retries", "0"),
            ("inspect", f"endpoint:{ENDPOINT}"),
        ):
            run = run_cli(*args, env=run_env)
            if "No such option" in run.err:
                continue  # not every subcommand takes every flag; the leak is what this test is about
            assert_clean(run, one_line=answer != "not-ready-with-token-in-messages")
            assert not (tmp_path / "out.json").exists() or not leaks((tmp_path / "out.json").read_text())


def test_profile_host_with_a_password_is_never_printed(env: dict[str, str], tmp_path: Path) -> None:
    password = "CANARYpassw0rd-4411"
    config = tmp_path / "databrickscfg"
    hosts = [
        f"https://user:{password}@[bad-host",
        f"https://user:{password}@exa mple.com:99999",
        f"ftp://user:{password}@x",
    ]
    for host in hosts:
        config.write_text(f"[DEFAULT]\nhost = {host}\ntoken = {TOKEN}\n")
        run = run_cli("endpoint", "list", env={**env, "DATABRICKS_CONFIG_FILE": str(config)})
        assert_clean(run, secrets=(TOKEN, password))
        assert run.code == 2
        try:
            schemakit.Workspace(config_file=config)
        except SchemakitError as exc:
            assert_one_line(exc, secrets=(TOKEN, password))


# -- generated clients -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("generated")
    name = "sk_leak_client"
    write_package(generate_package(schemakit.load(str(SAMPLE)), package=name, model_type="pydantic"), out)
    sys.path.insert(0, str(out))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(out))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


@pytest.mark.parametrize("answer", sorted(a for a in ANSWERS if a != "not-ready-with-token-in-messages"))
def test_generated_client_never_leaks(
    answer: str, generated_client: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    caplog.set_level(logging.DEBUG)
    payload = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 1.0, "a"]]}}
    with hostile_server(ANSWERS[answer]) as server:
        base = f"{server.url}/serving-endpoints/{ENDPOINT}"
        with generated_client.Client(base, token=TOKEN, max_retries=0) as client:
            assert not leaks(repr(client))
            with pytest.raises(Exception) as raised:
                client.predict(payload, validate=False)
            _no_leak_in(raised.value)

        async def run() -> None:
            async with generated_client.AsyncClient(base, token=TOKEN, max_retries=0) as client:
                await client.predict(payload, validate=False)

        with pytest.raises(Exception) as raised_async:
            asyncio.run(run())
        _no_leak_in(raised_async.value)
    _assert_no_leak_in_logs(caplog)


@pytest.mark.parametrize("body", [b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
@pytest.mark.parametrize("status", [200, 201, 400])
def test_deeply_nested_answers_are_one_line_errors(body: bytes, status: int) -> None:
    """Found by tests/fuzz/test_servers.py: a deeply nested JSON answer raised RecursionError out of the client."""

    def answer(handler: HostileHandler) -> None:
        handler.reply(status, body)

    with hostile_server(answer) as server, schemakit.Workspace(host=server.url, token=TOKEN, retries=0) as ws:
        for call in (lambda: ws.get_endpoint(ENDPOINT), lambda: ws.list_endpoints(), lambda: ws.get_openapi(ENDPOINT)):
            try:
                call()
            except SchemakitError as exc:
                assert_one_line(exc)


@pytest.mark.parametrize("status", [200, 400, 404, 500])
def test_generated_client_deeply_nested_answers(generated_client: ModuleType, status: int) -> None:
    """Found by tests/fuzz/test_servers.py: a generated client raised RecursionError on a deeply nested body."""

    def answer(handler: HostileHandler) -> None:
        handler.reply(status, b"[" * 50_000 + b"]" * 50_000, "text/html")

    payload = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 1.0, "a"]]}}
    with hostile_server(answer) as server:
        base = f"{server.url}/serving-endpoints/{ENDPOINT}"
        with (
            generated_client.Client(base, token=TOKEN, max_retries=0) as client,
            pytest.raises(generated_client.ClientError),
        ):
            client.predict(payload, validate=False)
