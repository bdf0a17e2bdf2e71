"""Bad option values and unwritable outputs: one line, exit 2, no secret echoed, nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DOCS = "samples/docs-example-dataframe.json"
NEXT = "samples/docs-example-dataframe-v3.json"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "soon"])
def test_timeouts_must_be_positive_finite_seconds(run_cli: Any, value: str) -> None:
    result = run_cli("validate", "--timeout", value, "http://127.0.0.1:9/x.json")
    assert result.returncode == 2
    assert result.stderr.startswith("schemakit: error: Invalid value for '--timeout'")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("header", ["Authorization: Bearer dapi-SECRET123\nx", "X-Key: dapi-SECRET123é"])
def test_bad_header_values_are_refused_without_echoing_them(run_cli: Any, header: str) -> None:
    result = run_cli("inspect", "--header", header, "http://127.0.0.1:9/x.json")
    assert result.returncode == 2
    assert "dapi-SECRET123" not in result.stderr + result.stdout
    assert "holds a control or non-ASCII character" in result.stderr


def test_a_bad_workspace_host_is_one_line(run_cli: Any) -> None:
    import os

    env = {**os.environ, "DATABRICKS_HOST": "http://[::1", "DATABRICKS_TOKEN": "dapi-SECRET123"}
    result = run_cli("endpoint", "status", "ads", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("schemakit: error: DATABRICKS_HOST: 'http://[::1' is not a valid host URL")
    assert "dapi-SECRET123" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("diff", DOCS, NEXT, "-o", "{blocked}/report.txt"),
        ("codegen", DOCS, "-o", "{blocked}/generated"),
        ("from-mlflow", "tests/mlflow/models/house-prices", "-o", "{blocked}/doc.json"),
    ],
    ids=["diff", "codegen", "from-mlflow"],
)
def test_unwritable_outputs_are_one_line(run_cli: Any, tmp_path: Path, command: tuple[str, ...]) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    result = run_cli(*(part.format(blocked=blocked) for part in command))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith(f"schemakit: error: {blocked}/{Path(command[-1]).name}")
    assert line.endswith(f": cannot write: {blocked} is a file, not a folder")
    assert len(line.splitlines()) == 1
    assert blocked.read_text() == "in the way"


def test_writing_over_a_folder_is_refused(run_cli: Any, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = run_cli("diff", DOCS, NEXT, "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"schemakit: error: {tmp_path / 'out'}: cannot write (is a directory)"
    assert list((tmp_path / "out").iterdir()) == []
