"""`schemakit fetch` and `schemakit endpoint ...`: the workspace client on the command line.

Documents go to standard output (or a file); progress, state and findings go to standard error, so
`schemakit fetch ads > schemas/ads.json` stays clean. Exit codes: 0 ok, 1 a finding (the fetched document
has errors, or `--check` found the committed file out of date), 2 cannot run (credentials, permissions,
no such endpoint, not ready, network).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from schemakit._exceptions import EndpointNotReadyError, SchemakitError, SourceError
from schemakit._io import atomic_write_bytes, dump_json_stable
from schemakit.cli.common import SECONDS, SECONDS_OR_ZERO, WORKSPACE_FLAGS, echo_json, format_option
from schemakit.core.load import parse_text
from schemakit.runtime.text import terminal
from schemakit.workspace.client import PERMISSION_LEVELS, EndpointStatus, Permissions, Workspace

__all__ = ["endpoint", "fetch"]

F = TypeVar("F", bound=Callable[..., Any])

# databricks-sdk warns on stderr when a host has no /.well-known/databricks-config (then carries on); schemakit
# reports what matters itself, so its unconfigured warnings stay out of the command's output.
logging.getLogger("databricks.sdk").addHandler(logging.NullHandler())
# databricks-sdk also calls the module-level `logging.debug()` when it runs a CLI login, which would install
# `basicConfig`'s stderr handler on the root logger and print its later warnings into the command's output.
logging.getLogger().addHandler(logging.NullHandler())

_MAX_LISTED_DIFFERENCES = 20


def workspace_options(func: F) -> F:
    """--host / --token / --profile / --request-timeout, shared by every workspace command."""
    decorators = [
        *WORKSPACE_FLAGS,
        click.option(
            "--request-timeout",
            type=SECONDS,
            default=30.0,
            show_default=True,
            metavar="SECONDS",
            help="Give up on one HTTP request after this long (retries on 429/503 come on top).",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0, max=20),
            default=4,
            show_default=True,
            help="Retries after HTTP 429/503 (and, for reads, dropped connections), with exponential backoff.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _open(options: dict[str, Any]) -> Workspace:
    return Workspace(
        host=options["host"],
        token=options["token"],
        profile=options["profile"],
        timeout=options["request_timeout"],
        retries=options["retries"],
    )


def _fail(exc: SchemakitError) -> NoReturn:
    """Print a multi-line error as main() would print its first line, then the details, and exit."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    click.echo(terminal(f"schemakit: error: {lines[0]}"), err=True)
    for line in lines[1:]:
        click.echo(terminal(line), err=True)
    sys.exit(exc.exit_code)


def _note(text: str) -> None:
    # Notes quote names, diagnostics and messages from the server's document: one escaped line
    # (`terminal` leaves escaped text as it is, so callers that escaped already are fine).
    click.echo(terminal(text), err=True)


# ---------------------------------------------------------------------------------------------------------------
# fetch


