"""No input produces a traceback: the CLI on every shipped document, and the loader and resolver fuzzed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemakit
from schemakit import SchemakitError
from schemakit.cli.main import main
from schemakit.core.inspect import render_text
from schemakit.core.load import parse_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
DOCUMENTS = sorted(
    p for p in [*SAMPLES.glob("*.json"), *SAMPLES.glob("*.yaml"), *(SAMPLES / "invalid").iterdir()] if p.is_file()
)

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
schema_words = st.sampled_from(
    [
        "type",
        "properties",
        "items",
        "prefixItems",
        "oneOf",
        "anyOf",
        "required",
        "enum",
        "format",
        "nullable",
        "default",
        "$ref",
        "additionalProperties",
        "dataframe_split",
        "dataframe_records",
        "instances",
        "inputs",
        "params",
        "columns",
        "data",
        "description",
        "x-shape",
    ]
)
schema_values = st.recursive(
    json_scalars
    | st.sampled_from(["object", "array", "integer", "number", "string", "int64", "unknown", "#/components", "#"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(schema_words, children, max_size=5),
    max_leaves=30,
)


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The CLI's entry point in this process (cheaper than a process per document); returns (exit, out, err)."""
    code: Any = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return int(code or 0), out, err


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(SAMPLES)))
@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_cli_never_prints_a_traceback(capsys: pytest.CaptureFixture[str], document: Path, command: str) -> None:
    code, out, err = run_main(capsys, command, str(document), "--format", "json")
    assert "Traceback" not in err
    assert "internal error" not in err
    assert code in (0, 1, 2)
    if code == 2:
        assert err.startswith("schemakit: error: ")
        assert len(err.strip().splitlines()) == 1
    else:
        json.loads(out)


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02", b"\xff\xfe{", b"{" * 3, b"- - - -", b"!!binary AAAA", b"%YAML 9.9\n---\n", b"&a [*a]", b"\t\t:"],
)
def test_cli_on_garbage_from_stdin(run_cli: Any, data: bytes) -> None:
    result = run_cli("validate", "-", input=data.decode("latin-1").encode())
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert result.returncode == 2
    assert result.stderr.startswith("schemakit: error: <stdin>")


@FUZZ
@given(st.binary(max_size=200))
def test_parse_random_bytes(data: bytes) -> None:
    error: SchemakitError | None = None
    try:
        parse_text(data, "fuzz")
    except SchemakitError as exc:
        error = exc
    if error is not None:
        assert error.exit_code == 2
        assert error.format_message().startswith("fuzz")


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"# \n\tab1.")), max_size=80))
def test_parse_json_and_yaml_punctuation(text: str) -> None:
    message = ""
    try:
        parse_text(text, "fuzz.yaml")
    except SchemakitError as exc:
        message = exc.format_message()
    assert "\n" not in message


@FUZZ
@given(json_values)
def test_resolve_random_json_values(value: Any) -> None:
    for document in (value, {"openapi": "3.1.0", "info": value, "paths": value, "servers": value}):
        try:
            schema = schemakit.resolve(document)
        except SchemakitError:
            continue
        schemakit.describe(schema)
        render_text(schema)


def _docs_example() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / "docs-example-dataframe.json").read_text())
    return loaded


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_nodes(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_nodes(child, (*path, index)))
    return found


DOCS_EXAMPLE_NODES = _nodes(_docs_example())[1:]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(DOCS_EXAMPLE_NODES), schema_values), min_size=1, max_size=4))
def test_resolve_mutated_docs_example(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Replace parts of a real document with schema-shaped junk: findings or a one-line error, never a crash."""
    document = _docs_example()
    for path, replacement in mutations:
        parent: Any = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(replacement)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        schema = schemakit.resolve(document)
    except SchemakitError:
        return
    described = schemakit.describe(schema)
    json.dumps(described)
    render_text(schema)
    for model in schema.models:
        for fmt in model.formats:
            assert fmt.kind.value in ("dataframe_split", "dataframe_records", "instances", "inputs", "object")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(DOCS_EXAMPLE_NODES), schema_values), min_size=1, max_size=3))
def test_validate_mutated_docs_example(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    """The whole check, OpenAPI structure included, on broken documents."""
    document = _docs_example()
    for path, replacement in mutations:
        parent: Any = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(replacement)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        report = schemakit.validate_document(document)
    except SchemakitError:
        return
    for diagnostic in report.diagnostics:
        assert diagnostic.severity in ("error", "warning")
        assert "\n" not in diagnostic.message
