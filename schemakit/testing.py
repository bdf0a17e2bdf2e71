"""Test helpers: a local serving-endpoints workspace for your tests.

Run your client against the emulator instead of a workspace::

    from schemakit.testing import MockServer

    def test_my_client():
        with MockServer(["schema.json"], token="dapi-test") as server:
            client = MyClient(host=server.url, token=server.token)
            assert client.predict("example-endpoint", rows)["predictions"]

or with the pytest fixture, which stops every server it started when the test
ends. Enable it with `pytest_plugins = ["schemakit.testing"]` in `conftest.py`
(or import `mock_server` into it)::

    def test_retries(mock_server):
        server = mock_server("schema.json", throttle_queries=2, retry_after=1)
        ...

`MockServer` is documented in `schemakit.mock.server`; what the emulator
answers is in `docs/mock.md`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from schemakit.core.model import EndpointSchema
from schemakit.mock.emulator import ADMIN_USER, RecordedRequest
from schemakit.mock.server import DEFAULT_TOKEN, MockServer
from schemakit.mock.state import PERMISSION_LEVELS, EndpointSettings

__all__ = [
    "ADMIN_USER",
    "DEFAULT_TOKEN",
    "PERMISSION_LEVELS",
    "EndpointSettings",
    "MockServer",
    "RecordedRequest",
    "mock_server",
    "payloads",
]

MockServerFactory = Callable[..., MockServer]


@pytest.fixture
def mock_server() -> Iterator[MockServerFactory]:
    """A factory: `mock_server(*sources, token=..., **settings)` starts a MockServer on a free port.

    Every server it started is stopped when the test ends (and a request that made
    the emulator fail internally fails the test).
    """
    started: list[MockServer] = []

    def start(*sources: str | Path | EndpointSchema, **kwargs: Any) -> MockServer:
        server = MockServer(list(sources), **kwargs).start()
        started.append(server)
        return server

    yield start
    errors: list[BaseException] = []
    for server in reversed(started):
        try:
            server.stop()
        except RuntimeError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def payloads(
    model: EndpointSchema | Any,
    valid: bool = True,
    *,
    input_format: str | None = None,
    seed: int = 0,
) -> Any:
    """A Hypothesis strategy of request payloads for one served model, for your property tests.

    `model` is a `ServedModel` (`schema.model("name")`), or a schema or source serving one model.
    With `valid=True` every example is a payload `schemakit.check_payload` accepts (edges of every
    column and param: int32/int64 bounds, whole and fractional doubles, empty, long and unicode text,
    each datetime form, base64, nulls where nullable, enum members, nested values, one row and many);
    with `valid=False` one it refuses. `input_format` keeps one format (`dataframe_split`, ...)::

        from hypothesis import given
        from schemakit.testing import payloads

        @given(payloads("schema.json"))
        def test_my_app_accepts_what_the_schema_accepts(payload): ...
    """
    from schemakit.probe.strategies import payload_strategy

    return payload_strategy(model, valid, input_format=input_format, seed=seed)
