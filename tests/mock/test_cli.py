"""`schemakit mock` as a real process: URL line, queries, flags, signals, exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS_EXAMPLE = str(SAMPLES / "docs-example-dataframe.json")
EP = "example-endpoint"
RECORDS = {"dataframe_records": [{"int_col": 1, "float_col": 2.5, "string_col": "a"}]}


@contextmanager
def mock_process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start `python -m schemakit mock ARGS --port 0`, read the URL line, stop it at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "schemakit", "mock", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()  # blocks until the server prints it (or exits)
        if not url:
            _, err = process.communicate(timeout=30)
            pytest.fail(f"schemakit mock printed no URL; stderr: {err}")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_prints_the_url_serves_and_stops_on_sigint_with_exit_0() -> None:
    with mock_process(DOCS_EXAMPLE, "--token", "dapi-cli") as (process, url):
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) > 0
        headers = {"Authorization": "Bearer dapi-cli"}
        r = httpx.post(f"{url}/serving-endpoints/{EP}/invocations", json=RECORDS, headers=headers)
        assert r.status_code == 200
        assert len(r.json()["predictions"]) == 1
        assert httpx.get(f"{url}/api/2.0/serving-endpoints", headers={"Authorization": "Bearer nope"}).status_code == 401
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0
        assert out == ""  # nothing on stdout after the URL line
        assert "Traceback" not in err
        assert "dapi-cli" not in err
        assert "stopped" in err
        assert f"{url}/serving-endpoints/{EP}/invocations" in err


def test_sigterm_stops_cleanly_and_failure_flags() -> None:
    with mock_process(DOCS_EXAMPLE, "--deployment-failed", "--failure-message", "boom", "--no-schema") as (process, url):
        headers = {"Authorization": "Bearer dapi-mock-token"}
        details = httpx.get(f"{url}/api/2.0/serving-endpoints/{EP}", headers=headers).json()
        assert details["state"]["config_update"] == "UPDATE_FAILED"
        assert details["pending_config"]["served_entities"][0]["state"]["deployment_state_message"] == "boom"
        openapi = httpx.get(f"{url}/api/2.0/serving-endpoints/{EP}/openapi", headers=headers)
        assert "has no model signature" in openapi.json()["message"]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
        assert process.returncode == 0


def test_fault_flags_users_grants_and_verbose_log() -> None:
    with mock_process(
        DOCS_EXAMPLE,
        str(SAMPLES / "multi-model.json"),
        "--user", "alice=alice-token",
        "--grant", f"{EP}:alice=CAN_QUERY",
        "--throttle-queries", "1",
        "--retry-after", "3",
        "--ready-after-polls", "1",
        "--traffic", "ads-1=100",
        "--verbose",
    ) as (process, url):
        admin = {"Authorization": "Bearer dapi-mock-token"}
        alice = {"Authorization": "Bearer alice-token"}
        assert httpx.get(f"{url}/api/2.0/serving-endpoints/{EP}", headers=admin).json()["state"]["ready"] == "NOT_READY"
        assert httpx.get(f"{url}/api/2.0/serving-endpoints/{EP}", headers=alice).json()["state"]["ready"] == "READY"
        throttled = httpx.post(f"{url}/serving-endpoints/{EP}/invocations", json=RECORDS, headers=alice)
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "3"
        assert httpx.post(f"{url}/serving-endpoints/{EP}/invocations", json=RECORDS, headers=alice).status_code == 200
        assert httpx.post(f"{url}/api/2.0/serving-endpoints/{EP}/config:stop", headers=alice).status_code == 403
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f'"POST /serving-endpoints/{EP}/invocations" 429' in err
    assert "alice-token" not in err


def test_state_file_survives_a_restart_of_the_process(tmp_path: Path) -> None:
    state = str(tmp_path / "state.json")
    with mock_process(DOCS_EXAMPLE, "--state-file", state) as (process, url):
        headers = {"Authorization": "Bearer dapi-mock-token"}
        assert httpx.post(f"{url}/api/2.0/serving-endpoints/{EP}/config:stop", headers=headers).status_code == 200
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert json.loads(Path(state).read_text())["endpoints"][EP]["stopped"] is True
    with mock_process(DOCS_EXAMPLE, "--state-file", state) as (process, url):
        r = httpx.post(f"{url}/serving-endpoints/{EP}/invocations", json=RECORDS, headers=headers)
        assert r.status_code == 400
        assert "is stopped" in r.json()["message"]
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
        assert process.returncode == 0


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schemakit", "mock", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["does-not-exist.json"], "does-not-exist.json"),
        ([str(SAMPLES / "invalid" / "broken.json")], "broken.json"),
        ([DOCS_EXAMPLE, "--traffic", "nope=100"], "no endpoint serves a model named nope"),
        ([DOCS_EXAMPLE, "--traffic", "vanilla_simple_model-2=50"], "must sum to 100"),
        ([DOCS_EXAMPLE, "--grant", f"{EP}:ghost=CAN_QUERY"], "no user or group named 'ghost'"),
        ([DOCS_EXAMPLE, "--grant", f"{EP}:users=OWNER"], "level must be one of"),
        ([DOCS_EXAMPLE, "--user", "alice"], "expected NAME=TOKEN"),
        ([DOCS_EXAMPLE, "--latency", "-1"], "--latency"),
        ([DOCS_EXAMPLE, "--config", "missing-config.yaml"], "missing-config.yaml"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = _run(*args, "--port", "0")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_port_in_use_is_a_clear_error() -> None:
    with mock_process(DOCS_EXAMPLE) as (process, url):
        port = url.rsplit(":", 1)[1]
        result = _run(DOCS_EXAMPLE, "--port", port)
        assert result.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_help_lists_the_fault_flags() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for flag in ("--state-file", "--ready-after-polls", "--throttle-queries", "--no-schema", "--deployment-failed", "--latency"):
        assert flag in result.stdout
