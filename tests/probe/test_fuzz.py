"""Hostile documents (deep, wide, huge bounds, hostile names): generation, strategies and witnesses never crash."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.diff import diff_schemas
from schemakit.diff.witness import find_witnesses
from schemakit.probe.generate import generate_cases

from ..fuzz.strategies import documents, fuzz_settings, fuzz_timeout
from ..security.hostile import SAMPLE

pytestmark = fuzz_timeout(120)


@fuzz_settings(8)
@given(data=st.data())
def test_hostile_documents_generate_and_witness(data: st.DataObject) -> None:
    doc = data.draw(documents("file:///nonexistent/canary.json", "http://127.0.0.1:9/"), label="document")
    try:
        schema = schemakit.resolve(doc)
    except SchemakitError:
        return
    for model in schema.models:
        try:
            cases = generate_cases(model, seed=1)
        except SchemakitError:
            continue  # a plan the engine refuses: `check` says so in one line too
        for case in cases[:50]:
            assert case.valid == (case.intent == "valid")
    sample = schemakit.load(str(SAMPLE))
    for old, new in ((schema, sample), (sample, schema)):
        report = diff_schemas(old, new)
        witnesses = find_witnesses(old, new, report)
        assert all(report.findings[i].severity == "breaking" for i in witnesses)
