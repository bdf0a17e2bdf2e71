"""README.md quotes the guides in docs/; it must not drift from them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .conftest import run_cli_in_process

ROOT = Path(__file__).resolve().parent.parent


def test_readme_is_built_from_the_guides() -> None:
    spec = importlib.util.spec_from_file_location("build_readme", ROOT / "docs" / "build_readme.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.build()
    actual = (ROOT / "README.md").read_text(encoding="utf-8")
    assert actual == expected, "README.md is stale: run `make readme`"


def test_readme_names_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme
    assert "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_readme_is_short_and_its_links_resolve() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    assert links
    for link in links:
        if link.startswith(("http://", "https://")):
            continue
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_readme_console_examples_are_real_output() -> None:
    import re
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ (.+?)\n(.*?)```", readme, re.DOTALL)
    assert len(blocks) >= 2
    for command, expected in blocks:
        args = shlex.split(command)
        assert args[0] == "schemakit"
        result = run_cli_in_process(*args[1:], cwd=ROOT)
        assert result.returncode in (0, 1), result.stderr
        assert result.stdout == expected, command
