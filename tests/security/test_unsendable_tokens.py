"""Issue 23: a token HTTP cannot carry (non-ASCII, a control character, a line break) is a one-line error.

httpx raised UnicodeEncodeError with `Bearer <token>` in its args (so in its repr), and the CLI said
"internal error". `runtime.http.check_credentials` now refuses such a header before httpx sees it,
naming the header and where the token came from, never the value: in `resolve_credentials` (--token,
DATABRICKS_TOKEN, a profile), in the workspace transport (headers databricks-sdk hands out) and in
`runtime.http.send` (every client built on the runtime).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from schemakit._exceptions import SchemakitError
from schemakit.runtime import http
from schemakit.workspace.auth import Credentials, resolve_credentials
from schemakit.workspace.client import Workspace

from .hostile import assert_clean, assert_one_line, run_cli

pytestmark = pytest.mark.timeout(60)

SECRET = "dapi-UNSENDABLE-5e1f0a9c7b3d"
BAD_TOKENS = {
    "non-ascii": SECRET + "ö",
    "newline": SECRET + "\nX-Injected: 1",
    "carriage-return": SECRET + "\r",
    "nul": SECRET + "\x00",
    "bidi": SECRET + "\u202e",
    "tab-inside": SECRET[:8] + "\t" + SECRET[8:],
}


@pytest.mark.parametrize("kind", sorted(set(BAD_TOKENS) - {"nul"}))  # no NUL in a command line
def test_cli_token_flag(kind: str, env: dict[str, str]) -> None:
    run = run_cli("endpoint", "status", "x", "--host", "https://127.0.0.1:9", "--token", BAD_TOKENS[kind], env=env)
    assert_clean(run, codes=(2,), secrets=(SECRET,))
    assert "cannot be sent" in run.err


@pytest.mark.parametrize("where", ["env", "profile"])
def test_cli_token_from_env_and_profile(where: str, env: dict[str, str], tmp_path: Path) -> None:
    token = BAD_TOKENS["non-ascii"]
    if where == "env":
        env = {**env, "DATABRICKS_HOST": "https://127.0.0.1:9", "DATABRICKS_TOKEN": token}
    else:
        (Path(env["HOME"]) / ".databrickscfg").write_text(
            f"[DEFAULT]\nhost = https://127.0.0.1:9\ntoken = {token}\n", encoding="utf-8"
        )
    for args in (("endpoint", "status", "x"), ("endpoint", "list"), ("fetch", "x")):
        run = run_cli(*args, env=env)
        assert_clean(run, codes=(2,), secrets=(SECRET,))


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_library_errors_never_hold_the_token(kind: str) -> None:
    with pytest.raises(SchemakitError) as caught:
        Workspace(host="https://127.0.0.1:9", token=BAD_TOKENS[kind])
    assert_one_line(caught.value, (SECRET,))
    with pytest.raises(SchemakitError) as caught:
        resolve_credentials(host="https://127.0.0.1:9", token=BAD_TOKENS[kind], environ={})
    assert_one_line(caught.value, (SECRET,))


def test_headers_handed_out_later_are_checked_too() -> None:
    """databricks-sdk hands out headers per request (a CLI login's token): the transport checks each."""
    good = resolve_credentials(host="https://127.0.0.1:9", token=SECRET, environ={})
    bad = Credentials(
        host=good.host,
        host_source="test",
        auth_description="databricks-sdk 'databricks-cli' auth",
        header_factory=lambda: {"Authorization": "Bearer " + BAD_TOKENS["non-ascii"]},
    )
    workspace = Workspace(host="https://127.0.0.1:9", token=SECRET)
    object.__setattr__(workspace, "_credentials", bad)
    with pytest.raises(SchemakitError) as caught:
        workspace.list_endpoints()
    assert_one_line(caught.value, (SECRET,))


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_runtime_send_refuses_before_httpx(kind: str) -> None:
    headers = {"Authorization": "Bearer " + BAD_TOKENS[kind]}
    with httpx.Client() as client, pytest.raises(http.UnsendableCredentials) as caught:
        http.send(client, "GET", "https://127.0.0.1:9/x", credentials=lambda: headers, deadline=http.Deadline(5))
    assert_one_line(caught.value, (SECRET,))
    assert caught.value.__context__ is None or SECRET not in repr(caught.value.__context__)


def test_ordinary_tokens_pass() -> None:
    http.check_credentials({"Authorization": f"Bearer {SECRET}", "X-Databricks-Azure-SP-Management-Token": "a.b-c_d"})


def test_internal_settings_never_show_the_token(tmp_path: Path) -> None:
    """Audit: the resolver's internal records (a setting, a profile) keep their secrets out of repr."""
    from schemakit.workspace import auth

    config = tmp_path / "cfg"
    config.write_text(f"[p]\nhost = https://h.example\ntoken = {SECRET}\n", encoding="utf-8")
    profile = auth._read_profile(config, "p", required=True)
    assert profile is not None
    setting = profile.get("token")
    for value in (profile, setting, auth._Setting(SECRET, "--token")):
        assert SECRET not in repr(value)
    credentials = resolve_credentials(profile="p", config_file=config, environ={})
    assert SECRET not in repr(credentials)
    assert SECRET not in str(credentials)
