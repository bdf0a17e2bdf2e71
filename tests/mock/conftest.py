"""Fixtures for the emulator's tests: a running server on a free port, and an admin client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from schemakit.testing import MockServer, mock_server  # noqa: F401  (the fixture, as users get it)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def server() -> Iterator[MockServer]:
    """The docs example, a chat model and a three-model endpoint; admin token `dapi-test`."""
    sources = [SAMPLES / "docs-example-dataframe.json", SAMPLES / "foundation-model-chat.json", SAMPLES / "multi-model.json"]
    with MockServer(sources, token="dapi-test") as running:
        yield running


@pytest.fixture
def admin(server: MockServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client
