"""`schemakit from-mlflow`: write the query schema document for an MLflow model."""

from __future__ import annotations

import click
import orjson

from schemakit._io import atomic_write_bytes
from schemakit.core.resolve import resolve
from schemakit.mlflow.document import document_from_mlflow

__all__ = ["from_mlflow"]


@click.command("from-mlflow")
@click.argument("model")
@click.option(
    "--endpoint", metavar="NAME", help="Endpoint name (info.title and the server URL). Default: from the model."
)
@click.option(
    "--served-model",
    metavar="NAME",
    help="Served-model name in /served-models/NAME/invocations. Default: from the model (NAME-VERSION for models:/).",
)
@click.option(
    "--host",
    metavar="HOST",
    help="Workspace host for the servers URL. Default: the placeholder workspace.invalid.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the document to this file (atomically) instead of standard output.",
)
def from_mlflow(
    model: str, endpoint: str | None, served_model: str | None, host: str | None, output: str | None
) -> None:
    """Build the OpenAPI 3.1 query schema of an MLflow model from its signature.

    MODEL is a model directory or its MLmodel file (no MLflow needed), or, with
    `pip install 'schemakit[mlflow]'`, a models:/NAME/VERSION, models:/NAME@ALIAS
    or runs:/RUN_ID/PATH URI. The document is what a serving endpoint for the
    model would publish; any command reads the same model as `mlflow:MODEL`.

    Exits 0 on success, 2 when the model or its signature cannot be read.
    """
    document = document_from_mlflow(model, endpoint=endpoint, served_model=served_model, host=host)
    data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    atomic_write_bytes(output, data)
    schema = resolve(document, source=output)
    served = schema.models[0]
    click.echo(
        f"wrote {output}: endpoint {schema.title}, served model {served.name} "
        f"({', '.join(served.format_names)}; {len(served.columns)} column(s), {len(served.params)} param(s))",
        err=True,
    )
