"""Issue 23 in the generated Python client: a token HTTP cannot carry is the client's own one-line error.

A token passed to the constructor, to `from_workspace` or found in DATABRICKS_TOKEN / a profile is refused up
front (`MissingTokenError`, naming where it came from, never the value). Headers a `credentials=` callable hands
out later are checked on every path, the streaming one included (it builds its request itself, so it used to
hand them to httpx unchecked, whose UnicodeEncodeError holds the whole `Bearer <token>`).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import schemakit
from schemakit.codegen.generate import generate_package, write_package

from .hostile import assert_one_line
from .test_unsendable_tokens import BAD_TOKENS, SECRET

pytestmark = pytest.mark.timeout(60)

CHAT = Path(__file__).resolve().parents[2] / "samples" / "foundation-model-chat.json"
BASE = "https://127.0.0.1:9/serving-endpoints/chat"
REQUEST = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("generated")
    name = "sk_unsendable_client"
    write_package(generate_package(schemakit.load(str(CHAT)), package=name, model_type="typeddict"), out)
    sys.path.insert(0, str(out))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(out))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_a_token_is_refused_up_front(package: Any, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    token = BAD_TOKENS[kind]
    with pytest.raises(package.MissingTokenError, match="the token from token=") as caught:
        package.Client(BASE, token=token)
    assert_one_line(caught.value, (SECRET,))
    with pytest.raises(package.MissingTokenError, match="the token from token=") as caught:
        package.Client.from_workspace("chat", host="https://127.0.0.1:9", token=token)
    assert_one_line(caught.value, (SECRET,))
    if kind != "nul":  # no NUL in an environment variable
        monkeypatch.setenv("DATABRICKS_TOKEN", token)
        with pytest.raises(package.MissingTokenError, match="DATABRICKS_TOKEN") as caught:
            package.AsyncClient(BASE)
        assert_one_line(caught.value, (SECRET,))


@pytest.mark.parametrize("kind", ["non-ascii", "newline", "bidi"])
def test_headers_handed_out_later_are_checked_on_every_path(package: Any, kind: str) -> None:
    headers = {"Authorization": "Bearer " + BAD_TOKENS[kind]}
    unsendable = package._runtime.http.UnsendableCredentials
    with package.Client(BASE, credentials=lambda: headers, max_retries=0) as client:
        for call in (lambda: client.predict(REQUEST), lambda: list(client.stream_meta_llama_v3_1_8b_instruct(REQUEST))):
            with pytest.raises(unsendable) as caught:
                call()
            assert_one_line(caught.value, (SECRET,))

    async def stream() -> None:
        async with package.AsyncClient(BASE, credentials=lambda: headers, max_retries=0) as client:
            await client.stream_meta_llama_v3_1_8b_instruct(REQUEST)

    with pytest.raises(unsendable) as caught:
        asyncio.run(stream())
    assert_one_line(caught.value, (SECRET,))
