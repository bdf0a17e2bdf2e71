"""Fixtures for payload validation tests: the docs example, resolved, and its validator."""

from __future__ import annotations

from pathlib import Path

import pytest

import schemakit
from schemakit import EndpointSchema, PayloadValidator, compile_validator

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "samples" / "docs-example-dataframe.json"


@pytest.fixture(scope="session")
def docs_schema() -> EndpointSchema:
    return schemakit.load(str(DOCS_EXAMPLE))


@pytest.fixture(scope="session")
def docs_validator(docs_schema: EndpointSchema) -> PayloadValidator:
    return compile_validator(docs_schema.models[0])
