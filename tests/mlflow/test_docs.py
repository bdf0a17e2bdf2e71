"""docs/mlflow.md shows real output: its agreement table is rendered from the recorded results, and its
console examples are what the commands print today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "mlflow.md"
MODELS = "tests/mlflow/models"


def test_the_agreement_table_matches_the_recorded_results() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "mlflow" / "render_agreement.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (("inspect", f"mlflow:{MODELS}/house-prices#endpoint=house-prices&served-model=house-prices-3"), 0),
        (
            (
                "diff",
                f"mlflow:{MODELS}/house-prices#endpoint=house-prices&served-model=house-prices-3",
                f"mlflow:{MODELS}/house-prices-candidate#endpoint=house-prices&served-model=house-prices-4",
            ),
            1,
        ),
    ],
)
def test_console_examples_show_what_the_commands_print(args: tuple[str, ...], exit_code: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "schemakit", *args], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert result.returncode == exit_code, result.stderr
    doc = DOC.read_text(encoding="utf-8").splitlines()
    for line in result.stdout.splitlines():
        if line.strip():
            assert line in doc, f"docs/mlflow.md lacks this output line: {line!r}"


def test_check_example_shows_what_check_prints(tmp_path: Path) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text('{"dataframe_records": [{"bedrooms": 3.5, "area_m2": 80, "city": null}]}\n')
    result = subprocess.run(
        [sys.executable, "-m", "schemakit", "check", f"mlflow:{ROOT / MODELS}/house-prices", "payload.json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    doc = DOC.read_text(encoding="utf-8").splitlines()
    for line in result.stdout.splitlines():
        assert line in doc, line
