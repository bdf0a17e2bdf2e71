"""The shipped samples: reference copies intact, every document resolvable and described, payloads that fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import schemakit
from schemakit import ServedModel

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
PAYLOADS = SAMPLES / "payloads"
REFERENCE = ROOT.parent / "shared" / "reference" / "examples"
REFERENCE_COPIES = ["docs-example-dataframe.json", "endpoint-details.json", "foundation-model-chat.json"]
#: Sample documents (not endpoint-details.json, which is the endpoint API's answer, not a query schema).
DOCUMENTS = {p.stem: p for p in [*SAMPLES.glob("*.json"), *SAMPLES.glob("*.yaml")] if p.stem != "endpoint-details"}

#: Payloads whose verdict needs the serving rules of `schemakit check`: plain JSON Schema of the
#: normalized request schema gets them wrong. Listed so the difference stays deliberate.
VALID_ONLY_BY_SERVING_RULES = {
    # Split rows are matched to column types by name when `columns` is reordered.
    "docs-example-dataframe/valid-split-reordered-columns.json",
    # A system message: the published role enum leaves it out, the API takes it (known-document-gap).
    "foundation-model-chat/valid-chat-system-role-warning.json",
}
INVALID_ONLY_BY_SERVING_RULES = {
    "docs-example-dataframe/invalid-long-out-of-int64-range.json",
    "docs-example-dataframe/invalid-split-column-named-twice.json",
    "docs-example-dataframe/invalid-split-extra-key.json",
    "docs-example-dataframe/invalid-split-row-too-short.json",
    "all-types/invalid-integer-out-of-int32-range.json",
    "all-types/invalid-binary-not-base64.json",
    "all-types/invalid-datetime-not-iso-8601.json",
    "all-types-refs/invalid-integer-out-of-int32-range.json",
    "all-types-refs/invalid-binary-not-base64.json",
    "all-types-refs/invalid-datetime-not-iso-8601.json",
    "house-prices/invalid-datetime-not-iso-8601.json",
    # The server requires `messages` though the document has no `required` list (required-field).
    "foundation-model-chat/invalid-missing-messages.json",
    # MLflow refuses a null in an integer column, nullable or not: pandas would make it a NaN float (integer-null).
    "openapi-3.0-nullable/invalid-null-in-integer-column.json",
}


@pytest.mark.parametrize("name", REFERENCE_COPIES)
def test_reference_examples_are_byte_identical(name: str) -> None:
    if not REFERENCE.is_dir():
        pytest.skip("the shared reference examples are not on this machine")
    assert (SAMPLES / name).read_bytes() == (REFERENCE / name).read_bytes()


@pytest.mark.parametrize("stem", sorted(DOCUMENTS))
def test_sample_document_resolves_without_errors(stem: str) -> None:
    schema = schemakit.load(str(DOCUMENTS[stem]))
    assert schema.models
    assert schema.errors == (), [str(d) for d in schema.errors]
    assert schema.server is not None
    assert schemakit.validate_document(str(DOCUMENTS[stem])).ok


def test_every_document_has_payloads_and_every_payload_a_document() -> None:
    assert {p.name for p in PAYLOADS.iterdir() if p.is_dir()} == set(DOCUMENTS)
    for directory in PAYLOADS.iterdir():
        names = [p.name for p in directory.glob("*.json")]
        assert any(n.startswith("valid-") for n in names), directory
        assert any(n.startswith("invalid-") for n in names), directory
        assert all(n.startswith(("valid-", "invalid-")) for n in names), directory


def test_readme_describes_every_sample() -> None:
    readme = (SAMPLES / "README.md").read_text()
    for path in [*DOCUMENTS.values(), *(SAMPLES / "invalid").iterdir()]:
        assert path.name in readme, path.name
    assert "endpoint-details.json" in readme


def _target(schema: schemakit.EndpointSchema, payload: Path) -> ServedModel:
    """The served model a payload is for: the only one, or the one its file name names."""
    if len(schema.models) == 1:
        return schema.models[0]
    named = [m for m in schema.models if f"-{m.name}-" in payload.name]
    assert len(named) == 1, payload.name
    return named[0]


def _payload_cases() -> list[tuple[str, Path]]:
    return sorted((f"{p.parent.name}/{p.name}", p) for p in PAYLOADS.glob("*/*.json"))


@pytest.mark.parametrize(("case", "payload"), _payload_cases(), ids=[c for c, _ in _payload_cases()])
def test_payload_against_the_normalized_request_schema(case: str, payload: Path) -> None:
    schema = schemakit.load(str(DOCUMENTS[payload.parent.name]))
    model = _target(schema, payload)
    accepted = Draft202012Validator(dict(model.request_schema)).is_valid(json.loads(payload.read_text()))
    expected = payload.name.startswith("valid-")
    if case in VALID_ONLY_BY_SERVING_RULES or case in INVALID_ONLY_BY_SERVING_RULES:
        expected = not expected
    assert accepted is expected, case
