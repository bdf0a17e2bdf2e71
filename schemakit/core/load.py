"""Reading documents and payloads from every kind of source.

A *source* is a string, as a user types it on the command line:

- a file path (JSON or YAML), or `-` for standard input;
- an `http://` or `https://` URL (headers, a timeout and a size cap apply);
- `git:REV:PATH`, a file as it is at a git revision of the current repository;
- `endpoint:NAME` or `endpoint:PROFILE/NAME`, the live schema of a workspace endpoint;
- `mlflow:PATH` (or an MLflow URI), a document built from an MLflow model's signature.

Every failure is a `SourceError` with one line that says what and where.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

if TYPE_CHECKING:
    pass

from schemakit._exceptions import (
    NotOpenAPIError,
    ParseError,
    RemoteFetchError,
    SourceError,
    SourceNotFound,
    TooLargeError,
    UnsupportedVersionError,
)
from schemakit.core.sources import kind_of
from schemakit.runtime import http

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_NODES",
    "LoadOptions",
    "check_openapi",
    "check_shape",
    "display_name",
    "load_document",
    "parse_text",
    "read_source_bytes",
]

#: Documents are a few kilobytes; 64 MiB is far beyond any real one and still safe to hold.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Real documents nest about 20 levels; deeper input is hostile or broken.
DEFAULT_MAX_DEPTH = 128
#: YAML aliases can make a small file describe an enormous tree; cap the nodes we will walk.
DEFAULT_MAX_NODES = 2_000_000


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to read a source. The defaults are safe for untrusted input."""

    headers: Mapping[str, str] | None = None
    timeout: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES
    allow_remote_refs: bool = False
    #: The workspace that `endpoint:` sources read from; unset parts come from the environment or a profile.
    workspace_host: str | None = None
    workspace_profile: str | None = None
    workspace_token: str | None = field(default=None, repr=False)


def read_source_bytes(source: str, options: LoadOptions | None = None) -> bytes:
    """The raw bytes behind a source whose kind reads bytes (a file, `-`, a URL, `git:`)."""
    opts = options or LoadOptions()
    kind = kind_of(source)
    if kind.produces != "bytes":
        raise SourceError(f"{display_name(source)}: a {kind.name} source gives a document, not a file to read")
    data: bytes = kind.read(source, opts)
    return data


def load_document(source: str, options: LoadOptions | None = None) -> dict[str, Any]:
    """Read a source and return the OpenAPI document it holds, checked to be one."""
    opts = options or LoadOptions()
    kind = kind_of(source)
    if kind.produces == "document":
        document: Any = kind.read(source, opts)
    else:
        document = parse_text(kind.read(source, opts), display_name(source), opts)
    return check_openapi(document, display_name(source))


def read_file_source(source: str, options: LoadOptions) -> bytes:
    return _read_file(source, options.max_bytes)


def read_stdin_source(source: str, options: LoadOptions) -> bytes:
    return _read_stdin(options.max_bytes)


def read_git_source(source: str, options: LoadOptions) -> bytes:
    return _read_git(source, options.max_bytes)


def read_url_source(source: str, options: LoadOptions) -> bytes:
    return _read_url(source, options)


def parse_text(data: bytes | str, where: str, options: LoadOptions | None = None) -> Any:
    """Parse JSON (or YAML, when the text is not JSON) with line and column in errors."""
    opts = options or LoadOptions()
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > opts.max_bytes:
        raise TooLargeError(f"{where}: {len(raw):,} bytes is over the {opts.max_bytes:,}-byte limit")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    stripped = raw.lstrip()
    if not stripped:
        raise ParseError(f"{where}: empty input, expected a JSON or YAML document", line=1, column=1)
    # A YAML flow mapping (`{openapi: 3.1.0, ...}`) starts like JSON; a .yaml name says which it is.
    looks_like_json = (stripped[:1] in (b"{", b"[", b'"') and not where.endswith((".yaml", ".yml"))) or where.endswith(
        ".json"
    )
    from_yaml = False
    try:
        value: Any = _read_json_exactly(raw, where) if _LONG_NUMBER.search(raw) else orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise TooLargeError(f"{where}: nested more than {opts.max_depth} levels deep") from None
        if looks_like_json:
            raise _json_error(raw, where) from None
        value = _parse_yaml(raw, where, opts.max_depth)
        from_yaml = True
    except RecursionError:
        raise TooLargeError(f"{where}: nested more than {opts.max_depth} levels deep") from None
    check_shape(value, where, opts.max_depth, opts.max_nodes)
    return _json_compatible(value) if from_yaml else value


#: orjson reads integers beyond 64 bits as floats, silently; such documents go to the stdlib parser.
_LONG_NUMBER = re.compile(rb"\d{20,}")


