"""The token never appears in any output, log line or exception text, on any error path."""

from __future__ import annotations

import json
import logging
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from ws_helpers import (
    ENDPOINT,
    ROOT,
    Seen,
    StubServer,
    cli_env,
    forward,
    json_reply,
    oidc_handler,
    run_cli,
    write_config,
)

from schemakit.cli.main import cli
from schemakit.testing import MockServer

SECRET = "dapi-5ecret-c0ffee-0123456789abcdef"
OTHER_ADMIN = "dapi-the-real-admin-token-9999"
CLIENT_SECRET = "oauth-client-5ecret-fedcba987654"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_token_never_leaks_on_any_error_path(
    caplog: pytest.LogCaptureFixture, stub: Callable[..., StubServer], tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    doc = str(ROOT / "samples" / "docs-example-dataframe.json")
    with (
        MockServer([doc], token=SECRET) as admin_server,
        MockServer([doc], token=OTHER_ADMIN) as foreign,
        MockServer([doc], token=OTHER_ADMIN) as stranger,
    ):
        foreign.add_user("leaky", token=SECRET)  # known there, but with no permission at all

        def echoing(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
            # A careless server that repeats the credential back in its error message and its logs.
            said = request.headers.get("authorization", "")
            if request.path.endswith("/logs"):
                return json_reply(200, json.dumps({"logs": f"request had {said}\nraw {SECRET}\n"}))
            return json_reply(500, json.dumps({"error_code": "INTERNAL_ERROR", "message": f"bad {said} / {SECRET}"}))

        echo = stub(echoing)
        elsewhere = stub(lambda request, _: json_reply(401, json.dumps({"message": str(request.headers)})), "127.0.0.2")

        def redirecting(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
            if request.path.endswith("/openapi"):
                return 307, {"Location": f"{elsewhere.url}{request.path}"}, b""
            return forward(admin_server.url, request)

        redirect = stub(redirecting)
        throttled = stub(lambda request, _: json_reply(429, '{"message": "slow down"}', **{"Retry-After": "0"}))
        too_long = stub(lambda request, _: json_reply(429, '{"message": "later"}', **{"Retry-After": "86400"}))
        loop = stub(lambda request, _: (302, {"Location": request.path}, b""))

        def slow(request: Seen, _: StubServer) -> tuple[int, dict[str, str], bytes]:
            time.sleep(1.0)
            return json_reply(200, "{}")

        sleepy = stub(slow)
        oidc = stub(oidc_handler("unused-access-token", "sp-id", "another-secret"))
        refused = f"http://127.0.0.1:{_free_port()}"
        profile_file = write_config(tmp_path / "cfg", f"[p]\nhost = {admin_server.url}\ntoken = {SECRET}\n")

        host = admin_server.url
        # (description, arguments, extra environment, expected exit code, a phrase the error must contain)
        scenarios: list[tuple[str, list[str], dict[str, str], int, str]] = [
            ("401", ["endpoint", "status", ENDPOINT], {"DATABRICKS_HOST": stranger.url}, 2, "HTTP 401"),
            ("403", ["endpoint", "stop", ENDPOINT], {"DATABRICKS_HOST": foreign.url}, 2, "needs CAN_MANAGE"),
            ("404", ["fetch", "no-such-endpoint"], {}, 2, "no serving endpoint named"),
            ("usage", ["fetch", ENDPOINT, "--check"], {}, 2, "--check needs -o"),
            (
                "401 flag",
                ["endpoint", "status", ENDPOINT, "--host", foreign.url, "--token", SECRET + "x"],
                {},
                2,
                "rejected the token from --token",
            ),
            ("500 echo", ["endpoint", "start", ENDPOINT], {"DATABRICKS_HOST": echo.url}, 2, "HTTP 500"),
            ("logs echo", ["endpoint", "logs", ENDPOINT, "m"], {"DATABRICKS_HOST": echo.url}, 0, "request had"),
            (
                "redirect",
                ["fetch", ENDPOINT],
                {"DATABRICKS_HOST": redirect.url},
                2,
                "credentials are never sent to another host",
            ),
            ("429", ["endpoint", "status", ENDPOINT], {"DATABRICKS_HOST": throttled.url}, 2, "still rate limited"),
            (
                "retry-after",
                ["endpoint", "status", ENDPOINT],
                {"DATABRICKS_HOST": too_long.url},
                2,
                "asks to retry after",
            ),
            ("loop", ["endpoint", "status", ENDPOINT], {"DATABRICKS_HOST": loop.url}, 2, "more than 5 times"),
            (
                "refused",
                ["endpoint", "delete", ENDPOINT, "--yes", "--retries", "1"],
                {"DATABRICKS_HOST": refused},
                2,
                "connection refused",
            ),
            (
                "timeout",
                ["endpoint", "status", ENDPOINT, "--request-timeout", "0.2", "--retries", "1"],
                {"DATABRICKS_HOST": sleepy.url},
                2,
                "did not answer",
            ),
            (
                "tls",
                ["endpoint", "status", ENDPOINT],
                {"DATABRICKS_HOST": sleepy.url.replace("http:", "https:")},
                2,
                "TLS handshake",
            ),
            ("no host", ["endpoint", "status", ENDPOINT], {"DATABRICKS_HOST": ""}, 2, "but no workspace host"),
            (
                "profile",
                ["endpoint", "status", "nope", "--profile", "p"],
                {"DATABRICKS_CONFIG_FILE": str(profile_file)},
                2,
                "no serving endpoint",
            ),
            ("bad grant", ["endpoint", "permissions", ENDPOINT, "--grant", "ghost=CAN_VIEW"], {}, 2, "does not exist"),
            ("bad model", ["endpoint", "build-logs", ENDPOINT, "nope"], {}, 2, "has no served model"),
            ("not ready", ["fetch", ENDPOINT], {"_configure": "ready_after_polls=50"}, 2, "is not ready"),
            (
                "failed",
                ["fetch", ENDPOINT, "--wait", "5", "--poll", "0.05"],
                {"_configure": "deployment_failed=True"},
                2,
                "build logs of",
            ),
            ("no schema", ["fetch", ENDPOINT], {"_configure": "no_schema=True"}, 2, "serves no query schema"),
            (
                "oauth",
                ["endpoint", "status", ENDPOINT],
                {
                    "DATABRICKS_TOKEN": "",
                    "DATABRICKS_CLIENT_ID": "sp-id",
                    "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
                    "DATABRICKS_DISCOVERY_URL": f"{oidc.url}/oidc/.well-known/oauth-authorization-server",
                },
                2,
                "databricks-sdk could not authenticate",
            ),
        ]

        runner = CliRunner()
        seen_text: list[str] = []
        for name, args, extra, code, phrase in scenarios:
            settings = extra.pop("_configure", None)
            if settings is not None:
                key, _, value = settings.partition("=")
                admin_server.configure(ENDPOINT, **{key: int(value) if value.isdigit() else value == "True"})
            env = {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": SECRET, **extra}
            result = runner.invoke(cli, args, env=env)
            texts = [result.stdout, result.stderr]
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                exc = result.exception
                texts += [str(exc), repr(exc), getattr(exc, "format_message", lambda: "")()]
                texts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
                exit_code = getattr(exc, "exit_code", 1)
            else:
                exit_code = result.exit_code
            combined = "\n".join(texts)
            assert exit_code == code, f"{name}: exit {exit_code}: {combined}"
            assert phrase in combined, f"{name}: {combined}"
            for secret in (SECRET, CLIENT_SECRET, SECRET + "x"):
                assert secret not in combined, f"{name} leaked the secret: {combined}"
            seen_text.append(combined)
            if settings is not None:
                admin_server.configure(ENDPOINT, ready_after_polls=0, deployment_failed=False, no_schema=False)

        # The real process, too: its stdout and stderr, for the paths that print the most.
        for args, extra in (
            (["fetch", ENDPOINT], {"DATABRICKS_HOST": redirect.url}),
            (["endpoint", "start", ENDPOINT], {"DATABRICKS_HOST": echo.url}),
            (["endpoint", "status", ENDPOINT], {"DATABRICKS_HOST": foreign.url}),
        ):
            process = run_cli(*args, env=cli_env(**{"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": SECRET, **extra}))
            assert process.returncode == 2
            assert SECRET not in process.stdout + process.stderr

        # The other host got neither the token nor anything else from the Authorization header.
        assert elsewhere.seen
        assert all("authorization" not in s.headers for s in elsewhere.seen)

    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "schemakit.workspace" in caplog.text  # the client logged at DEBUG: the check below is not vacuous
    for secret in (SECRET, CLIENT_SECRET):
        assert secret not in logged
    assert any("Bearer ***" in text or "***" in text for text in seen_text)  # scrubbed, not just absent
