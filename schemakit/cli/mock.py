"""`schemakit mock`: serve schema documents as a local serving-endpoints workspace."""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from schemakit.cli.common import SECONDS_OR_ZERO, load_options, reading_options
from schemakit.mock.core import DEFAULT_MAX_BODY_BYTES
from schemakit.mock.server import DEFAULT_TOKEN, MockServer
from schemakit.mock.state import PERMISSION_LEVELS, EndpointSettings, UserSpec

__all__ = ["mock"]


def _pairs(values: tuple[str, ...], option: str, what: str) -> list[tuple[str, str]]:
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip() or not rest.strip():
            raise click.BadParameter(f"expected {what}, got {name.strip()!r}=...", param_hint=option)
        out.append((name.strip(), rest.strip()))
    return out


@click.command()
@click.argument("specs", metavar="SPEC...", nargs=-1, required=True)
@click.option(
    "--bind", metavar="ADDRESS", default="127.0.0.1", show_default=True, help="Address to listen on (loopback)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--token",
    envvar="SCHEMAKIT_MOCK_TOKEN",
    default=DEFAULT_TOKEN,
    show_default=True,
    show_envvar=True,
    help="The admin's bearer token (CAN_MANAGE on every endpoint).",
)
@click.option("--user", "users", multiple=True, metavar="NAME=TOKEN", help="Another principal (repeatable).")
@click.option(
    "--service-principal",
    "service_principals",
    multiple=True,
    metavar="CLIENT_ID=SECRET",
    help="A service principal that signs in with OAuth M2M at /oidc/v1/token (repeatable); grant it by client id.",
)
@click.option(
    "--registry",
    "registry",
    multiple=True,
    metavar="NAME/VERSION=SPEC",
    help="A model version that create and update may name as a served entity, e.g."
    " main.default.ads/3=ads-v3.json (repeatable).",
)
@click.option(
    "--update-seconds",
    type=click.FloatRange(0, 3600),
    default=2.0,
    show_default=True,
    help="How long a create or config update stays IN_PROGRESS.",
)
@click.option(
    "--route-optimized",
    "route_optimized",
    multiple=True,
    metavar="ENDPOINT",
    help="Serve ENDPOINT route-optimized: on the data-plane listener only, with OAuth tokens only (repeatable).",
)
@click.option(
    "--inference-dir",
    type=click.Path(file_okay=False),
    help="Write AI Gateway inference tables here (JSON Lines, one row per query) for endpoints that enable one.",
)
@click.option(
    "--oauth-token-seconds",
    type=click.FloatRange(min=0.1, max=86400),
    default=3600.0,
    show_default=True,
    help="How long an OAuth access token lives (short values exercise a client's refresh).",
)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="ENDPOINT:PRINCIPAL=LEVEL",
    help="Give a user or group CAN_MANAGE, CAN_QUERY or CAN_VIEW on an endpoint (repeatable).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Settings file (JSON or YAML): users, and per-endpoint settings and permissions. Read only.",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False),
    help="Keep stop/start/delete/permission changes here across restarts (same format as --config).",
)
@click.option("--ready-after-polls", type=click.IntRange(min=0), help="Stay NOT_READY for the first N detail GETs.")
@click.option("--ready-after-seconds", type=SECONDS_OR_ZERO, help="Stay NOT_READY for N seconds after start-up.")
@click.option("--deployment-failed", is_flag=True, default=None, help="The update ends in UPDATE_FAILED.")
@click.option("--failure-message", help="The deployment_state_message (and build-log tail) of a failed update.")
@click.option("--no-schema", is_flag=True, default=None, help="Served models have no signature: /openapi fails.")
@click.option("--throttle-queries", type=click.IntRange(min=0), help="Answer the first K queries with 429.")
@click.option("--retry-after", type=click.IntRange(min=0), help="Retry-After seconds on 429 answers [default: 1].")
@click.option(
    "--unavailable-queries", type=click.IntRange(min=0), help="Answer the next K queries (after any 429s) with 503."
)
@click.option("--latency", type=click.FloatRange(0, 60), help="Seconds added to every query.")
@click.option(
    "--traffic",
    "traffic",
    multiple=True,
    metavar="MODEL=PERCENT",
    help="Traffic split of the endpoint serving MODEL (repeatable; an endpoint's shares sum to 100,"
    " models not named get 0). Default: even.",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BODY_BYTES,
    show_default=True,
    help="Larger request bodies get 413.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each request line (never headers) to stderr.")
