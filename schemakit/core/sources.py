"""Where a document comes from: the table of source kinds the core reads.

A *source* is a string as a user types it: a file path, `-`, an `http(s)://` URL,
`git:REV:PATH`, `endpoint:[PROFILE/]NAME`, `mlflow:PATH`. Each kind is a `SourceKind`
in one table, matched by prefix. The core's own kinds read bytes; features add
kinds that produce a whole document (the workspace client registers `endpoint:`,
the MLflow bridge `mlflow:`). Feature readers are named by dotted path and imported
only when a source of their kind is read, so the core never imports a feature (no
import cycle) and `import schemakit` stays fast. `register_source` adds a kind at
run time, for plugins and tests.

Each kind says whether it reads the user's own machine (`local`). A document fetched
from the network may reference only its own origin, never a local kind: a remote
document must not be able to read a file or a git revision by naming it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from schemakit._exceptions import RemoteRefError, SourceError

if TYPE_CHECKING:
    from schemakit.core.load import LoadOptions

__all__ = [
    "SourceKind",
    "fetch_reference",
    "is_local",
    "kind_of",
    "register_source",
    "source_kinds",
]

Produces = Literal["bytes", "document"]


@dataclass(frozen=True, slots=True)
class SourceKind:
    """One kind of source: how it is recognised, what reads it, and whether it reads this machine."""

    name: str
    #: Prefixes that select this kind; the empty tuple marks the fallback (a file path).
    prefixes: tuple[str, ...]
    #: `module:function`, imported on first use; the function takes (source, options).
    reader: str
    produces: Produces
    local: bool
    description: str

    def matches(self, source: str) -> bool:
        return source.startswith(self.prefixes) if self.prefixes else False

    def read(self, source: str, options: LoadOptions) -> Any:
        module_name, _, attribute = self.reader.partition(":")
        function: Callable[[str, LoadOptions], Any] = getattr(importlib.import_module(module_name), attribute)
        return function(source, options)


_KINDS: list[SourceKind] = [
    SourceKind("stdin", ("-",), "schemakit.core.load:read_stdin_source", "bytes", True, "standard input"),
    SourceKind(
        "url",
        ("http://", "https://"),
        "schemakit.core.load:read_url_source",
        "bytes",
        False,
        "an http(s) URL (--header, --timeout, --max-bytes)",
    ),
    SourceKind("git", ("git:",), "schemakit.core.load:read_git_source", "bytes", True, "a file at a git revision"),
    SourceKind(
        "endpoint",
        ("endpoint:",),
        "schemakit.workspace.client:read_endpoint_source",
        "document",
        False,
        "the live schema of a workspace endpoint (endpoint:[PROFILE/]NAME)",
    ),
    SourceKind(
        "mlflow",
        ("mlflow:",),
        "schemakit.mlflow.document:read_mlflow_source",
        "document",
        True,
        "a document built from an MLflow model's signature",
    ),
]
_FILE = SourceKind("file", (), "schemakit.core.load:read_file_source", "bytes", True, "a JSON or YAML file")


def register_source(kind: SourceKind) -> None:
    """Add (or replace, by name) a kind of source; later registrations are matched first."""
    _KINDS[:] = [k for k in _KINDS if k.name != kind.name]
    _KINDS.insert(0, kind)


def source_kinds() -> tuple[SourceKind, ...]:
    return (*_KINDS, _FILE)


def kind_of(source: str) -> SourceKind:
    """The kind a source string names (a file path when no prefix matches)."""
    if source == "-":
        return _kind_named("stdin")
    for kind in _KINDS:
        if kind.name != "stdin" and kind.matches(source):
            return kind
    return _FILE


def _kind_named(name: str) -> SourceKind:
    for kind in _KINDS:
        if kind.name == name:
            return kind
    raise SourceError(f"no source kind named {name!r}")


def is_local(source: str) -> bool:
    return kind_of(source).local


def fetch_reference(uri: str, referrer: str, options: LoadOptions) -> Any:
    """The JSON value behind a remote `$ref` (only with --allow-remote-refs).

    A document from the network may reference its own origin only; the caller's
    headers (a token) go only to the referrer's origin. A fragment is parsed, never
    checked to be an OpenAPI document, and cannot itself allow further remote refs.
    """
    from schemakit.core.load import LoadOptions, display_name, parse_text, read_source_bytes
    from schemakit.runtime.http import same_origin

    target = kind_of(uri)
    if target.produces != "bytes":
        raise RemoteRefError(f"{display_name(uri)}: a $ref cannot name a {target.name} source")
    if not kind_of(referrer).local:
        if target.local or not same_origin(uri, referrer):
            raise RemoteRefError(
                f"{display_name(uri)}: a document fetched from {display_name(referrer)} may reference only "
                "its own origin, never a local file, a git revision or another host"
            )
    elif target.name == "stdin":
        raise RemoteRefError("a $ref cannot name standard input")
    headers = options.headers if target.name == "url" and same_origin(uri, referrer) else None
    fetch_options = LoadOptions(
        headers=headers,
        timeout=options.timeout,
        max_bytes=options.max_bytes,
        max_depth=options.max_depth,
        max_nodes=options.max_nodes,
        allow_remote_refs=False,
    )
    return parse_text(read_source_bytes(uri, fetch_options), display_name(uri), fetch_options)
