"""The runnable examples in samples/apps/ run and show what the README says."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

APPS = Path(__file__).resolve().parents[2] / "samples" / "apps"


def run(name: str) -> str:
    result = subprocess.run(
        [sys.executable, str(APPS / name)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_one_line_example() -> None:
    out = run("one_line.py")
    assert 'row 1, column float_col ($.dataframe_split.data[1][1]): expected double, got string "20.4"' in out
    assert "valid for vanilla_simple_model-2 (dataframe_split): 0 errors, 0 warnings" in out


def test_decorator_example() -> None:
    out = run("decorator.py")
    assert "refused: row 1, column int_col" in out


def test_proxy_examples_build_their_apps() -> None:
    for name in ("asgi_proxy.py", "wsgi_proxy.py"):
        namespace = runpy.run_path(str(APPS / name), run_name="sample")
        assert callable(namespace["app"])
