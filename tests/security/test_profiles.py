"""Issue 23: a `~/.databrickscfg` profile can run a program; the trust model says whose choice that is.

Profiles and the environment are the local user's (SECURITY.md): a profile with `auth_type =
databricks-cli` and `databricks_cli_path` (likewise `azure-cli`, or a host without a token, where
databricks-sdk tries the `databricks` and `az` logins on PATH) makes databricks-sdk run that program
and send the token it prints to the profile's host, as the Databricks CLI itself does. schemakit passes
the named profile (and its file) to databricks-sdk unfiltered. What it promises, and these tests prove:

- credentials are resolved only by commands that talk to a workspace (`endpoint ...`, `fetch`, an
  `endpoint:` source the user names, `Client.from_workspace`), never by check, validate, inspect, diff
  or codegen of a file, even with DATABRICKS_CONFIG_PROFILE set;
- nothing untrusted selects a profile or an auth key: a document's `$ref: endpoint:PROFILE/NAME` or
  servers URL runs nothing;
- a profile the user names runs its program, and the program's token goes to that profile's host only,
  and is never printed.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from .hostile import SAMPLE, HostileHandler, assert_clean, document, hostile_server, run_cli, write_json

pytestmark = pytest.mark.timeout(60)

PROGRAM_TOKEN = "PROGRAM-TOKEN-7c2e9b41d0"


def _program(tmp_path: Path) -> tuple[Path, Path]:
    ran = tmp_path / "ran.txt"
    program = tmp_path / "fake-databricks"
    answer = json.dumps({"access_token": PROGRAM_TOKEN, "token_type": "Bearer", "expiry": "2099-01-01T00:00:00Z"})
    program.write_text(f"#!/bin/sh\necho \"$@\" >> '{ran}'\necho '{answer}'\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, ran


def _profile(env: dict[str, str], host: str, program: Path) -> None:
    (Path(env["HOME"]) / ".databrickscfg").write_text(
        f"[DEFAULT]\nhost = {host}\nauth_type = databricks-cli\ndatabricks_cli_path = {program}\n\n"
        f"[prof]\nhost = {host}\nauth_type = databricks-cli\ndatabricks_cli_path = {program}\n",
        encoding="utf-8",
    )


def test_commands_without_a_workspace_never_run_profile_programs(tmp_path: Path, env: dict[str, str]) -> None:
    program, ran = _program(tmp_path)
    _profile(env, "https://127.0.0.1:9", program)
    env = {**env, "DATABRICKS_CONFIG_PROFILE": "prof"}
    payload = write_json(tmp_path / "p.json", {"dataframe_records": [{"int_col": 1}]})
    for args in (
        ("validate", str(SAMPLE)),
        ("inspect", str(SAMPLE)),
        ("check", str(SAMPLE), str(payload)),
        ("diff", str(SAMPLE), str(SAMPLE)),
        ("codegen", str(SAMPLE), "-o", str(tmp_path / "out")),
    ):
        assert_clean(run_cli(*args, env=env), codes=(0, 1), secrets=(PROGRAM_TOKEN,))
    assert not ran.exists()


def test_documents_cannot_select_a_profile(tmp_path: Path, env: dict[str, str]) -> None:
    program, ran = _program(tmp_path)
    _profile(env, "https://127.0.0.1:9", program)
    doc = document(
        {"m-1": {"x": {"$ref": "endpoint:prof/other"}, "y": {"$ref": "endpoint:other"}}},
        extra={"servers": [{"url": "endpoint:prof/x"}], "$schema": "endpoint:prof/x"},
    )
    spec = write_json(tmp_path / "doc.json", doc)
    payload = write_json(tmp_path / "p.json", {"dataframe_records": [{"x": 1}]})
    for args in (("validate", str(spec)), ("check", str(spec), str(payload)), ("inspect", str(spec))):
        assert_clean(run_cli(*args, env=env), codes=(1, 2), secrets=(PROGRAM_TOKEN,))
    assert not ran.exists()


def test_a_named_profile_runs_its_program_for_its_own_host(tmp_path: Path, env: dict[str, str]) -> None:
    program, ran = _program(tmp_path)

    def answer(handler: HostileHandler) -> None:
        handler.reply(
            404, json.dumps({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such endpoint"}).encode()
        )

    with hostile_server(answer) as server:
        host = f"http://127.0.0.1:{server.server_address[1]}"
        _profile(env, host, program)
        run = run_cli("endpoint", "status", "x", "--profile", "prof", env=env)
        assert_clean(run, codes=(1, 2), secrets=(PROGRAM_TOKEN,))
        assert ran.exists()
        assert f"auth token --host {host}" in ran.read_text()
        # databricks-sdk first reads the host's /.well-known metadata, without credentials.
        sent = {headers.get("Authorization") for _method, _path, headers in server.seen} - {None}
        assert sent == {f"Bearer {PROGRAM_TOKEN}"}
