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
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from schemakit._exceptions import RemoteFetchError, SourceError, SourceNotFound, TooLargeError
from schemakit.core.options import LoadOptions
from schemakit.runtime import http

__all__ = [
    "Reader",
    "SourceKind",
    "display_name",
    "is_local",
    "kind_of",
    "register_source",
    "source_kinds",
]

Produces = Literal["bytes", "document"]
#: What reads a source: a function of (source, options), or a feature's `module:function` imported on first use
#: (so the core never imports a feature).
Reader = str | Callable[[str, LoadOptions], Any]


@dataclass(frozen=True, slots=True)
class SourceKind:
    """One kind of source: how it is recognised, what reads it, and whether it reads this machine."""

    name: str
    #: Prefixes that select this kind; the empty tuple marks the fallback (a file path).
    prefixes: tuple[str, ...]
    reader: Reader
    produces: Produces
    local: bool
    description: str

    def matches(self, source: str) -> bool:
        return source.startswith(self.prefixes) if self.prefixes else False

    def read(self, source: str, options: LoadOptions) -> Any:
        if callable(self.reader):
            return self.reader(source, options)
        module_name, _, attribute = self.reader.partition(":")
        function: Callable[[str, LoadOptions], Any] = getattr(importlib.import_module(module_name), attribute)
        return function(source, options)


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


def display_name(source: str) -> str:
    """A source as messages name it: a URL without credentials or query string."""
    if source == "-":
        return "<stdin>"
    if source.startswith(("http://", "https://")):
        # A URL may carry credentials or signed query strings; name only host, port and path.
        try:
            parts = urlsplit(source)
            port = f":{parts.port}" if parts.port is not None else ""
        except ValueError:
            return source.split("://", 1)[0] + "://(invalid URL)"
        return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
    return source


# -- the core's own readers: bytes from a file, standard input, git or a URL --------------------


def _read_file_source(source: str, options: LoadOptions) -> bytes:
    return _read_file(source, options.max_bytes)


def _read_stdin_source(source: str, options: LoadOptions) -> bytes:
    return _read_stdin(options.max_bytes)


def _read_git_source(source: str, options: LoadOptions) -> bytes:
    return _read_git(source, options.max_bytes)


def _read_url_source(source: str, options: LoadOptions) -> bytes:
    return _read_url(source, options)


def _read_file(path: str, max_bytes: int) -> bytes:
    target = Path(path)
    try:
        size = target.stat().st_size
        if target.is_dir():
            raise SourceError(f"{path}: is a directory, expected a file")
        if size > max_bytes:
            raise TooLargeError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte limit")
        with target.open("rb") as handle:
            data = _read_at_most(handle, max_bytes + 1)
    except FileNotFoundError:
        raise SourceNotFound(f"{path}: no such file") from None
    except PermissionError:
        raise SourceNotFound(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, expected a file") from None
    except OSError as exc:
        raise SourceNotFound(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise TooLargeError(f"{path}: over the {max_bytes:,}-byte limit")
    return data


def _read_stdin(max_bytes: int) -> bytes:
    stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    if stream is None:
        raise SourceNotFound("<stdin>: standard input is not available")
    data = _read_at_most(stream, max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLargeError(f"<stdin>: over the {max_bytes:,}-byte limit")
    return data


def _read_at_most(stream: Any, limit: int) -> bytes:
    """Up to `limit` bytes, a MiB at a time: `read(limit)` allocates `limit` bytes at once (any --max-bytes)."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = stream.read(min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _read_git(source: str, max_bytes: int) -> bytes:
    spec = source[len("git:") :]
    rev, sep, path = spec.partition(":")
    if not sep or not rev or not path:
        raise SourceError(f"{source}: expected git:REV:PATH, for example git:origin/main:schemas/ads.json")
    if rev.startswith("-"):
        raise SourceError(f"{source}: a revision cannot start with '-'")
    try:
        result = subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError:
        raise SourceError(f"{source}: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"{source}: git did not answer within 60 s") from None
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1] if reason else f"git exited with {result.returncode}"
        raise SourceNotFound(f"{source}: {detail.removeprefix('fatal: ')}")
    if len(result.stdout) > max_bytes:
        raise TooLargeError(f"{source}: over the {max_bytes:,}-byte limit")
    return result.stdout


def _read_url(url: str, opts: LoadOptions) -> bytes:
    import httpx

    where = display_name(url)
    headers = dict(opts.headers or {})
    secrets = tuple(headers.values())
    try:
        parts = urlsplit(url)
        valid = bool(parts.hostname) and (parts.port is None or 0 < parts.port < 65536)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        valid = False
    if not valid:
        raise SourceError(f"{where}: not a valid http(s) URL (expected http[s]://HOST[:PORT]/PATH)")
    try:
        with httpx.Client(follow_redirects=False) as client:
            # The user's headers count as credentials: they go only to the URL's own origin.
            reply = http.send(
                client,
                "GET",
                url,
                credentials=lambda: headers,
                deadline=http.Deadline(opts.timeout),
                max_bytes=opts.max_bytes,
                max_redirects=9,  # ten requests in all
            )
    except http.BodyTooLarge as over:
        size = f"{over.declared:,} bytes is " if over.declared is not None else ""
        raise TooLargeError(f"{where}: {size}over the {opts.max_bytes:,}-byte limit") from None
    except http.TooManyRedirects as exc:
        problem = "too many redirects" if exc.looped else "redirected to a non-http location"
        raise RemoteFetchError(f"{where}: {problem}") from None
    except (http.DeadlineExceeded, httpx.TimeoutException):
        raise RemoteFetchError(f"{where}: no answer within {opts.timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise RemoteFetchError(f"{where}: cannot connect ({http.scrub(_first_line(exc), secrets)})") from None
    except httpx.HTTPError as exc:
        raise RemoteFetchError(f"{where}: {type(exc).__name__}: {http.scrub(_first_line(exc), secrets)}") from None
    except (UnicodeError, ValueError) as exc:  # a header httpx cannot encode
        raise RemoteFetchError(f"{where}: cannot send the request: {http.scrub(_first_line(exc), secrets)}") from None
    if reply.status >= 400:
        raise RemoteFetchError(f"{where}: HTTP {reply.status} {reply.reason}".rstrip())
    if reply.status >= 300:
        # A redirect with no usable Location: its body is not the document.
        raise RemoteFetchError(f"{where}: HTTP {reply.status} redirect without a Location to follow")
    if reply.status != 200:
        raise RemoteFetchError(f"{where}: HTTP {reply.status} {reply.reason}: expected 200 with the document")
    return reply.body


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- the table ------------------------------------------------------------------------------------------

_KINDS: list[SourceKind] = [
    SourceKind("stdin", ("-",), _read_stdin_source, "bytes", True, "standard input"),
    SourceKind(
        "url",
        ("http://", "https://"),
        _read_url_source,
        "bytes",
        False,
        "an http(s) URL (--header, --timeout, --max-bytes)",
    ),
    SourceKind("git", ("git:",), _read_git_source, "bytes", True, "a file at a git revision"),
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
_FILE = SourceKind("file", (), _read_file_source, "bytes", True, "a JSON or YAML file")
