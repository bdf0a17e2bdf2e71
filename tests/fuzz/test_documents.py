"""Hostile documents through validate, inspect, check and diff, in every output format.

Properties: a documented exit code and no traceback or internal error; one-line errors; no byte of the canary
file and no connection to the listener the document points at; text formats carry no raw control character and
no line the document made (`::error`); JSON parses and keeps every column name exactly; JUnit is well-formed XML.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..security.hostile import (
    CANARY_TEXT,
    SAMPLE,
    Listener,
    Run,
    assert_clean,
    raw_controls,
    run_inprocess,
)
from .strategies import documents, fuzz_settings, fuzz_timeout, payloads

pytestmark = fuzz_timeout(120)

INJECTED = ("::error title=PWNED", "::warning::y")


@dataclass
class World:
    root: Path
    canary: Path
    listener: Listener
    count: int = 0

    def path(self, suffix: str) -> Path:
        self.count += 1
        return self.root / f"{self.count}{suffix}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("fuzz-docs")
    canary = root / "outside" / "canary.json"
    canary.parent.mkdir()
    canary.write_text(json.dumps({"type": "string", "enum": [CANARY_TEXT], "description": CANARY_TEXT}))
    listener = Listener().start()
    yield World(root, canary, listener)
    listener.close()


def check_text(run: Run, *, github: bool = False) -> None:
    for stream in (run.out, run.err):
        assert not raw_controls(stream), f"raw {raw_controls(stream)}\n{run!r}"
        for line in stream.splitlines():
            assert not line.startswith(INJECTED), f"the document made its own line {line!r}"
            if not github:
                assert not line.startswith("::"), f"a workflow command in plain output: {line!r}"


def check_json(run: Run) -> Any:
    assert not raw_controls(run.err), f"raw {raw_controls(run.err)}\n{run!r}"
    if run.code == 2 or not run.out.strip():
        return None
    return json.loads(run.out)


def column_names(doc: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for item in doc["paths"].values():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"][0]
        names |= set(schema["properties"]["dataframe_records"]["items"]["properties"])
    return names


@fuzz_settings(30)
@given(data=st.data())
def test_hostile_documents(world: World, data: st.DataObject) -> None:
    doc = data.draw(documents(world.canary.as_uri(), world.listener.url), label="document")
    path = world.path(".json")
    path.write_text(json.dumps(doc), encoding="utf-8")
    spec = str(path)

    for args in (("validate", spec), ("inspect", spec)):
        run = run_inprocess(*args)
        assert_clean(run)
        check_text(run)
    assert_clean(run := run_inprocess("inspect", "--format", "json", spec))
    described = check_json(run)
    if described is not None:
        shown = {c["name"] for m in described.get("models", []) for c in m.get("columns", [])}
        lost = {n for n in column_names(doc) if n not in shown and n.strip()}
        assert not lost or not shown, f"column names changed on the way to JSON: {sorted(lost)[:5]!r}"

    # One diff per example, format and direction drawn: every pairing is reached across examples.
    fmt = data.draw(st.sampled_from(["text", "markdown", "github", "junit", "json"]), label="diff format")
    old, new = data.draw(st.sampled_from([(spec, str(SAMPLE)), (str(SAMPLE), spec), (spec, spec)]), label="diff pair")
    run = run_inprocess("diff", "--format", fmt, "--fail-on", "never", old, new)
    assert_clean(run)
    if fmt == "json":
        check_json(run)
    elif fmt == "junit":
        check_text(run)
        if run.code != 2:
            ET.fromstring(run.out)
    else:
        check_text(run, github=fmt == "github")

    names = sorted(column_names(doc))
    payload = data.draw(payloads(names), label="payload")
    payload_path = world.path(".payload.json")
    payload_path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    fmt = data.draw(st.sampled_from(["text", "json"]), label="check format")
    run = run_inprocess("check", "--format", fmt, spec, str(payload_path))
    assert_clean(run)
    if fmt == "text":
        check_text(run)
    else:
        check_json(run)
    assert world.listener.connections == 0, "a document made schemakit open a connection"
