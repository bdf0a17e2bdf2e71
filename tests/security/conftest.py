"""Fixtures for the security regression tests: a canary file, a recording listener, a clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .hostile import CANARY_TEXT, Listener, clean_env


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A file outside every input; its content is a JSON schema so a reader that follows a URI can use it."""
    path = tmp_path / "outside" / "canary.json"
    path.parent.mkdir()
    path.write_text(f'{{"type": "string", "enum": ["{CANARY_TEXT}"], "description": "{CANARY_TEXT}"}}')
    return path


@pytest.fixture
def listener() -> Iterator[Listener]:
    """Where hostile documents point their URIs; a test asserts `listener.connections == 0`."""
    running = Listener().start()
    yield running
    running.close()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return clean_env(home)
