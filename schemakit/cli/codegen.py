"""`schemakit codegen`: write a typed client package for an endpoint (thin layer over `schemakit.codegen.generate`)."""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit.cli.common import force_option, load_options, load_schema, source_options
from schemakit.codegen.generate import MODEL_TYPES, TARGETS, generate_package, write_package
from schemakit.runtime.text import terminal

__all__ = ["codegen"]


@click.command()
@click.argument("spec")
@click.option(
    "-o",
    "--output",
    "output_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write the package into (as OUTPUT/PACKAGE/).",
)
@click.option("--package", default=None, help="Package name (default: the endpoint's name + _client).")
@click.option(
    "--model-type",
    type=click.Choice(list(MODEL_TYPES)),
    default="pydantic",
    show_default=True,
    help="Library for the row, params and response types.",
)
@click.option(
    "--target",
    type=click.Choice(list(TARGETS)),
    default="python",
    show_default=True,
    help="python: the typed package; typescript: an index.ts of row, params, payload and response types.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files that would change.")
@click.option(
    "--ignore-version",
    is_flag=True,
    help="With --check: a new document or model version with an unchanged schema counts as up to date.",
)
@click.option(
    "--unsupported",
    type=click.Choice(["warn", "refuse"]),
    default="warn",
    show_default=True,
    help="When a schema uses a keyword the generated validator does not evaluate: warn, or refuse (exit 2).",
)
@force_option
@source_options
def codegen(
    spec: str,
    output_dir: str,
    package: str | None,
    model_type: str,
    target: str,
    check: bool,
    ignore_version: bool,
    unsupported: str,
    force: bool,
    **source: Any,
) -> None:
    """Generate a typed Python package for an endpoint: row and params types,
    payload builders, a validator (same verdicts as `schemakit check`) and sync
    and async clients (or, with --target typescript, TypeScript types).

    Output is deterministic. With --check, exits 0 when the package on disk is up to
    date and 1 (listing the files) when it is not; --ignore-version lets a version-only
    upgrade pass.
    """
    schema = load_schema(spec, load_options(**source), force=force)
    generated = generate_package(
        schema, package=package, model_type=model_type, target=target, unsupported=unsupported, force=force
    )
    for warning in generated.warnings:
        click.echo(terminal(f"schemakit: warning: {warning}"), err=True)
    result = write_package(generated, output_dir, check=check, ignore_version=ignore_version)
    if check:
        if result.up_to_date:
            click.echo(f"{result.directory}: up to date ({len(generated.files)} files)")
            sys.exit(0)
        click.echo(f"{result.directory}: {len(result.changed)} file(s) would change:")
        for path in result.changed:
            click.echo(f"  {path}")
        click.echo("run `schemakit codegen` without --check to update them")
        sys.exit(1)
    if result.written:
        click.echo(f"{result.directory}: wrote {len(generated.files)} files ({len(result.changed)} changed)")
    else:
        click.echo(f"{result.directory}: up to date ({len(generated.files)} files)")
    sys.exit(0)