@click.command()
@click.argument("endpoint_name", metavar="ENDPOINT")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file (atomically). Default: standard output.",
)
@click.option(
    "--wait",
    type=SECONDS_OR_ZERO,
    metavar="SECONDS",
    help="Wait up to this long for the endpoint to be READY with no update in progress.",
)
@click.option(
    "--poll",
    type=SECONDS,
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="First interval between status checks while waiting; it grows by half each time, up to 30 s.",
)
@click.option("--check", is_flag=True, help="Compare with --output instead of writing it; exit 1 when it differs.")
@workspace_options
def fetch(
    endpoint_name: str,
    output: Path | None,
    wait: float | None,
    poll: float,
    check: bool,
    **connection: Any,
) -> None:
    """Fetch ENDPOINT's query schema from the workspace, check it, and write it.

    The endpoint must be READY with no configuration update in progress (otherwise
    its state, its served entities and the build logs of a failed one are shown;
    --wait waits for it). The document is checked as `schemakit validate` does and
    written pretty-printed with sorted keys, so a committed copy diffs cleanly.

    Exit codes: 0 written (or up to date with --check), 1 the document has errors
    or --check found FILE out of date, 2 cannot run.
    """
    if check and output is None:
        raise click.UsageError("--check needs -o FILE: the committed file to compare with")
    from schemakit.core.validate import validate_document

    with _open(connection) as workspace, _retries_shown():
        status = _ready_status(workspace, endpoint_name, wait, poll)
        document = workspace.get_openapi(endpoint_name)
    report = validate_document(document)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    where = f"endpoint:{endpoint_name}"
    if errors:
        for diagnostic in errors:
            _note(f"{where}: error [{diagnostic.code}] {diagnostic.pointer or '/'}: {diagnostic.message}")
        _note(f"{where}: the fetched schema has {len(errors)} error(s); nothing written")
        sys.exit(1)
    version = f"config version {status.config_version}" if status.config_version is not None else "current config"
    warnings = len(report.warnings)
    checked = f"{len(report.schema.models)} served model(s), {warnings} warning(s)"
    data = dump_json_stable(document)
    if check:
        assert output is not None
        _check_file(output, document, data, endpoint_name, version)
        return
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        _note(f"fetched endpoint '{endpoint_name}' ({version}): {checked}")
        return
    atomic_write_bytes(output, data)
    hint = f" (details: schemakit validate {output})" if warnings else ""
    _note(f"wrote {output}: endpoint '{endpoint_name}' ({version}), {checked}{hint}")


def _ready_status(workspace: Workspace, name: str, wait: float | None, poll: float) -> EndpointStatus:
    status = workspace.get_endpoint(name)
    if status.is_ready:
        return status
    if wait is None or wait == 0 or status.is_terminal:
        _fail(EndpointNotReadyError(workspace.explain_not_ready(status)))
    _note(terminal(f"endpoint '{name}': {status.summary()}; waiting up to {wait:g} s"))
    progress = _WaitProgress(name, status, live=sys.stderr.isatty())
    try:
        ready = workspace.wait_until_ready(name, timeout=wait, poll=poll, on_poll=progress.update)
    except EndpointNotReadyError as exc:
        progress.close()
        _fail(exc)
    progress.close()
    return ready


