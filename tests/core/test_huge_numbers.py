"""Numbers a document may hold beyond what Python reads by default: one clear line, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemakit import ParseError
from schemakit.core.load import parse_text

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "docs-example-dataframe.json"


@pytest.mark.parametrize("where", ["doc.json", "doc.yaml"])
def test_an_integer_of_5000_digits_is_a_parse_error_with_its_line(where: str) -> None:
    digits = "9" * 5000
    text = f'{{"openapi": "3.1.0",\n "x-big": {digits}}}' if where.endswith(".json") else f"openapi: 3.1.0\nx-big: {digits}\n"
    with pytest.raises(ParseError, match=r"line 2, column \d+: a number with 5,000 digits"):
        parse_text(text.encode(), where)


def test_a_string_of_5000_digits_is_just_a_string() -> None:
    value = parse_text(json.dumps({"x": "9" * 5000}).encode(), "doc.json")
    assert value == {"x": "9" * 5000}


def test_integers_beyond_64_bits_stay_exact() -> None:
    value = parse_text(json.dumps({"x": 2**70}).encode(), "doc.json")
    assert value == {"x": 2**70}
