"""`fetch --wait` says what it waits for: the endpoint's state and each served entity's, as they change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from schemakit.testing import MockServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "docs-example-dataframe.json"


def test_each_change_is_a_line(tmp_path: Path) -> None:
    with MockServer([SAMPLE]) as server:
        server.configure("example-endpoint", ready_after_polls=3)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
        env.update({"DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": server.token})
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemakit",
                "fetch",
                "example-endpoint",
                "--wait",
                "60",
                "--poll",
                "0.05",
                "-o",
                str(tmp_path / "live.json"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].endswith("; waiting up to 60 s")
    assert lines[1].startswith("endpoint 'example-endpoint': READY, config update NOT_UPDATING")
    entity = [line for line in lines if "served entity" in line]
    assert entity
    assert all(line.endswith("s)") and "(after " in line for line in entity)
    assert "\r" not in result.stderr  # no live line when stderr is not a terminal


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_retries_say_what_they_wait_for() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update({"DATABRICKS_HOST": f"http://127.0.0.1:{_free_port()}", "DATABRICKS_TOKEN": "dapi-secret-x"})
    result = subprocess.run(
        [sys.executable, "-m", "schemakit", "fetch", "ads", "--retries", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("schemakit: cannot connect to http://127.0.0.1:")
    assert "(asked to read endpoint 'ads'): connection refused" in lines[0]
    assert "; retrying in " in lines[0]
    assert lines[0].endswith("(attempt 2 of 3)")
    assert lines[-1].startswith("schemakit: error: cannot connect to ")
    assert "dapi-secret-x" not in result.stderr


def test_a_terminal_gets_a_live_line(tmp_path: Path) -> None:
    import pty

    with MockServer([SAMPLE]) as server:
        server.configure("example-endpoint", ready_after_polls=3)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
        env.update({"DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": server.token, "COLUMNS": "200"})
        leader, follower = pty.openpty()
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "schemakit",
                    "fetch",
                    "example-endpoint",
                    "--wait",
                    "60",
                    "--poll",
                    "0.05",
                    "-o",
                    str(tmp_path / "live.json"),
                ],
                stdout=subprocess.PIPE,
                stderr=follower,
                env=env,
                timeout=120,
                check=False,
            )
            os.close(follower)
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(leader)
    assert result.returncode == 0
    shown = b"".join(chunks).decode()
    assert "\r\x1b[Kwaiting for 'example-endpoint' (" in shown
    assert "served entity" in shown
    assert shown.rstrip().splitlines()[-1].startswith("wrote ")
