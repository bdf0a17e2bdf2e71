"""Shared pieces for the probe tests: the shipped samples that are serving documents."""

from __future__ import annotations

from pathlib import Path

import pytest

import schemakit

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def sample_documents() -> list[Path]:
    """Every shipped sample that is a serving document (endpoint-details.json is an API answer, not one)."""
    out = []
    for path in sorted([*SAMPLES.glob("*.json"), *SAMPLES.glob("*.yaml")]):
        if path.name == "endpoint-details.json":
            continue
        out.append(path)
    return out


@pytest.fixture(scope="session")
def all_types() -> schemakit.EndpointSchema:
    return schemakit.load(str(SAMPLES / "all-types.json"))
