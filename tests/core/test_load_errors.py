"""Reading documents: every way a source can fail gives one line, the documented exit code, no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import schemakit
from schemakit import LoadOptions, ParseError, SourceNotFound, TooLargeError
from schemakit.core.load import parse_text


def assert_one_line_error(result: Any, exit_code: int, *fragments: str) -> str:
    """The command failed with `exit_code` and one `schemakit: error:` line containing every fragment."""
    assert "Traceback" not in result.stderr
    assert result.returncode == exit_code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line: str = lines[0]
    assert line.startswith("schemakit: error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_missing_file(run_cli: Any, tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nope.json"
    result = run_cli(command, str(missing))
    assert_one_line_error(result, 2, f"{missing}: no such file")


def test_directory(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path))
    assert_one_line_error(result, 2, f"{tmp_path}: is a directory, expected a file")


def test_not_json_names_line_and_column(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "broken.json"
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}:4:13: not valid JSON: Expecting property name enclosed in double quotes")


def test_not_json_error_carries_position() -> None:
    with pytest.raises(ParseError) as caught:
        parse_text(b'{"openapi": "3.1.0",\n  "info": {"title": "x",}\n}', "doc.json")
    assert (caught.value.line, caught.value.column) == (2, 25)
    assert caught.value.format_message().startswith("doc.json:2:25: not valid JSON")


def test_not_yaml_names_line_and_column(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "broken.yaml"
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}:4:11: not valid JSON or YAML: mapping values are not allowed")


def test_json_looking_text_without_json_suffix_is_reported_as_json(write_doc: Any, run_cli: Any) -> None:
    path = write_doc('{"openapi": "3.1.0", "info": ', name="doc.txt")
    result = run_cli("inspect", str(path))
    assert_one_line_error(result, 2, f"{path}:1:30: not valid JSON")


@pytest.mark.parametrize("text", ["", "   \n\n  ", "\ufeff"])
def test_empty_input(write_doc: Any, run_cli: Any, text: str) -> None:
    path = write_doc(text, name="empty.json")
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}: empty input, expected a JSON or YAML document")


def test_stdin_document(run_cli: Any, samples: Path) -> None:
    data = (samples / "docs-example-dataframe.json").read_bytes()
    result = run_cli("inspect", "-", "--format", "json", input=data)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "example-endpoint"


def test_stdin_yaml_document(run_cli: Any, samples: Path) -> None:
    result = run_cli("inspect", "-", "--format", "json", input=(samples / "house-prices.yaml").read_bytes())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "house-prices"


def test_stdin_empty(run_cli: Any) -> None:
    result = run_cli("validate", "-", input=b"")
    assert_one_line_error(result, 2, "<stdin>: empty input")


def test_stdin_not_json(run_cli: Any) -> None:
    result = run_cli("validate", "-", input=b'{"openapi": ]')
    assert_one_line_error(result, 2, "<stdin>:1:13: not valid JSON")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "<stdin>: not an OpenAPI document (the top level is an array, expected an object)"),
        ('"just a string"', "<stdin>: not an OpenAPI document (the top level is a string, expected an object)"),
        ("42", "<stdin>: not an OpenAPI document (the top level is a number, expected an object)"),
        ("plain words", "<stdin>: not an OpenAPI document (the top level is a string, expected an object)"),
        ('{"openapi": 3.1}', "<stdin>: 'openapi' must be a version string such as \"3.1.0\", got 3.1"),
        ("openapi: 3.1", "<stdin>: 'openapi' must be a version string such as \"3.1.0\", got 3.1"),
    ],
)
def test_not_an_openapi_document(run_cli: Any, text: str, message: str) -> None:
    result = run_cli("validate", "-", input=text.encode())
    assert_one_line_error(result, 2, message)


def test_not_openapi_sample(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "not-openapi.json"
    result = run_cli("inspect", str(path))
    assert_one_line_error(result, 2, f"{path}: not an OpenAPI document (no top-level 'openapi' field)")


def test_endpoint_details_is_not_a_query_schema(run_cli: Any, samples: Path) -> None:
    path = samples / "endpoint-details.json"
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, "not an OpenAPI document")


def test_swagger_2_is_unsupported(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "swagger-2.json"
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}: Swagger 2.0 is not supported; serving schemas are OpenAPI 3.x")


def test_openapi_4_is_unsupported(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "openapi-4.json"
    result = run_cli("inspect", str(path))
    assert_one_line_error(result, 2, f"{path}: OpenAPI 4.0.0 is not supported (schemakit reads 3.0.x and 3.1.x)")


def test_openapi_2_in_the_openapi_field_is_unsupported() -> None:
    with pytest.raises(schemakit.UnsupportedVersionError, match=r"OpenAPI 2\.0 is not supported"):
        schemakit.resolve({"openapi": "2.0", "info": {}, "paths": {}})


def test_too_large_by_max_bytes(run_cli: Any, samples: Path) -> None:
    path = samples / "docs-example-dataframe.json"
    size = path.stat().st_size
    result = run_cli("validate", str(path), "--max-bytes", "1000")
    assert_one_line_error(result, 2, f"{path}: {size:,} bytes is over the 1,000-byte limit")


def test_too_large_on_stdin(run_cli: Any, samples: Path) -> None:
    data = (samples / "docs-example-dataframe.json").read_bytes()
    result = run_cli("inspect", "-", "--max-bytes", "100", input=data)
    assert_one_line_error(result, 2, "<stdin>: over the 100-byte limit")


def test_max_bytes_at_the_exact_size_is_allowed(run_cli: Any, samples: Path) -> None:
    path = samples / "docs-example-dataframe.json"
    result = run_cli("inspect", str(path), "--max-bytes", str(path.stat().st_size))
    assert result.returncode == 0, result.stderr


def test_max_bytes_must_be_positive(run_cli: Any, samples: Path) -> None:
    result = run_cli("inspect", str(samples / "docs-example-dataframe.json"), "--max-bytes", "0")
    assert result.returncode == 2
    assert "--max-bytes" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("depth", [200, 5000])
def test_too_deeply_nested_json(write_doc: Any, run_cli: Any, depth: int) -> None:
    text = '{"openapi": "3.1.0", "x": ' + "[" * depth + "]" * depth + "}"
    path = write_doc(text, name="deep.json")
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}: nested more than 128 levels deep")


@pytest.mark.parametrize("depth", [200, 5000])
def test_too_deeply_nested_yaml(write_doc: Any, run_cli: Any, depth: int) -> None:
    text = "openapi: 3.1.0\nx: " + "[" * depth + "]" * depth + "\n"
    path = write_doc(text, name="deep.yaml")
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}: nested more than 128 levels deep")


def test_nesting_below_the_limit_is_read() -> None:
    value = parse_text("[" * 100 + "]" * 100, "ok.json")
    for _ in range(99):
        value = value[0]
    assert value == []


def test_nesting_limit_is_an_option() -> None:
    with pytest.raises(TooLargeError, match="nested more than 10 levels deep"):
        parse_text("[" * 11 + "]" * 11, "x.json", LoadOptions(max_depth=10))


def test_yaml_alias_bomb_is_refused_quickly(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "yaml-alias-bomb.yaml"
    result = run_cli("validate", str(path), timeout=60)
    assert_one_line_error(result, 2, f"{path}: more than 2,000,000 values (YAML aliases expand it too far?)")


def test_yaml_alias_node_cap_is_an_option() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a, *a]\n"
    with pytest.raises(TooLargeError, match="more than 10 values"):
        parse_text(text, "x.yaml", LoadOptions(max_nodes=10))
    assert parse_text(text, "x.yaml") == {"a": [1, 2, 3], "b": [[1, 2, 3]] * 4}


def test_yaml_unsafe_tags_are_not_executed(write_doc: Any, run_cli: Any, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write_doc(f"openapi: !!python/object/apply:os.system ['touch {marker}']\n", name="evil.yaml")
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}:1:10: not valid JSON or YAML")
    assert not marker.exists()


def test_yaml_document_reads_like_its_json_twin(docs: SimpleNamespace) -> None:
    import yaml

    document = docs.docs_example()
    text = yaml.safe_dump(document, sort_keys=False)
    from_yaml = schemakit.describe(schemakit.resolve(parse_text(text, "doc.yaml")))
    from_json = schemakit.describe(schemakit.resolve(document))
    assert from_yaml == from_json


def test_yaml_non_string_keys_and_dates_become_json(docs: SimpleNamespace, write_doc: Any, run_cli: Any) -> None:
    """Unquoted `200:` is an integer key and `2024-01-01` a date in YAML; schemakit reads them as JSON would."""
    text = (docs.samples / "house-prices.yaml").read_text()
    text = text.replace('"200":', "200:").replace("default: USD", "default: 2024-01-01")
    path = write_doc(text, name="unquoted.yaml")
    result = run_cli("inspect", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    [model] = json.loads(result.stdout)["models"]
    assert model["response"] == {"type": "array", "items": "double"}
    assert {"name": "currency", "type": "string", "default": "2024-01-01"} in model["params"]
    document = schemakit.load_document(str(path))
    assert "200" in document["paths"]["/served-models/house_price_regressor-5/invocations"]["post"]["responses"]


def test_yaml_flow_mapping_with_yaml_suffix(write_doc: Any) -> None:
    path = write_doc('{openapi: 3.1.0, info: {title: t, version: "1"}, paths: {}}', name="flow.yaml")
    assert schemakit.load_document(str(path))["info"] == {"title": "t", "version": "1"}


def test_byte_order_mark_is_skipped(write_doc: Any, docs: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + docs.docs_example_path.read_bytes())
    assert schemakit.load(str(path)).title == "example-endpoint"


def test_invalid_utf8_is_a_parse_error(tmp_path: Path, run_cli: Any) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"openapi": "3.1.0", "info": {"title": "caf\xe9"}}')
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}")
    assert "not valid JSON" in result.stderr


def test_unreadable_file(tmp_path: Path, run_cli: Any) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    result = run_cli("validate", str(path))
    assert_one_line_error(result, 2, f"{path}: permission denied")


def test_library_raises_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound) as caught:
        schemakit.load(str(tmp_path / "missing.yaml"))
    assert caught.value.exit_code == 2
    assert caught.value.format_message() == f"{tmp_path / 'missing.yaml'}: no such file"


def test_a_document_without_served_models_cannot_be_inspected(run_cli: Any, samples: Path) -> None:
    path = samples / "invalid" / "no-invocations.json"
    result = run_cli("inspect", str(path))
    assert_one_line_error(
        result, 2, f"{path}: not a serving endpoint schema: no usable /served-models/<name>/invocations paths"
    )


def test_bad_header_option(run_cli: Any, samples: Path) -> None:
    result = run_cli("inspect", str(samples / "docs-example-dataframe.json"), "--header", "no-colon-here")
    assert result.returncode == 2
    assert "expected NAME:VALUE" in result.stderr
    assert "Traceback" not in result.stderr