class _RetryNotes(logging.Handler):
    """The workspace client's retry notes (logged at INFO) as lines on stderr: a retry says what it waits for."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.INFO or "retrying in" not in record.getMessage():
            return
        message = record.getMessage()
        if _WaitProgress.current is not None:
            _WaitProgress.current.clear()
        _note(terminal(f"schemakit: {message}"))


@contextlib.contextmanager
def _retries_shown() -> Iterator[None]:
    log = logging.getLogger("schemakit.workspace")
    handler, level = _RetryNotes(), log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


class _WaitProgress:
    """What `fetch --wait` shows while it waits: the endpoint's state and each served entity's deployment.

    A line per change (CI logs); on a terminal also a live line, rewritten at every poll, with the
    seconds waited. Names and messages come from the server: shown through `terminal` (no escapes).
    """

    #: The one being drawn, so other notes can clear its live line first.
    current: _WaitProgress | None = None

    def __init__(self, name: str, status: EndpointStatus, *, live: bool) -> None:
        _WaitProgress.current = self
        self.name = name
        self.live = live
        self.summary = status.summary()
        self.entities = set(status.entity_lines())
        self.drawn = False

    def update(self, status: EndpointStatus, waited: float) -> None:
        changes = []
        if status.summary() != self.summary:
            self.summary = status.summary()
            changes.append(f"endpoint '{self.name}': {self.summary}")
        lines = status.entity_lines()
        changes += [line for line in lines if line not in self.entities]
        self.entities = set(lines)
        self.clear()
        for line in changes:
            _note(terminal(f"{line} (after {waited:.0f} s)"))
        if self.live and not status.is_ready:
            deploying = ", ".join(line.strip() for line in lines) or "no served entities yet"
            text = terminal(f"waiting for '{self.name}' ({waited:.0f} s): {self.summary}; {deploying}")
            width = max(shutil.get_terminal_size().columns - 1, 20)
            click.echo("\r\033[K" + text[:width], nl=False, err=True)
            self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            click.echo("\r\033[K", nl=False, err=True)
            self.drawn = False

    def close(self) -> None:
        self.clear()
        _WaitProgress.current = None


def _check_file(output: Path, document: Mapping[str, Any], data: bytes, name: str, version: str) -> None:
    try:
        existing_bytes = output.read_bytes()
    except FileNotFoundError:
        _note(f"{output}: does not exist; fetch it with: schemakit fetch {name} -o {output}")
        sys.exit(1)
    except OSError as exc:
        raise SourceError(f"{output}: cannot read ({exc.strerror or exc})") from None
    if existing_bytes == data:
        _note(f"{output} is up to date with endpoint '{name}' ({version})")
        return
    existing = parse_text(existing_bytes, str(output))
    if existing == document:
        _note(
            f"{output} is up to date with endpoint '{name}' ({version}); only its formatting differs "
            "(rewrite it with schemakit fetch -o to get the stable form)"
        )
        return
    differences = _differences(existing, document)
    _note(f"{output} differs from endpoint '{name}' ({version}) at {len(differences)} place(s):")
    for pointer, what in differences[:_MAX_LISTED_DIFFERENCES]:
        _note(f"  {pointer or '/'}: {what}")
    if len(differences) > _MAX_LISTED_DIFFERENCES:
        _note(f"  ... and {len(differences) - _MAX_LISTED_DIFFERENCES} more")
    _note(f"update it with: schemakit fetch {name} -o {output}  (review with: schemakit diff {output} endpoint:{name})")
    sys.exit(1)


def _differences(old: Any, new: Any, pointer: str = "") -> list[tuple[str, str]]:
    """Where two JSON values differ, as JSON pointers: enough to see what changed, not a semantic diff."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[Any, Any, str]] = [(old, new, pointer)]
    while stack and len(out) <= _MAX_LISTED_DIFFERENCES * 5:
        a, b, where = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str, reverse=True):
                child = f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}"
                if key not in b:
                    out.append((child, "only in the file"))
                elif key not in a:
                    out.append((child, "only in the endpoint's schema"))
                elif a[key] != b[key]:
                    stack.append((a[key], b[key], child))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for index in range(len(a) - 1, -1, -1):
                if a[index] != b[index]:
                    stack.append((a[index], b[index], f"{where}/{index}"))
        elif isinstance(a, list) and isinstance(b, list):
            out.append((where, f"{len(a)} item(s) in the file, {len(b)} in the endpoint's schema"))
        else:
            out.append((where, f"{_short(a)} in the file, {_short(b)} in the endpoint's schema"))
    return sorted(out)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:59] + "…"


# ---------------------------------------------------------------------------------------------------------------
# endpoint ...


@click.group()
def endpoint() -> None:
    """Look after a serving endpoint: status, stop/start, delete, logs, permissions.

    Every subcommand takes --host/--token/--profile (default: DATABRICKS_HOST and
    DATABRICKS_TOKEN, or a profile in ~/.databrickscfg) and exits 2 when it cannot run.
    """


@endpoint.command("list")
@format_option("text", "json")
@workspace_options
def list_endpoints(output_format: str, **connection: Any) -> None:
    """List the workspace's serving endpoints: state and served entities of each."""
    with _open(connection) as workspace:
        endpoints = workspace.list_endpoints()
    if output_format == "json":
        echo_json({"endpoints": [current.to_json() for current in endpoints]})
        return
    if not endpoints:
        click.echo("no serving endpoints")
        return
    width = max(len(current.name) for current in endpoints)
    for current in sorted(endpoints, key=lambda e: e.name):
        served = ", ".join(entity.name for entity in current.served_entities) or "no served entities"
        click.echo(terminal(f"{current.name.ljust(width)}  {current.summary()}  ({served})"))


@endpoint.command()
@click.argument("name")
@format_option("text", "json")
@workspace_options
def status(name: str, output_format: str, **connection: Any) -> None:
    """Show NAME's state, served entities, traffic routes and pending configuration."""
    with _open(connection) as workspace:
        current = workspace.get_endpoint(name)
    if output_format == "json":
        echo_json(current.to_json())
    else:
        click.echo(_render_status(current))


