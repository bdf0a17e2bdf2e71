"""One vocabulary across commands: --host/--profile/--token mean the workspace everywhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

from schemakit.testing import MockServer

from .conftest import CliRun, run_cli_in_process

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "docs-example-dataframe.json"


def _run(*args: str) -> CliRun:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "ARM_", "AZURE_"))}
    env["DATABRICKS_CONFIG_FILE"] = os.devnull
    return run_cli_in_process(*args, env=env)


def test_endpoint_sources_take_the_workspace_flags_in_every_command() -> None:
    with MockServer([SAMPLE], token="dapi-vocab") as server:
        flags = ["--host", server.url, "--token", "dapi-vocab"]
        inspected = _run("inspect", "endpoint:example-endpoint", "--format", "json", *flags)
        assert inspected.returncode == 0, inspected.stderr
        assert json.loads(inspected.stdout)["title"] == "example-endpoint"
        validated = _run("validate", "endpoint:example-endpoint", *flags)
        assert validated.returncode == 0, validated.stderr
        diffed = _run("diff", "endpoint:example-endpoint", str(SAMPLE), *flags)
        assert diffed.returncode == 0, diffed.stderr
    assert "dapi-vocab" not in inspected.stderr + validated.stderr + diffed.stdout + diffed.stderr


def test_without_credentials_the_error_names_flags_the_command_has() -> None:
    result = _run("inspect", "endpoint:example-endpoint")
    assert result.returncode == 2
    assert "--host" in result.stderr
    help_text = _run("inspect", "--help").stdout
    assert "--host" in help_text
    assert "--profile" in help_text
    assert "--token" in help_text


def test_the_emulator_listens_on_bind() -> None:
    help_text = _run("mock", "--help").stdout
    assert "--bind" in help_text
    assert "--host" not in help_text


def test_top_level_help_shows_each_whole_description() -> None:
    from schemakit.cli.main import LAZY_COMMANDS, cli

    text = " ".join(_run("--help").stdout.split())
    for name in LAZY_COMMANDS:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        first = command.get_short_help_str(limit=10_000)
        assert " ".join(first.split()) in text, name
