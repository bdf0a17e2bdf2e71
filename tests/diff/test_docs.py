"""The README material in docs/diff.md shows real output and every rule."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from schemakit.diff import RULES

from ..conftest import run_cli_in_process

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "diff.md"


def _text() -> str:
    if not DOC.exists():
        pytest.skip("docs/diff.md was merged into the README")
    return DOC.read_text()


def _console_blocks(text: str) -> list[tuple[str, str]]:
    blocks = re.findall(r"```console\n\$ (.+?)\n(.*?)```", text, re.DOTALL)
    return [(command, output) for command, output in blocks]


def test_console_examples_are_real_output() -> None:
    blocks = _console_blocks(_text())
    assert len(blocks) >= 4
    for command, expected in blocks:
        args = shlex.split(command)
        assert args[:2] == ["schemakit", "diff"]
        result = run_cli_in_process(*args[1:], cwd=ROOT)
        assert result.returncode in (0, 1), result.stderr
        assert result.stdout == expected, command


def test_rule_table_lists_every_rule_with_its_severity() -> None:
    rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([a-z /]+) \|", _text(), re.MULTILINE))
    assert set(rows) == set(RULES)
    for rule_id, rule in RULES.items():
        assert rows[rule_id].split(" / ")[0] == rule.severity, rule_id
