"""Issue 2's "Done when" on the docs example: `inspect --format json` and `validate`, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _inspect_json(run_cli: Any, samples: Path) -> dict[str, Any]:
    result = run_cli("inspect", str(samples / "docs-example-dataframe.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_inspect_json_top_level_shape(run_cli: Any, samples: Path) -> None:
    out = _inspect_json(run_cli, samples)
    assert set(out) == {"schema_version", "title", "version", "server", "models", "diagnostics"}
    assert out["schema_version"] == 1
    assert out["title"] == "example-endpoint"
    assert out["version"] == "2"
    assert out["server"] == "https://example.databricks.com/serving-endpoints/example-endpoint"
    [model] = out["models"]
    assert model["name"] == "vanilla_simple_model-2"
    assert model["path"] == "/served-models/vanilla_simple_model-2/invocations"
    assert model["formats"] == ["dataframe_split", "dataframe_records"]
    for diagnostic in out["diagnostics"]:
        assert set(diagnostic) == {"code", "severity", "pointer", "message"}
        assert diagnostic["severity"] in ("error", "warning")
        assert diagnostic["pointer"].startswith("/")


def test_inspect_json_columns_in_order_with_types(run_cli: Any, samples: Path) -> None:
    [model] = _inspect_json(run_cli, samples)["models"]
    columns = {c["name"]: c for c in model["columns"]}
    assert [c["name"] for c in model["columns"]][:3] == ["int_col", "float_col", "string_col"]
    assert [columns[n]["type"] for n in ("int_col", "float_col", "string_col")] == ["long", "double", "string"]
    assert all(columns[n]["nullable"] is False for n in columns)
    # The union over formats: required when any format requires it (records requires all three).
    assert [columns[n]["required"] for n in ("int_col", "float_col", "string_col")] == [True, True, True]


def test_inspect_json_becx_col_is_any_in_records_only(run_cli: Any, samples: Path) -> None:
    [model] = _inspect_json(run_cli, samples)["models"]
    becx = next(c for c in model["columns"] if c["name"] == "becx_col")
    assert becx["type"] == "any"
    assert becx["required"] is False
    assert becx["formats"] == ["dataframe_records"]
    split_names = [c["name"] for c in model["inputs"]["dataframe_split"]["columns"]]
    records_names = [c["name"] for c in model["inputs"]["dataframe_records"]["columns"]]
    assert split_names == ["int_col", "float_col", "string_col"]
    assert records_names == ["int_col", "float_col", "string_col", "becx_col"]


def test_inspect_json_required_sets_per_format_as_the_document_states(run_cli: Any, samples: Path) -> None:
    [model] = _inspect_json(run_cli, samples)["models"]
    # "required fields: int_col" in the split description; `required` in the records items.
    assert model["inputs"]["dataframe_split"]["required"] == ["int_col"]
    assert model["inputs"]["dataframe_records"]["required"] == ["float_col", "int_col", "string_col"]
    split = {c["name"]: c["required"] for c in model["inputs"]["dataframe_split"]["columns"]}
    assert split == {"int_col": True, "float_col": False, "string_col": False}


def test_inspect_json_sentiment_default_is_the_float_half(run_cli: Any, samples: Path) -> None:
    [model] = _inspect_json(run_cli, samples)["models"]
    assert model["params"] == [{"name": "sentiment", "type": "double", "default": 0.5}]
    default = model["params"][0]["default"]
    assert isinstance(default, float)
    for fmt in ("dataframe_split", "dataframe_records"):
        assert model["inputs"][fmt]["params"] == [{"name": "sentiment", "type": "double", "default": 0.5}]


def test_inspect_json_response_is_an_array_of_doubles(run_cli: Any, samples: Path) -> None:
    [model] = _inspect_json(run_cli, samples)["models"]
    assert model["response"] == {"type": "array", "items": "double"}


def test_inspect_text_table(run_cli: Any, samples: Path) -> None:
    result = run_cli("inspect", str(samples / "docs-example-dataframe.json"))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "example-endpoint  version 2  https://example.databricks.com/serving-endpoints/example-endpoint"
    )
    assert "  formats: dataframe_split, dataframe_records" in lines
    assert "  0  int_col     long    yes       split, records" in lines
    assert "  3  becx_col    any               records" in lines
    assert "    sentiment  double  default 0.5" in lines
    assert "  predictions: array<double>" in lines


def test_validate_exits_0_with_the_documented_warnings(run_cli: Any, samples: Path) -> None:
    result = run_cli("validate", str(samples / "docs-example-dataframe.json"), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["errors"] == 0
    codes = [d["code"] for d in report["diagnostics"]]
    assert all(d["severity"] == "warning" for d in report["diagnostics"])
    # The string default, the split/records column disagreement, the required-set disagreement.
    assert codes.count("default-type-mismatch") == 2
    assert "formats-disagree-columns" in codes
    assert "formats-disagree-required" in codes
    by_code = {d["code"]: d for d in report["diagnostics"]}
    assert by_code["formats-disagree-columns"]["message"] == (
        "dataframe_records accepts column(s) becx_col that dataframe_split does not list"
    )
    assert by_code["formats-disagree-required"]["message"] == (
        "dataframe_split requires {int_col} but dataframe_records requires {float_col, int_col, string_col}"
    )
    assert by_code["default-type-mismatch"]["message"] == (
        'default "0.5" is a string but the schema says number; read as 0.5'
    )
    assert by_code["default-type-mismatch"]["pointer"].endswith("/properties/params/properties/sentiment/default")
    # The raw document's oneOf ambiguity is explained, as a warning.
    assert "oneof-ambiguous" in codes
    assert "the server picks the format by the payload's top-level key" in by_code["oneof-ambiguous"]["message"]


def test_validate_text_output_names_code_pointer_and_verdict(run_cli: Any, samples: Path) -> None:
    path = str(samples / "docs-example-dataframe.json")
    result = run_cli("validate", path)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{path}: ok: 1 served model(s), 0 error(s), 7 warning(s)"
    assert any(
        line.startswith(f"{path}: warning [formats-disagree-required] /paths/~1served-models~1vanilla_simple_model-2")
        for line in lines
    )
    assert result.stderr == ""
