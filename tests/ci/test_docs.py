"""docs/ci.md shows real output, and its recipe block is the recipe file the tests run."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from ..conftest import run_cli_in_process

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ci.md"


def test_the_recipe_block_is_the_recipe_file() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    recipe = (ROOT / "docs" / "recipes" / "github-actions.yml").read_text()
    assert recipe in blocks


def test_console_examples_are_real_output() -> None:
    blocks = re.findall(r"```console\n\$ (.+?)\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 2
    for command, expected in blocks:
        args = shlex.split(command)
        assert args[0] == "schemakit"
        result = run_cli_in_process(
            *args[1:], cwd=ROOT, env={k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
        )
        assert result.returncode in (0, 1), result.stderr
        assert result.stdout == expected, command


def test_the_readme_links_the_guide() -> None:
    assert "(docs/ci.md)" in (ROOT / "docs" / "README.template.md").read_text()