@endpoint.command()
@click.argument("name")
@format_option("text", "json")
@workspace_options
def stop(name: str, output_format: str, **connection: Any) -> None:
    """Stop NAME: its compute shuts down and queries get HTTP 400 until it is started."""
    with _open(connection) as workspace:
        current = workspace.stop(name) or workspace.get_endpoint(name)
    _report_lifecycle(current, f"stopped endpoint '{name}'", output_format)


@endpoint.command()
@click.argument("name")
@click.option(
    "--wait",
    type=SECONDS_OR_ZERO,
    metavar="SECONDS",
    help="Then wait up to this long for it to be READY.",
)
@click.option("--poll", type=SECONDS, default=2.0, show_default=True, metavar="SECONDS")
@format_option("text", "json")
@workspace_options
def start(
    name: str,
    wait: float | None,
    poll: float,
    output_format: str,
    **connection: Any,
) -> None:
    """Start a stopped endpoint NAME (with --wait, until it is READY)."""
    with _open(connection) as workspace:
        started = workspace.start(name)
        if wait:
            try:
                current = workspace.wait_until_ready(name, timeout=wait, poll=poll)
            except EndpointNotReadyError as exc:
                _fail(exc)
        else:
            current = started or workspace.get_endpoint(name)
    _report_lifecycle(current, f"started endpoint '{name}'", output_format)


@endpoint.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@format_option("text", "json")
@workspace_options
def delete(
    name: str,
    yes: bool,
    output_format: str,
    **connection: Any,
) -> None:
    """Delete endpoint NAME (asks first, unless --yes). This cannot be undone."""
    with _open(connection) as workspace:
        # Read it first: a typo should say "no such endpoint" before anyone is asked to confirm.
        current = workspace.get_endpoint(name)
        if not yes:
            click.confirm(
                f"Delete serving endpoint '{name}' ({current.summary()}) on {workspace.host}? This cannot be undone",
                abort=True,
                err=True,
            )
        workspace.delete(name)
    if output_format == "json":
        echo_json({"name": name, "deleted": True})
    else:
        click.echo(terminal(f"deleted endpoint '{name}'"))


@endpoint.command()
@click.argument("name")
@click.argument("model")
@click.option("--config-version", type=click.IntRange(min=1), metavar="N", help="Logs of this configuration version.")
@click.option("--tail", type=click.IntRange(min=1), metavar="LINES", help="Only the last LINES lines.")
@format_option("text", "json")
@workspace_options
def logs(
    name: str,
    model: str,
    config_version: int | None,
    tail: int | None,
    output_format: str,
    **connection: Any,
) -> None:
    """Show the model server logs of served model MODEL on endpoint NAME."""
    with _open(connection) as workspace:
        text = workspace.logs(name, model, config_version)
    _emit_logs(name, model, text, tail, output_format, config_version)


@endpoint.command("build-logs")
@click.argument("name")
@click.argument("model")
@click.option("--config-version", type=click.IntRange(min=1), metavar="N", help="Logs of this configuration version.")
@click.option("--tail", type=click.IntRange(min=1), metavar="LINES", help="Only the last LINES lines.")
@format_option("text", "json")
@workspace_options
def build_logs(
    name: str,
    model: str,
    config_version: int | None,
    tail: int | None,
    output_format: str,
    **connection: Any,
) -> None:
    """Show the container build logs of served model MODEL on endpoint NAME."""
    with _open(connection) as workspace:
        text = workspace.build_logs(name, model, config_version)
    _emit_logs(name, model, text, tail, output_format, config_version)