@reading_options
def mock(
    specs: tuple[str, ...],
    bind: str,
    port: int,
    token: str,
    users: tuple[str, ...],
    service_principals: tuple[str, ...],
    registry: tuple[str, ...],
    update_seconds: float,
    inference_dir: str | None,
    route_optimized: tuple[str, ...],
    oauth_token_seconds: float,
    grants: tuple[str, ...],
    config_file: str | None,
    state_file: str | None,
    traffic: tuple[str, ...],
    max_body_bytes: int,
    verbose: bool,
    **options: Any,
) -> None:
    """Serve each SPEC as an endpoint of a local serving-endpoints workspace.

    The endpoint is named by the document's info.title. The server speaks the
    Databricks REST API (/api/2.0/serving-endpoints/..., permissions, and
    /serving-endpoints/NAME/invocations). The first line on stdout is the base
    URL (use it as DATABRICKS_HOST); Ctrl-C or SIGTERM stops it with exit 0.

    Fault flags apply to every endpoint; an endpoint's entry in --config or
    --state-file overrides them for that endpoint.
    """
    if not token:
        raise click.BadParameter("must not be empty", param_hint="--token")
    fault_names = (
        "ready_after_polls",
        "ready_after_seconds",
        "deployment_failed",
        "failure_message",
        "no_schema",
        "throttle_queries",
        "retry_after",
        "unavailable_queries",
        "latency",
    )
    changes: dict[str, Any] = {k: options.pop(k) for k in fault_names if options.get(k) is not None}
    options = {k: v for k, v in options.items() if k not in fault_names}
    address = bind
    split: dict[str, int] = {}
    for model, pct in _pairs(traffic, "--traffic", "MODEL=PERCENT"):
        if not pct.isdigit():
            raise click.BadParameter(f"{model}: percentage must be a whole number, got {pct!r}", param_hint="--traffic")
        split[model] = int(pct)
    user_specs = [UserSpec(name, user_token) for name, user_token in _pairs(users, "--user", "NAME=TOKEN")]
    grant_triples = [_grant(value) for value in grants]

    def log(line: str) -> None:
        click.echo(f"schemakit mock: {line}", err=True)

    try:
        EndpointSettings().replace(**changes)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        server = MockServer(
            specs,
            token=token,
            host=address,
            port=port,
            state_file=state_file,
            config=config_file,
            max_body_bytes=max_body_bytes,
            users=user_specs,
            service_principals=dict(_pairs(service_principals, "--service-principal", "CLIENT_ID=SECRET")),
            oauth_token_seconds=oauth_token_seconds,
            registry=dict(_pairs(registry, "--registry", "NAME/VERSION=SPEC")),
            update_seconds=update_seconds,
            inference_dir=inference_dir,
            route_optimized=route_optimized,
            access_log=log if verbose else None,
            load_options=load_options(**options),
            **changes,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    _apply(server, split, grant_triples)
    server.bind()

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            # shutdown() waits for serve_forever, which runs in this (the main) thread: ask from another.
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    click.echo(server.url)
    sys.stdout.flush()
    for name in server.endpoints:
        schema = server.workspace.schema(name)
        models = ", ".join(m.name for m in schema.models)
        log(f"endpoint {name}: {server.url}/serving-endpoints/{name}/invocations (served models: {models})")
    if not _is_loopback(address) and token == DEFAULT_TOKEN:
        log(f"warning: listening on {address} with the default admin token; pass --token")
    log(f"data plane (route-optimized endpoints): {server.data_plane_url}")
    log("press Ctrl-C to stop")
    server.serve_forever()
    log("stopped")
    sys.exit(0)


def _grant(value: str) -> tuple[str, str, str]:
    endpoint, colon, rest = value.partition(":")
    principal, equals, level = rest.partition("=")
    if not colon or not equals or not endpoint or not principal:
        raise click.BadParameter(f"expected ENDPOINT:PRINCIPAL=LEVEL, got {value!r}", param_hint="--grant")
    level = level.strip().upper()
    if level not in PERMISSION_LEVELS:
        raise click.BadParameter(
            f"level must be one of {', '.join(PERMISSION_LEVELS)}, got {level!r}", param_hint="--grant"
        )
    return endpoint.strip(), principal.strip(), level


def _apply(server: MockServer, split: dict[str, int], grants: list[tuple[str, str, str]]) -> None:
    """The options that name endpoints and models, applied by the library; its errors name the option."""
    if split:
        try:
            server.workspace.split_traffic(split)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--traffic") from None
    for endpoint, principal, level in grants:
        try:
            server.workspace.set_permission(endpoint, principal, level)
        except (KeyError, ValueError) as exc:
            raise click.BadParameter(str(exc).strip("\"'"), param_hint="--grant") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