#: Python refuses to read integers longer than this (a guard against quadratic conversion).
_MAX_INT_DIGITS = 4300
_HUGE_INTEGER = re.compile(rb"\d{%d,}" % (_MAX_INT_DIGITS + 1))


def _huge_integer_error(raw: bytes, where: str) -> ParseError:
    huge = _HUGE_INTEGER.search(raw)
    if huge is None:
        return ParseError(f"{where}: a number with more than {_MAX_INT_DIGITS:,} digits")
    line = raw.count(b"\n", 0, huge.start()) + 1
    column = huge.start() - (raw.rfind(b"\n", 0, huge.start()) + 1) + 1
    return ParseError(
        f"{where}: line {line}, column {column}: a number with {len(huge.group(0)):,} digits "
        f"(more than the {_MAX_INT_DIGITS:,} schemakit reads)"
    )


def _is_huge_integer(exc: ValueError) -> bool:
    return "integer string conversion" in str(exc)


def _read_json_exactly(raw: bytes, where: str = "<document>") -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except ValueError as exc:
        if _is_huge_integer(exc):
            raise _huge_integer_error(raw, where) from None
        # Let orjson produce the error (and the caller its line and column), or read it as YAML.
        return orjson.loads(raw)
    except UnicodeDecodeError:
        # Let orjson produce the error (and the caller its line and column), or read it as YAML.
        return orjson.loads(raw)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_compatible(value: Any) -> Any:
    """YAML's extra types as the JSON a server would send: `200:` keys become "200", dates ISO-8601 text."""
    if isinstance(value, dict):
        return {_json_key(k): _json_compatible(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_compatible(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return str(_json_compatible(key))


def check_shape(value: Any, where: str, max_depth: int, max_nodes: int) -> None:
    """Refuse values nested too deeply or with too many nodes, without recursing."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise TooLargeError(f"{where}: more than {max_nodes:,} values (YAML aliases expand it too far?)")
        if isinstance(node, dict):
            if depth > max_depth:
                raise TooLargeError(f"{where}: nested more than {max_depth} levels deep")
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            if depth > max_depth:
                raise TooLargeError(f"{where}: nested more than {max_depth} levels deep")
            stack.extend((child, depth + 1) for child in node)


def check_openapi(document: Any, where: str) -> dict[str, Any]:
    """The document, if it is an OpenAPI 3.0 or 3.1 document; else a one-line error."""
    if not isinstance(document, dict):
        raise NotOpenAPIError(
            f"{where}: not an OpenAPI document (the top level is {_json_type(document)}, expected an object)"
        )
    version = document.get("openapi")
    if version is None:
        if "swagger" in document:
            raise UnsupportedVersionError(
                f"{where}: Swagger {document.get('swagger')} is not supported; serving schemas are OpenAPI 3.x"
            )
        raise NotOpenAPIError(f"{where}: not an OpenAPI document (no top-level 'openapi' field)")
    if not isinstance(version, str):
        raise NotOpenAPIError(f"{where}: 'openapi' must be a version string such as \"3.1.0\", got {version!r}")
    if not (version.startswith("3.0") or version.startswith("3.1")):
        raise UnsupportedVersionError(f"{where}: OpenAPI {version} is not supported (schemakit reads 3.0.x and 3.1.x)")
    return document


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


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _json_error(raw: bytes, where: str) -> ParseError:
    # orjson's messages lack positions; the stdlib parser reports line and column.
    text = raw.decode("utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return ParseError(
            f"{where}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno
        )
    except RecursionError:
        return ParseError(f"{where}: not valid JSON (nested too deeply to read)")
    except ValueError as exc:  # json.loads accepts NaN; what remains is encoding trouble
        return ParseError(f"{where}: not valid JSON: {exc}")
    return ParseError(f"{where}: not valid JSON (invalid UTF-8, or a number JSON cannot hold)")


def _parse_yaml(raw: bytes, where: str, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    import yaml  # only YAML documents need it; JSON ones load without it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader, chosen above
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem or ""):
            raise TooLargeError(f"{where}: nested more than {max_depth} levels deep") from None
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        position = f":{line}:{column}" if line is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ParseError(f"{where}{position}: not valid JSON or YAML: {problem}", line=line, column=column) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"{where}: not valid JSON or YAML: {str(exc).splitlines()[0]}") from None
    except ValueError as exc:
        if _is_huge_integer(exc):
            raise _huge_integer_error(raw, where) from None
        raise ParseError(f"{where}: not valid YAML: {str(exc).splitlines()[0][:200]}") from None
    except RecursionError:
        raise TooLargeError(f"{where}: nested too deeply to read") from None


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
