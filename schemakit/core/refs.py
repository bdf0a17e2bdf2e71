"""`$ref` resolution: local references inlined, cycles reported, remote ones refused.

A document must never make schemakit reach the network or the file system on
its own, so any reference outside the document raises `RemoteRefError` unless
the caller opted in with `allow_remote=True`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urljoin

from schemakit._exceptions import RefError, RemoteRefError, TooLargeError
from schemakit.core.model import Diagnostic

__all__ = ["check_expansion", "escape_token", "inline_refs", "refuse_remote_refs", "resolve_pointer"]

#: Inlining copies referenced subtrees; a chain of references can multiply a small
#: document. Past this many nodes the document is refused as too large.
MAX_INLINED_NODES = 2_000_000
#: References can also nest a schema ever deeper (A holds B holds C ...); past this many
#: levels the document is refused, as a deeply nested file is when it is read.
MAX_INLINED_DEPTH = 128

Fetch = Callable[[str], Any]


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (`/a/b/0`); KeyError when there is none."""
    if pointer in ("", "/"):
        return document
    if not pointer.startswith("/"):
        raise KeyError(pointer)
    node = document
    for raw in pointer[1:].split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and _is_index(token) and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(pointer)
    return node


def _short(pointer: str) -> str:
    return pointer if len(pointer) <= 160 else pointer[:160] + "..."


def _is_index(token: str) -> bool:
    # ASCII digits only, and short: `int()` refuses 4,300 digits, and no list is longer than 18 of them.
    return 0 < len(token) <= 18 and token.isascii() and token.isdigit()


def escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def refuse_remote_refs(document: Any, where: str) -> None:
    """Raise RemoteRefError for the first `$ref` anywhere in the document that leaves it."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                raise RemoteRefError(
                    f"{where}: $ref {ref!r:.100} at {pointer or '/'} points outside the document; "
                    "remote references are refused by default (a document may not make schemakit fetch anything)"
                )
            stack.extend((v, f"{pointer}/{escape_token(str(k))}") for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{pointer}/{i}") for i, v in enumerate(node))


def check_expansion(document: Mapping[str, Any], where: str, limit: int | None = None) -> int:
    """How many values inlining `paths` produces; TooLargeError, before any work, past `limit` or too deep.

    Each local reference target is counted once and its size remembered, so a chain of
    references that doubles at every step (a "billion laughs" of `$ref`s) is refused in time
    linear in the document, not in its expansion. References to other documents count as one
    value here (inlining holds them to the same limit as it fetches them).
    """
    bound = MAX_INLINED_NODES if limit is None else limit
    sizes: dict[str, int] = {}
    active: set[str] = set()

    def too_large() -> TooLargeError:
        return TooLargeError(f"{where}: references expand the document past {bound:,} values")

    def size(node: Any, pointer: str, depth: int) -> int:
        if (depth > MAX_INLINED_DEPTH or len(active) > MAX_INLINED_DEPTH) and isinstance(node, (dict, list)):
            raise TooLargeError(
                f"{where}: references nest the schema more than {MAX_INLINED_DEPTH} levels deep (at {_short(pointer)})"
            )
        if isinstance(node, list):
            total = 1 + sum(size(v, f"{pointer}/{i}", depth + 1) for i, v in enumerate(node))
        elif not isinstance(node, dict):
            return 1
        else:
            ref = node.get("$ref")
            children = sum(
                size(v, f"{pointer}/{escape_token(str(k))}", depth + 1) for k, v in node.items() if k != "$ref"
            )
            if isinstance(ref, str) and ref.startswith("#"):
                total = children + (1 if ref in active else _target_size(ref, pointer, depth))
            else:
                total = 1 + children
        if total > bound:
            raise too_large()
        return total

    def _target_size(ref: str, pointer: str, depth: int) -> int:
        if ref not in sizes:
            try:
                target = resolve_pointer(document, ref[1:])
            except KeyError:
                return 1  # reported by inlining as ref-unresolved
            active.add(ref)
            try:
                sizes[ref] = size(target, pointer, depth)
            finally:
                active.discard(ref)
        return sizes[ref]

    return size(document["paths"], "/paths", 1)


def inline_refs(
    document: dict[str, Any],
    *,
    where: str,
    allow_remote: bool = False,
    base_uri: str | None = None,
    fetch: Fetch | None = None,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """A copy of `document` whose `$ref`s below `paths` are replaced by what they point to.

    `components` is left as it is (it is only reached through references). A
    reference cycle is reported as an error diagnostic and replaced by `{}`
    (any value), so one run still reports everything else.
    """
    if not allow_remote:
        refuse_remote_refs(document, where)
    if "paths" in document:
        check_expansion(document, where)
    diagnostics: list[Diagnostic] = []
    budget = [MAX_INLINED_NODES]
    external: dict[str, Any] = {}

    def load_external(uri: str, pointer_here: str) -> Any:
        if not allow_remote:
            raise RemoteRefError(
                f"{where}: $ref {uri!r:.100} at {pointer_here or '/'} points outside the document; "
                "remote references are refused by default (a document may not make schemakit fetch anything)"
            )
        if fetch is None:
            raise RefError(f"{where}: $ref {uri!r:.100} at {pointer_here}: no way to fetch external references here")
        if uri not in external:
            external[uri] = fetch(uri)
        return external[uri]

    def walk(node: Any, pointer: str, active: tuple[str, ...], root: Any, root_uri: str, depth: int = 1) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise TooLargeError(f"{where}: references expand the document past {MAX_INLINED_NODES:,} values")
        if (depth > MAX_INLINED_DEPTH or len(active) > MAX_INLINED_DEPTH) and isinstance(node, (dict, list)):
            raise TooLargeError(
                f"{where}: references nest the schema more than {MAX_INLINED_DEPTH} levels deep (at {_short(pointer)})"
            )
        if isinstance(node, list):
            return [walk(item, f"{pointer}/{i}", active, root, root_uri, depth + 1) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if "$ref" in node and not isinstance(ref, str):
            # A validator would crash on it; report it where it stands and read the schema without it.
            diagnostics.append(
                Diagnostic("ref-unresolved", "error", pointer, f"$ref must be a string, got {ref!r:.60}; ignored")
            )
            node = {k: v for k, v in node.items() if k != "$ref"}
            return {
                k: walk(v, f"{pointer}/{escape_token(str(k))}", active, root, root_uri, depth + 1)
                for k, v in node.items()
            }
        if isinstance(ref, str):
            target_root, target_uri, fragment = root, root_uri, ref
            if not ref.startswith("#"):
                absolute = urljoin(root_uri, ref) if root_uri else ref
                document_uri, _, fragment = absolute.partition("#")
                target_root = load_external(document_uri, pointer)
                target_uri = document_uri
                fragment = "#" + fragment
            key = f"{target_uri}{fragment}"
            if key in active:
                # References within the document read as written (`#/components/...`), not as absolute URIs.
                home = base_uri or ""
                chain = " -> ".join(
                    k[len(home) :] if home and k.startswith(home + "#") else k
                    for k in (*active[active.index(key) :], key)
                )
                diagnostics.append(
                    Diagnostic("ref-cycle", "error", pointer, f"$ref cycle {chain}; treated as any value here")
                )
                return {}
            try:
                target = resolve_pointer(target_root, fragment[1:])
            except KeyError:
                diagnostics.append(
                    Diagnostic(
                        "ref-unresolved", "error", pointer, f"$ref {ref!r:.100} points at nothing in the document"
                    )
                )
                return {}
            resolved = walk(target, pointer, (*active, key), target_root, target_uri, depth)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(resolved, dict):
                # OpenAPI 3.1 allows keywords beside $ref; they add to the referenced schema.
                merged = dict(resolved)
                for k, v in siblings.items():
                    merged[k] = walk(v, f"{pointer}/{escape_token(str(k))}", active, root, root_uri, depth + 1)
                return merged
            return copy.copy(resolved) if isinstance(resolved, dict) else resolved
        return {
            k: walk(v, f"{pointer}/{escape_token(str(k))}", active, root, root_uri, depth + 1) for k, v in node.items()
        }

    out = dict(document)
    if "paths" in document:
        out["paths"] = walk(document["paths"], "/paths", (), document, base_uri or "")
    return out, diagnostics
