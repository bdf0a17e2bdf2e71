"""Runs a composite action's steps as the GitHub runner does, with the GITHUB_* files in a folder.

Only what the action and the recipes use is evaluated: `${{ inputs.X }}`, `${{ github.X }}`,
`${{ steps.ID.outputs.X }}`, string literals and `||`; `if:` conditions of the form `inputs.X != ''`.
`uses:` steps (actions/setup-python) are skipped: the test's Python is already set up.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class ActionRun:
    returncode: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]
    steps_run: list[str] = field(default_factory=list)


def load_action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def _value(term: str, context: Mapping[str, Any]) -> str:
    term = term.strip()
    if term.startswith("'") and term.endswith("'"):
        return term[1:-1].replace("''", "'")
    node: Any = context
    for part in term.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return ""
        node = node[part]
    return str(node)


def evaluate(text: str, context: Mapping[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        for term in match.group(1).split("||"):
            value = _value(term, context)
            if value:
                return value
        return ""

    return _EXPRESSION.sub(one, text)


def _condition(expression: str, context: Mapping[str, Any]) -> bool:
    match = re.fullmatch(r"\s*([\w.-]+)\s*(!=|==)\s*'(.*)'\s*", expression)
    assert match, f"the test runner does not understand the condition {expression!r}"
    value = _value(match.group(1), context)
    return (value != match.group(3)) if match.group(2) == "!=" else (value == match.group(3))


def parse_output_file(text: str) -> dict[str, str]:
    """`name=value` and `name<<DELIMITER ... DELIMITER` lines, as the runner reads $GITHUB_OUTPUT."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            for item in lines:
                if item == delimiter:
                    break
                value.append(item)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def run_action(
    inputs: Mapping[str, str],
    workdir: Path,
    *,
    env: Mapping[str, str] | None = None,
    github: Mapping[str, str] | None = None,
) -> ActionRun:
    """Run action.yml's steps in `workdir`; inputs the workflow's `with:`, missing ones take their defaults."""
    action = load_action()
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    values.update(inputs)
    for name, spec in declared.items():
        assert not spec.get("required") or values[name], f"required input {name} is missing"
    runner = workdir.parent / f"{workdir.name}-runner"
    runner.mkdir(exist_ok=True)
    summary, output_file, temp = runner / "summary.md", runner / "output", runner / "temp"
    summary.write_text("")
    temp.mkdir(exist_ok=True)
    context: dict[str, Any] = {
        "inputs": values,
        "github": {"action_path": str(ROOT), "workspace": str(workdir), **(github or {})},
        "steps": {},
    }
    base_env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "SCHEMAKIT_"))}
    base_env.update(env or {})
    base_env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workdir),
            "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(temp),
        }
    )
    stdout, stderr, ran = [], [], []
    returncode = 0
    for step in action["runs"]["steps"]:
        if "if" in step and not _condition(step["if"], context):
            continue
        if "uses" in step:
            continue
        output_file.write_text("")
        step_env = {**base_env, "GITHUB_OUTPUT": str(output_file)}
        step_env.update({key: evaluate(str(value), context) for key, value in step.get("env", {}).items()})
        assert step["shell"] == "bash"
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", evaluate(step["run"], context)],
            cwd=workdir,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        ran.append(step["name"])
        stdout.append(result.stdout)
        stderr.append(result.stderr)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": parse_output_file(output_file.read_text())}
        if result.returncode != 0:
            returncode = result.returncode
            break
    outputs = {name: evaluate(spec["value"], context) for name, spec in action["outputs"].items()}
    return ActionRun(returncode, "".join(stdout), "".join(stderr), summary.read_text(), outputs, ran)


def git(workdir: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_SYSTEM": os.devnull,
        },
    )
    return result.stdout
