"""The payload generator: edges walked, one-rule mutations, every label the engine's own verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import schemakit
from schemakit.probe.generate import Case, generate_cases
from schemakit.testing import payloads

from .conftest import SAMPLES, sample_documents


def _cases(path: Path, seed: int = 0) -> list[Case]:
    schema = schemakit.load(str(path))
    return [case for model in schema.models for case in generate_cases(model, seed=seed)]


@pytest.mark.parametrize("path", sample_documents(), ids=lambda p: p.name)
def test_every_label_is_what_check_payload_says(path: Path) -> None:
    schema = schemakit.load(str(path))
    for model in schema.models:
        cases = generate_cases(model, seed=3)
        assert any(c.valid for c in cases)
        assert any(not c.valid for c in cases)
        for case in cases:
            report = schemakit.check_payload(model, case.body)
            assert report.ok == case.valid, (case.label, report.to_text())
            assert case.rules == tuple(sorted({p.code for p in report.errors})), case.label
            # A mutation breaks a rule and says which; an edge breaks none.
            assert (case.intent == "valid") == case.valid, case.label
            assert bool(case.rules) == (not case.valid)


@pytest.mark.parametrize("path", sample_documents(), ids=lambda p: p.name)
def test_generation_is_deterministic_for_a_seed(path: Path) -> None:
    first = [(c.label, c.body) for c in _cases(path, seed=11)]
    again = [(c.label, c.body) for c in _cases(path, seed=11)]
    assert first == again


def test_another_seed_gives_other_values(all_types: schemakit.EndpointSchema) -> None:
    model = all_types.models[0]
    one = [c.body for c in generate_cases(model, seed=1)]
    two = [c.body for c in generate_cases(model, seed=2)]
    assert one != two
    assert len(one) == len(two)


def test_the_edges_of_every_type_are_walked(all_types: schemakit.EndpointSchema) -> None:
    cases = generate_cases(all_types.models[0])
    valid = {c.label for c in cases if c.valid and c.format == "dataframe_split"}
    for label in (
        "small_int: int32 maximum",
        "small_int: int32 minimum",
        "big_int: int64 maximum",
        "big_int: int64 minimum",
        "score: whole double",
        "score: fractional double",
        "label: empty string",
        "label: long string",
        "label: unicode",
        "blob: base64 of bytes",
        "blob: empty base64",
        "created_at: datetime 2024-02-29T12:34",
        "created_at: datetime 2024-03-01 12:34:56",
        "created_at: datetime 2024-03-01T12:34:56.123456789",
        "nickname: null",
        "tags: empty array",
        "matrix: edge items",
        "location: required fields only",
        "counts: unicode key",
        "one row, every column",
        "many rows",
        "param cutoff: datetime 2024-03-01T12:34:56Z",
        "every param",
    ):
        assert label in valid, label
    # A null in a nullable integer column is walked too; check refuses it (MLflow's DataFrame makes it NaN).
    rating = [c for c in cases if c.label == "rating: null" and c.format == "dataframe_split"]
    assert [(c.valid, c.rules) for c in rating] == [(False, ("integer-null",))]
    by_label = {c.label: c for c in cases if c.format == "dataframe_split"}
    expected_rules = {
        "mutation: big_int: past int64 maximum": "int-range",
        "mutation: small_int: past int32 maximum": "int-range",
        "mutation: small_int: fractional number for an integer": "type",
        "mutation: blob: text that is not base64": "binary-base64",
        "mutation: created_at: datetime 01/02/2024": "datetime-iso8601",
        "mutation: label: null where not nullable": "type",
        "mutation: a row one value short": "row-width",
        "mutation: a column named twice": "duplicate-column",
        # A zone on a datetime *column* is refused (params take it): the engine turns the edge into a mutation.
        "created_at: datetime 2024-03-01T12:34:56Z": "datetime-iso8601",
        "mutation: not JSON": "invalid-json",
    }
    for label, rule in expected_rules.items():
        assert by_label[label].rules == (rule,), (label, by_label[label].rules)


def test_mutations_break_one_rule_each(all_types: schemakit.EndpointSchema) -> None:
    mutations = [c for c in generate_cases(all_types.models[0]) if not c.valid]
    assert len(mutations) > 100
    single = [c for c in mutations if len(c.rules) == 1]
    assert len(single) == len(mutations), [(c.label, c.rules) for c in mutations if len(c.rules) != 1]


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("foundation-model-chat.json", "messages"),
        ("foundation-model-completions.json", "prompt"),
        ("foundation-model-embeddings.json", "input"),
    ],
)
def test_object_requests(name: str, field: str) -> None:
    cases = _cases(SAMPLES / name)
    assert all(c.format == "object" for c in cases)
    valid = [c for c in cases if c.valid]
    assert valid
    assert all(isinstance(c.payload, dict) and field in c.payload for c in valid)
    # Streaming answers are events, not the 200 body: the probe never asks for them.
    assert not any(isinstance(c.payload, dict) and c.payload.get("stream") is True for c in cases)
    assert any(c.label == f"mutation: required {field} missing" and c.rules for c in cases)


def test_tensors_walk_their_element_type() -> None:
    cases = _cases(SAMPLES / "tensor-model.json")
    labels = {c.label for c in cases if c.valid}
    assert "tensor: largest finite" in labels
    short = next(c for c in cases if c.label == "tensor: a row one item short")
    assert not short.valid


def test_sizes_near_the_request_limit() -> None:
    model = schemakit.load(str(SAMPLES / "foundation-model-embeddings.json")).models[0]
    assert not [c for c in generate_cases(model, large=True) if "limit" in c.label]  # objects have no rows
    split = schemakit.load(str(SAMPLES / "docs-example-dataframe.json")).models[0]
    sized = [c for c in generate_cases(split, large=True, formats=["dataframe_records"]) if "limit" in c.label]
    under, over = sized
    limit = 16 * 1024 * 1024
    assert under.valid
    assert limit - 64 * 1024 < len(under.body) <= limit
    assert not over.valid
    assert over.rules == ("payload-too-large",)
    assert len(over.body) > limit


def test_cases_say_what_they_are_in_json(all_types: schemakit.EndpointSchema) -> None:
    case = generate_cases(all_types.models[0])[0]
    assert json.loads(json.dumps(case.to_json()))["verdict"] == "valid"


_SETTINGS = settings(
    max_examples=25, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.mark.parametrize(
    "name",
    ["all-types.json", "foundation-model-chat.json", "tensor-model.json", "columnar-inputs.json", "house-prices.yaml"],
)
@pytest.mark.parametrize("valid", [True, False])
def test_the_hypothesis_strategy_agrees_with_the_engine(name: str, valid: bool) -> None:
    model = schemakit.load(str(SAMPLES / name)).models[0]
    seen = []

    @_SETTINGS
    @given(payloads(model, valid=valid))
    def check(payload: dict[str, object]) -> None:
        seen.append(payload)
        assert schemakit.check_payload(model, payload).ok is valid

    check()
    assert len(seen) >= 10


def test_the_strategy_wants_one_served_model() -> None:
    with pytest.raises(ValueError, match="serves 3 models"):
        payloads(str(SAMPLES / "multi-model.json"))
    schema = schemakit.load(str(SAMPLES / "multi-model.json"))
    assert payloads(schema.model("ads-2"), input_format="dataframe_records") is not None
    with pytest.raises(ValueError, match="no input format"):
        payloads(schema.model("ctr_calibrator"), input_format="dataframe_split")