@endpoint.command()
@click.argument("name")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="[group:|sp:]PRINCIPAL=LEVEL",
    help=f"Give a user (or group:NAME, sp:APPLICATION_ID) a level: {', '.join(PERMISSION_LEVELS)}. Repeatable.",
)
@format_option("text", "json")
@workspace_options
def permissions(
    name: str,
    grants: tuple[str, ...],
    output_format: str,
    **connection: Any,
) -> None:
    """Show who may do what on endpoint NAME; --grant USER=LEVEL adds a permission."""
    parsed = [_parse_grant(text) for text in grants]
    with _open(connection) as workspace:
        acl: Permissions | None = None
        for kind, principal, level in parsed:
            acl = workspace.grant(name, principal, level, kind=kind)
            _note(f"granted {level} on endpoint '{name}' to {kind.replace('_', ' ')} {principal}")
        if acl is None:
            acl = workspace.get_permissions(name)
    if output_format == "json":
        echo_json(acl.to_json())
        return
    click.echo(terminal(f"permissions of endpoint '{name}':"))
    width = max((len(e.principal) for e in acl.entries), default=10)
    for entry in acl.entries:
        inherited = " (inherited)" if entry.inherited else ""
        click.echo(terminal(f"  {entry.principal:<{width}}  {entry.kind:<17}  {', '.join(entry.levels)}{inherited}"))


def _parse_grant(text: str) -> tuple[str, str, str]:
    principal, sep, level = text.rpartition("=")
    kinds = {"group:": "group", "sp:": "service_principal", "user:": "user"}
    kind = "user"
    for prefix, value in kinds.items():
        if principal.startswith(prefix):
            kind, principal = value, principal[len(prefix) :]
            break
    level = level.strip().upper()
    if not sep or not principal.strip():
        raise click.BadParameter(f"expected USER=LEVEL, got {text!r}", param_hint="--grant")
    if level not in PERMISSION_LEVELS:
        raise click.BadParameter(
            f"unknown level {level!r} in {text!r}: use one of {', '.join(PERMISSION_LEVELS)}", param_hint="--grant"
        )
    return kind, principal.strip(), level


def _emit_logs(
    name: str, model: str, text: str, tail: int | None, output_format: str, config_version: int | None
) -> None:
    lines = text.splitlines()
    if tail is not None:
        lines = lines[-tail:]
    if output_format == "json":
        echo_json({"endpoint": name, "served_model": model, "config_version": config_version, "lines": lines})
    else:
        for line in lines:
            click.echo(terminal(line))  # build logs are the server's text


def _report_lifecycle(current: EndpointStatus, what: str, output_format: str) -> None:
    if output_format == "json":
        echo_json(current.to_json())
    else:
        click.echo(terminal(f"{what}: {current.summary()}"))


def _render_status(status: EndpointStatus) -> str:
    lines = [f"endpoint        {status.name}" + (f" (id {status.id})" if status.id else "")]
    lines.append(f"state           {status.ready}, config update {status.config_update}")
    for key, value in status.state_details:
        lines.append(f"  {key:<13} {value}")
    if status.config_version is not None:
        lines.append(f"config version  {status.config_version}")
    if status.permission_level:
        lines.append(f"your permission {status.permission_level}")
    reason = status.not_ready_reason()
    if reason:
        lines.append(f"not ready       {reason}")
    lines.extend(_entity_table("served entities", status.served_entities))
    if status.traffic_routes:
        lines.append("traffic")
        for route in status.traffic_routes:
            lines.append(f"  {route.traffic_percentage:>3}%  {route.served_model_name}")
    pending = status.pending_config
    if pending is not None:
        version = f" (config version {pending.config_version})" if pending.config_version is not None else ""
        lines.append(f"pending config{version}")
        lines.extend("  " + line for line in _entity_table("served entities", pending.served_entities))
        for route in pending.traffic_routes:
            lines.append(f"    {route.traffic_percentage:>3}%  {route.served_model_name}")
    # Every value here is the server's text: one escaped line each.
    return "\n".join(map(terminal, lines))


def _entity_table(title: str, entities: tuple[Any, ...]) -> list[str]:
    if not entities:
        return []
    lines = [title]
    width = max(len(e.name) for e in entities)
    for entity in entities:
        what = entity.entity_name or ""
        if what and entity.entity_version:
            what += f" v{entity.entity_version}"
        message = f"  {entity.message}" if entity.message else ""
        lines.append(f"  {entity.name:<{width}}  {what:<24}  {entity.deployment or 'UNKNOWN'}{message}")
    return lines
