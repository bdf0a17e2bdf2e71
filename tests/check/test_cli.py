"""`schemakit check` run as a user runs it: exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from schemakit.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
DOCS = str(SAMPLES / "docs-example-dataframe.json")
COLUMNS = ["int_col", "float_col", "string_col"]


def write(tmp_path: Path, payload: Any, name: str = "payload.json") -> str:
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return str(path)


def test_valid_payload_exits_0(run_cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, {"dataframe_split": {"columns": ["int_col"], "data": [[1]]}})
    result = run_cli("check", DOCS, path)
    assert result.returncode == 0, result.stderr
    assert "valid for vanilla_simple_model-2 (dataframe_split): 0 errors, 0 warnings" in result.stdout


def test_invalid_payload_exits_1_naming_row_and_column(run_cli: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"dataframe_split": {"columns": COLUMNS, "data": [[1, 2.5, "a"], [2, "abc", "b"]]}, "params": {"t": 1}},
    )
    result = run_cli("check", DOCS, path)
    assert result.returncode == 1
    assert (
        f'{path}: error [type] row 1, column float_col ($.dataframe_split.data[1][1]): expected double, got string "abc"'
        in result.stdout
    )
    assert "warning [unknown-param] param t ($.params.t)" in result.stdout
    assert "1 error, 1 warning (type: 1, unknown-param: 1)" in result.stdout


def test_warnings_alone_exit_0_and_disable_switches_rules_off(run_cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, {"dataframe_split": {"columns": COLUMNS, "data": [[1.0, 2.5, "a"]]}, "params": {"t": 1}})
    relaxed = run_cli("check", DOCS, path)
    assert relaxed.returncode == 0, relaxed.stdout
    assert "warning [float-for-integer] row 0, column int_col" in relaxed.stdout
    strict = run_cli("check", DOCS, path, "--strict")
    assert strict.returncode == 1, strict.stdout
    assert "error [float-for-integer]" in strict.stdout
    result = run_cli("check", DOCS, path, "--strict", "--disable", "float-for-integer")
    assert result.returncode == 0, result.stdout
    assert "float-for-integer" not in result.stdout
    assert "unknown-param" in result.stdout


def test_stdin_and_json_output(run_cli: Any) -> None:
    body = json.dumps({"dataframe_records": [{"int_col": 2**63, "float_col": 1, "string_col": "x"}]}).encode()
    result = run_cli("check", DOCS, "-", "--format", "json", input=body)
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert out["payload"] == "<stdin>"
    (model,) = out["models"]
    assert model["problems"][0]["code"] == "int-range"
    assert model["problems"][0]["row"] == 0
    assert model["problems"][0]["column"] == "int_col"


def test_max_errors_lists_n_and_counts_all(run_cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, {"dataframe_split": {"columns": COLUMNS, "data": [["x", 1, "a"]] * 50}})
    result = run_cli("check", DOCS, path, "--max-errors", "3")
    assert result.returncode == 1
    assert result.stdout.count("error [type]") == 3
    assert "47 more not listed" in result.stdout
    assert "50 errors" in result.stdout


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"dataframe_split": {"data": [[1,]]}}', "payload.json:1:34: not valid JSON"),
        ("", "payload.json:1:1: not valid JSON"),
    ],
)
def test_payload_not_json_exits_2_saying_where(run_cli: Any, tmp_path: Path, payload: str, message: str) -> None:
    result = run_cli("check", DOCS, write(tmp_path, payload))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_payload_or_spec_exits_2(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("check", DOCS, str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert "nope.json: no such file" in result.stderr
    result = run_cli("check", str(tmp_path / "nospec.json"), DOCS)
    assert result.returncode == 2


def test_several_models_report_per_model(run_cli: Any) -> None:
    spec = str(SAMPLES / "multi-model.json")
    payload = str(SAMPLES / "payloads" / "multi-model" / "valid-ads-1-split.json")
    result = run_cli("check", spec, payload)
    assert result.returncode == 1  # traffic may reach a model that rejects it
    assert "accepted by 1 of 3 served models (ads-1)" in result.stdout
    assert run_cli("check", spec, payload, "--model", "ads-1").returncode == 0
    unknown = run_cli("check", spec, payload, "--model", "nope")
    assert unknown.returncode == 2
    assert "no served model named 'nope'" in unknown.stderr


def sample_payloads() -> list[tuple[str, Path]]:
    cases = []
    for folder in sorted((SAMPLES / "payloads").iterdir()):
        specs = sorted(SAMPLES.glob(f"{folder.name}.*"))
        if specs:
            cases.extend((str(specs[0]), path) for path in sorted(folder.glob("*.json")))
    return cases


@pytest.mark.parametrize(("spec", "payload"), sample_payloads(), ids=lambda v: getattr(v, "name", None))
def test_sample_payloads(spec: str, payload: Path) -> None:
    """Every shipped payload: valid ones exit 0, invalid ones exit 1 naming where (row and column in tables)."""
    args = ["check", spec, str(payload)]
    model = next((m for m in ("ads-1", "ads-2", "ctr_calibrator") if f"-{m}-" in payload.name), None)
    if model is not None and payload.name.startswith("valid-"):
        args += ["--model", model]
    result = CliRunner().invoke(cli, args)
    if payload.name.startswith("valid-"):
        assert result.exit_code == 0, result.output
        assert (" warning [" in result.output) is payload.name.endswith("-warning.json"), result.output
        return
    assert result.exit_code == 1, result.output
    first = next(line for line in result.output.splitlines() if " error [" in line)
    tabular = any(k in payload.read_text() for k in ("dataframe_", '"instances"', '"inputs"'))
    if tabular and "param" not in payload.name and not any(w in payload.name for w in ("format", "bare", "extra-key")):
        assert "row " in first or "column " in first, first
