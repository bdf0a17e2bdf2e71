"""`schemakit probe SPEC --target TARGET`: does the server do what its schema says?"""

from __future__ import annotations

import sys
from typing import Any

import click

from schemakit._io import atomic_write_text
from schemakit.cli.common import SECONDS, format_option, load_options, load_schema, source_options
from schemakit.probe.report import OUTPUT_FORMATS, render_probe
from schemakit.probe.runner import DEFAULT_BUDGET, ProbeOptions, load_recorded, open_target, opened, run_probe
from schemakit.runtime.text import terminal

__all__ = ["probe"]


@click.command()
@click.argument("spec")
@click.option(
    "--target",
    required=True,
    metavar="TARGET",
    help="Where to send: an invocations URL or an endpoint's base URL, endpoint:[PROFILE/]NAME, mock "
    "(the emulator, started for the run) or mlflow:PATH (MLflow's scoring server for a local model folder, "
    "started and stopped for the run).",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=DEFAULT_BUDGET,
    show_default=True,
    help="Requests to send at most (a live endpoint costs money).",
)
@click.option(
    "--rate", type=click.FloatRange(min=0), default=10.0, show_default=True, help="Requests a second (0: no limit)."
)
@click.option(
    "--concurrency", type=click.IntRange(min=1, max=64), default=2, show_default=True, help="Requests at once."
)
@click.option(
    "--deadline",
    type=SECONDS,
    default=120.0,
    show_default=True,
    help="Seconds for the whole run; nothing starts after.",
)
@click.option("--request-timeout", type=SECONDS, default=30.0, show_default=True, help="Seconds for one request.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the payload generator.")
@click.option("--model", "models", multiple=True, metavar="NAME", help="Probe this served model only (repeatable).")
@click.option("--input-format", "formats", multiple=True, metavar="FORMAT", help="Probe this input format only.")
@click.option("--large", is_flag=True, help="Also send payloads at the size limit (4 or 16 MB each).")
@click.option(
    "--target-header",
    "target_headers",
    multiple=True,
    metavar="NAME:VALUE",
    help="Header sent to a URL target (repeatable), e.g. Authorization; only to the target's own host.",
)
@click.option("--record", "record_dir", metavar="DIR", help="Keep each payload and the server's answer under DIR.")
@click.option("--replay", "replay_dir", metavar="DIR", help="Send the cases recorded in DIR instead of generated ones.")
@click.option(
    "-o", "--output", "output_file", metavar="FILE", help="Write the report to FILE (atomically), not stdout."
)
@format_option(*OUTPUT_FORMATS)
@source_options
def probe(
    spec: str,
    target: str,
    budget: int,
    rate: float,
    concurrency: int,
    deadline: float,
    request_timeout: float,
    seed: int,
    models: tuple[str, ...],
    formats: tuple[str, ...],
    large: bool,
    target_headers: tuple[str, ...],
    record_dir: str | None,
    replay_dir: str | None,
    output_file: str | None,
    output_format: str,
    **source: Any,
) -> None:
    """Send payloads generated from SPEC to TARGET and compare each answer with what `check` says.

    Reports, per served model and format: 5xx answers, schema-valid payloads the server
    rejects, schema-invalid payloads it accepts, 200 answers that do not match the
    document's response schema, and an agreement score; and what the budget or the
    deadline left undone.

    Exits 0 when every judged case agrees, 1 on any disagreement, 2 when it cannot run
    (or no answer could be judged).
    """
    options_in = load_options(**source)
    schema = load_schema(spec, options_in)
    if record_dir is not None and replay_dir is not None and record_dir == replay_dir:
        raise click.BadParameter("record into another folder than the one replayed", param_hint="--record")
    options = ProbeOptions(
        budget=budget,
        rate=rate,
        concurrency=concurrency,
        deadline=deadline,
        request_timeout=request_timeout,
        seed=seed,
        large=large,
        models=models,
        formats=formats,
    )
    served = [schema.model(name) for name in models] if models else list(schema.models)
    known = sorted({f for m in served for f in m.format_names})
    for name in formats:
        if name not in known:
            raise click.BadParameter(
                f"{name!r} is not a format of the probed models ({', '.join(known)})", param_hint="--input-format"
            )
    headers = load_options(headers=target_headers).headers if target_headers else {}
    groups = load_recorded(replay_dir, schema, options) if replay_dir is not None else None
    click.echo(
        terminal(
            f"schemakit probe: at most {budget:,} request(s), "
            f"{f'{rate:g} a second' if rate else 'no rate limit'}, {concurrency} at once, within {deadline:g} s"
        ),
        err=True,
    )
    show = sys.stderr.isatty()

    def progress(sent: int, total: int, disagreements: int) -> None:
        if show:
            click.echo(f"\rprobe: {sent}/{total} sent, {disagreements} disagreement(s)", err=True, nl=False)

    target_obj = open_target(
        schema,
        target,
        headers=headers,
        host=options_in.workspace_host,
        token=options_in.workspace_token,
        profile=options_in.workspace_profile,
        models=served,
    )
    with opened(target_obj):
        report = run_probe(schema, target_obj, options, groups=groups, record=record_dir, progress=progress, spec=spec)
    if show:
        click.echo("", err=True)
    text = render_probe(report, output_format)
    if output_file is not None:
        atomic_write_text(output_file, text)
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_code)
