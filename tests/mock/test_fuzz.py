"""The server never fails on a request: generated payloads, bytes and paths get a proper answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import schemakit
from schemakit.testing import MockServer

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS = [SAMPLES / "docs-example-dataframe.json", SAMPLES / "foundation-model-chat.json", SAMPLES / "tensor-model.json"]
SCHEMAS = {s.title: s for s in (schemakit.load(str(p)) for p in DOCS)}
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
row_values = st.sampled_from([0, 1, -7, 2**63, 3.5, "abc", None, True, [1, 2], {"k": 1}])
payloads = st.one_of(
    st.fixed_dictionaries(
        {"dataframe_split": st.fixed_dictionaries(
            {"columns": st.just(["int_col", "float_col", "string_col"]), "data": st.lists(st.lists(row_values, min_size=3, max_size=3), max_size=5)}
        )}
    ),
    st.fixed_dictionaries(
        {"dataframe_records": st.lists(st.dictionaries(st.sampled_from(["int_col", "float_col", "string_col", "x"]), row_values), max_size=5)}
    ),
    st.fixed_dictionaries({"instances": st.lists(st.lists(st.floats(-1, 1), max_size=3), max_size=3)}),
    st.fixed_dictionaries({"messages": st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "x"]), "content": st.text(max_size=10)}), max_size=3)}),
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
)


@dataclass
class Fuzz:
    server: MockServer
    admin: httpx.Client
    #: A CAN_VIEW principal: it reaches every route, and cannot delete or stop what the next example needs.
    viewer: httpx.Client


@pytest.fixture(scope="module")
def fuzz() -> Iterator[Fuzz]:
    with MockServer(DOCS, token="dapi-test") as server:
        server.add_user("viewer", token="viewer-token")
        server.set_permission("example-endpoint", "viewer", "CAN_VIEW")
        with server.client() as admin, server.client("viewer-token") as viewer:
            yield Fuzz(server, admin, viewer)
    # Leaving the block raised if any request made the emulator fail internally.


def _check_answer(endpoint: str, response: httpx.Response, payload: Any) -> None:
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error_code"] == "BAD_REQUEST"
        return
    model = SCHEMAS[endpoint].model(response.headers["served-model-name"])
    assert model.response is not None
    assert list(Draft202012Validator(dict(model.response.schema)).iter_errors(response.json())) == []


@FUZZ
@given(payload=payloads, endpoint=st.sampled_from(sorted(SCHEMAS)))
def test_generated_payloads_get_200_or_400(fuzz: Fuzz, payload: Any, endpoint: str) -> None:
    r = fuzz.admin.post(f"/serving-endpoints/{endpoint}/invocations", content=json.dumps(payload).encode())
    _check_answer(endpoint, r, payload)


@FUZZ
@given(body=st.binary(max_size=64))
def test_arbitrary_bytes_get_an_answer(fuzz: Fuzz, body: bytes) -> None:
    r = fuzz.admin.post("/serving-endpoints/example-endpoint/invocations", content=body)
    assert r.status_code in (200, 400)


segment = st.sampled_from(["api", "2.0", "serving-endpoints", "permissions", "example-endpoint", "openapi", "config:stop",
                           "served-models", "vanilla_simple_model-2", "logs", "invocations", "..", "%00", "%ff", ":", "x"])


@FUZZ
@given(parts=st.lists(segment, max_size=7), method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]))
def test_arbitrary_paths_and_methods_get_an_answer_below_500(fuzz: Fuzz, parts: list[str], method: str) -> None:
    r = fuzz.viewer.request(method, "/" + "/".join(parts), content=b"{}")
    assert r.status_code < 500, (method, parts, r.text)
    if r.status_code >= 400:
        assert set(r.json()) == {"error_code", "message"}
