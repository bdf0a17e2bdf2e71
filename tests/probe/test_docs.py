"""docs/probe.md's property-test example runs as written (from the repository root, as a user would)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import ROOT

DOC = ROOT / "docs" / "probe.md"


def test_the_property_test_example_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- probe-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match is not None
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "probe_example"}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    assert len(tests) == 2
    for test in tests:
        test()


def test_the_readme_links_the_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/probe.md)" in readme
    assert Path(ROOT / "docs" / "probe.md").exists()
