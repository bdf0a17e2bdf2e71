"""Issue 23 (open since round one): `endpoint status` and `endpoint list` printed the server's text raw.

A server's endpoint names, state messages, served-entity names and messages, principals and build logs
hold ESC/OSC sequences, CR, a newline followed by `::error ...`, bidi overrides: every line the
workspace commands print goes through `runtime.text.terminal`, so none starts a workflow command or
drives the terminal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .hostile import TOKEN, HostileHandler, assert_clean, hostile_server, raw_controls, run_cli

pytestmark = pytest.mark.timeout(60)

EVIL = "ep\n::error title=pwned::owned\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\r\u202eexe.txt"


def _endpoint() -> dict[str, Any]:
    entity = {
        "name": EVIL,
        "entity_name": EVIL,
        "entity_version": "1",
        "state": {"deployment": "DEPLOYMENT_READY", "deployment_state_message": EVIL},
    }
    return {
        "name": EVIL,
        "id": EVIL,
        "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
        "config": {
            "served_entities": [entity],
            "traffic_config": {"routes": [{"served_model_name": EVIL, "traffic_percentage": 100}]},
        },
        "pending_config": {"served_entities": [entity], "config_version": 2},
    }


def _answer(handler: HostileHandler) -> None:
    if handler.path.startswith("/api/2.0/serving-endpoints?") or handler.path == "/api/2.0/serving-endpoints":
        body: Any = {"endpoints": [_endpoint()]}
    elif "/permissions/" in handler.path:
        body = {"access_control_list": [{"user_name": EVIL, "all_permissions": [{"permission_level": "CAN_QUERY"}]}]}
    elif handler.path.endswith("/build-logs") or handler.path.endswith("/logs"):
        body = {"logs": f"line one\n{EVIL}\n"}
    else:
        body = _endpoint()
    handler.reply(200, json.dumps(body).encode())


@pytest.mark.parametrize(
    "args",
    [
        ("endpoint", "status", "x"),
        ("endpoint", "list"),
        ("endpoint", "permissions", "x"),
    ],
)
def test_workspace_commands_escape_server_text(args: tuple[str, ...], env: dict[str, str]) -> None:
    with hostile_server(_answer) as server:
        host = f"http://127.0.0.1:{server.server_address[1]}"
        run = run_cli(*args, "--host", host, "--token", TOKEN, env=env)
    assert_clean(run, codes=(0, 1, 2))
    for stream in (run.out, run.err):
        assert not raw_controls(stream), (raw_controls(stream), run)
        assert not any(line.startswith("::") for line in stream.splitlines()), run
    assert "\\u001b]8" in run.text or run.code != 0
