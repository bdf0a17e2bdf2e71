"""The pre-commit hooks (`.pre-commit-hooks.yaml`): `python -m schemakit.cli.hooks validate|diff FILE...`.

pre-commit passes every staged file that matches the hook's `files`; the commands take one
document each, so these loop and report every file before exiting with the worst code:

- `validate FILE...`: `schemakit validate FILE` for each;
- `diff [--rev REV] [--fail-on ...] [--ignore FILE] FILE...`: `schemakit diff git:REV:FILE FILE` for
  each file that exists at REV (a file new since REV has nothing to break).

(`schemakit-codegen-check` needs no loop: it is `schemakit codegen --check SCHEMA -o DIR`.)
"""

from __future__ import annotations

import subprocess
import sys

import click

from schemakit.diff import FAIL_ON_CHOICES

__all__ = ["hooks"]


def _schemakit(*args: str) -> int:
    return subprocess.run([sys.executable, "-m", "schemakit", *args], check=False).returncode


def _exists_at(rev: str, path: str) -> bool:
    result = subprocess.run(["git", "cat-file", "-e", f"{rev}:./{path}"], capture_output=True, check=False)
    return result.returncode == 0


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def hooks() -> None:
    """schemakit's pre-commit hooks."""


@hooks.command()
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.argument("files", nargs=-1)
def validate(strict: bool, files: tuple[str, ...]) -> None:
    """Validate each FILE."""
    codes = [_schemakit("validate", file, *(["--strict"] if strict else [])) for file in files]
    sys.exit(max(codes, default=0))


@hooks.command()
@click.option("--rev", default="HEAD", show_default=True, help="The git revision to compare with.")
@click.option("--fail-on", type=click.Choice(list(FAIL_ON_CHOICES)), default="breaking", show_default=True)
@click.option("--ignore", "ignore_file", metavar="FILE", help="Ignore file of accepted changes.")
@click.argument("files", nargs=-1)
def diff(rev: str, fail_on: str, ignore_file: str | None, files: tuple[str, ...]) -> None:
    """Compare each FILE with its version at REV."""
    codes = []
    for file in files:
        if not _exists_at(rev, file):
            click.echo(f"{file}: new since {rev}, nothing to compare")
            continue
        extra = ["--ignore", ignore_file] if ignore_file else []
        codes.append(_schemakit("diff", f"git:{rev}:{file}", file, "--fail-on", fail_on, *extra))
    sys.exit(max(codes, default=0))


if __name__ == "__main__":
    hooks(prog_name="schemakit-hooks")
