"""Fixtures for the workspace client tests: a clean environment, the emulator, stub servers.

The shared helpers live in `ws_helpers` (made importable here: pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ws_helpers import ADMIN_TOKEN, AMBIENT_PREFIXES, SAMPLE, Handler, StubServer

from schemakit.testing import MockServer


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials from the machine running the tests: a fresh HOME and no DATABRICKS_* variables."""
    for name in list(os.environ):
        if name.startswith(AMBIENT_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer([str(SAMPLE)], token=ADMIN_TOKEN) as running:
        yield running


@pytest.fixture
def stub() -> Iterator[Callable[..., StubServer]]:
    """`stub(handler, host="127.0.0.1")` starts a StubServer, stopped at the end of the test."""
    started: list[StubServer] = []

    def start(handler: Handler, host: str = "127.0.0.1") -> StubServer:
        server = StubServer(handler, host).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)
