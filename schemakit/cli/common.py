"""Pieces every command shares: source options, loading with one-line errors, JSON output."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from schemakit._io import dump_json
from schemakit.core.load import DEFAULT_MAX_BYTES, LoadOptions
from schemakit.core.model import EndpointSchema
from schemakit.core.policy import OnErrors, acknowledge_errors, require_usable
from schemakit.core.resolve import load
from schemakit.runtime.text import terminal

__all__ = [
    "SECONDS",
    "JSON_OUTPUT_VERSION",
    "SECONDS_OR_ZERO",
    "echo_json",
    "force_option",
    "format_option",
    "load_options",
    "load_schema",
    "WORKSPACE_FLAGS",
    "reading_options",
    "source_options",
]

F = TypeVar("F", bound=Callable[..., Any])

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")


class Seconds(click.ParamType[float, Any]):
    """A finite, positive number of seconds (click's FloatRange lets NaN and infinity through)."""

    name = "seconds"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not self.allow_zero):
            self.fail(f"{value!r} is not a positive, finite number of seconds", param, ctx)
        return seconds


SECONDS = Seconds()
SECONDS_OR_ZERO = Seconds(allow_zero=True)


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        help="Output format.",
    )


_READING_OPTIONS = (
    click.option(
        "--header",
        "headers",
        multiple=True,
        metavar="NAME:VALUE",
        help="HTTP header for URL sources (repeatable). Sent only to the URL's own host.",
    ),
    click.option("--timeout", type=SECONDS, default=30.0, show_default=True, help="Seconds to wait for a URL."),
    click.option(
        "--max-bytes",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_BYTES,
        show_default=True,
        help="Refuse documents larger than this.",
    ),
    click.option(
        "--allow-remote-refs",
        is_flag=True,
        help="Follow $refs that point outside the document (refused by default).",
    ),
)

#: The same three words mean the same workspace in every command (`fetch`, `endpoint`, `endpoint:` sources).
WORKSPACE_FLAGS = (
    click.option(
        "--host",
        metavar="URL",
        help="Workspace URL (https:// is added when missing). Default: DATABRICKS_HOST or the profile's host.",
    ),
    click.option(
        "--token",
        metavar="TOKEN",
        help="Personal access token. Prefer DATABRICKS_TOKEN or a profile: a flag is visible to other "
        "local users in the process list.",
    ),
    click.option(
        "--profile",
        metavar="NAME",
        help="Profile in ~/.databrickscfg (or DATABRICKS_CONFIG_FILE). Default: DATABRICKS_CONFIG_PROFILE, "
        "then [DEFAULT].",
    ),
)


def _apply(func: F, decorators: tuple[Callable[[F], F], ...]) -> F:
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def source_options(func: F) -> F:
    """Options that say how to read sources: http(s) (headers, timeout, size) and `endpoint:` (the workspace)."""
    return _apply(func, (*_READING_OPTIONS, *WORKSPACE_FLAGS))


def reading_options(func: F) -> F:
    """`source_options` without the workspace flags, for a command whose --token means something else."""
    return _apply(func, _READING_OPTIONS)


def load_options(
    headers: tuple[str, ...] = (),
    timeout: float = 30.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_remote_refs: bool = False,
    host: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    **_: Any,
) -> LoadOptions:
    parsed: dict[str, str] = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not _HEADER_NAME.fullmatch(name.strip()):
            raise click.BadParameter(
                f"expected NAME:VALUE, got a header named {name.strip()[:40]!r}", param_hint="--header"
            )
        if not _HEADER_VALUE.fullmatch(value.strip()):
            # Never echo the value: headers carry credentials.
            raise click.BadParameter(
                f"the value of header {name.strip()!r} holds a control or non-ASCII character",
                param_hint="--header",
            )
        parsed[name.strip()] = value.strip()
    return LoadOptions(
        headers=parsed,
        timeout=timeout,
        max_bytes=max_bytes,
        allow_remote_refs=allow_remote_refs,
        workspace_host=host,
        workspace_token=token,
        workspace_profile=profile,
    )


def load_schema(
    source: str,
    options: LoadOptions | None = None,
    *,
    need_models: bool = True,
    on_errors: OnErrors = "refuse",
    force: bool = False,
) -> EndpointSchema:
    """Load and resolve, under the library's policy (`schemakit.core.policy`); a warning goes to stderr.

    With `force` (the command's --force) a document with errors is used, the warning says so, and the
    models handed on carry the errors acknowledged (the library does not refuse them again).
    """
    schema = load(source, options)
    warning = require_usable(schema, source, need_models=need_models, on_errors=on_errors, force=force)
    if warning is not None:
        click.echo(terminal(f"schemakit: warning: {warning}"), err=True)
    return acknowledge_errors(schema) if force else schema


#: `--force`: use a document with errors anyway (the library's `force=True`), saying so on stderr.
force_option = click.option(
    "--force", is_flag=True, help="Use a document with errors anyway (a warning says so); refused otherwise."
)


#: The version of the shape of every command's JSON output (bumped only on an incompatible change).
JSON_OUTPUT_VERSION = 1


def echo_json(value: dict[str, Any]) -> None:
    """A command's JSON output: always an object, whose first key is `schema_version`."""
    if "schema_version" not in value:
        value = {"schema_version": JSON_OUTPUT_VERSION, **value}
    click.echo(dump_json(value).decode())
