"""Where a finding lands in a document on disk: a JSON pointer for it, and the line that pointer names.

GitHub places an annotation on a file and a line; `schemakit diff --format github` names the file
relative to the workspace and the line where the finding's part of the document starts (the served
model's path, the input format's branch, the column's property, ...). The line comes from the text
itself (a small JSON scanner, or PyYAML's composer for YAML), so it is right for any layout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from schemakit.core.model import EndpointSchema, FormatKind
from schemakit.diff.report import Finding

__all__ = ["annotation_path", "finding_pointer", "pointer_line"]

#: How many nodes a search for a column's property may visit: documents are untrusted.
_SEARCH_BUDGET = 20_000
#: Keywords whose values are data, not schemas: a column named in an example is not where it is defined.
_NOT_SCHEMA = frozenset({"example", "examples", "default", "const"})


def annotation_path(path: str, *, base: str | None = None) -> str:
    """`path` relative to `base` (default: $GITHUB_WORKSPACE, else the working directory), with `/`.

    A file outside it keeps the path it was given: GitHub cannot place that annotation on the
    pull request's diff, but the reader still sees which file it is about.
    """
    root = Path(base or os.environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return path


def _escape_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _tokens(pointer: str) -> list[str]:
    return [_unescape_token(token) for token in pointer.split("/")[1:]] if pointer else []


def _child(node: Any, token: str) -> Any:
    if isinstance(node, Mapping):
        return node.get(token)
    if isinstance(node, Sequence) and not isinstance(node, str) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    return None


def _resolve(document: Mapping[str, Any], pointer: str) -> Any:
    node: Any = document
    for token in _tokens(pointer):
        node = _child(node, token)
        if node is None:
            return None
    return node


def _find_property(document: Mapping[str, Any], start: str, name: str) -> str | None:
    """The pointer of the first `properties/<name>` (or `items/.../<name>`) under `start`, following local $refs."""
    queue: list[tuple[str, Any]] = [(start, _resolve(document, start))]
    seen: set[int] = set()
    budget = _SEARCH_BUDGET
    while queue and budget > 0:
        pointer, node = queue.pop(0)
        budget -= 1
        if isinstance(node, Mapping):
            if id(node) in seen:
                continue
            seen.add(id(node))
            properties = node.get("properties")
            if isinstance(properties, Mapping) and name in properties:
                return f"{pointer}/properties/{_escape_token(name)}"
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                queue.append((ref[1:], _resolve(document, ref[1:])))
            for key, value in node.items():
                if isinstance(value, (Mapping, list)) and key not in _NOT_SCHEMA:
                    queue.append((f"{pointer}/{_escape_token(str(key))}", value))
        elif isinstance(node, list):
            queue.extend((f"{pointer}/{index}", value) for index, value in enumerate(node))
    return None


def _find_name(document: Mapping[str, Any], start: str, name: str) -> str | None:
    """The pointer of the first list item equal to `name` under `start`: a dataframe_split column's `enum` entry."""
    queue: list[tuple[str, Any]] = [(start, _resolve(document, start))]
    budget = _SEARCH_BUDGET
    while queue and budget > 0:
        pointer, node = queue.pop(0)
        budget -= 1
        if isinstance(node, Mapping):
            queue.extend(
                (f"{pointer}/{_escape_token(str(key))}", value) for key, value in node.items() if key not in _NOT_SCHEMA
            )
        elif isinstance(node, list):
            if name in node:
                return f"{pointer}/{node.index(name)}"
            queue.extend((f"{pointer}/{index}", value) for index, value in enumerate(node))
    return None


def _first_segment(path: str) -> str:
    """`customer.address` -> `customer`, `tags[]` -> `tags`, `meta{}` -> `meta`."""
    return re.split(r"[.\[{]", path, maxsplit=1)[0]


def finding_pointer(finding: Finding, schema: EndpointSchema) -> str:
    """The most specific JSON pointer in `schema`'s document that the finding is about ("" for the root)."""
    where = finding.location
    if where.part == "endpoint":
        if finding.rule == "server-url-changed":
            return "/servers" if "servers" in schema.source_document else ""
        field = where.field or "info"
        pointer = "/" + "/".join(_escape_token(part) for part in field.split("."))
        return pointer if _resolve(schema.source_document, pointer) is not None else "/info"
    served = next((m for m in schema.models if m.name in (finding.model, finding.old_model)), None)
    if served is None:
        return "/paths" if "paths" in schema.source_document else ""
    if where.part == "model":
        return served.pointer
    document = schema.source_document
    if where.part == "response":
        start = f"{served.pointer}/post/responses/200"
        if _resolve(document, start) is None:
            return served.pointer
        if where.field:
            found = _find_property(document, start, _first_segment(where.field))
            if found is not None:
                return found
        return start
    fmt = served.format(FormatKind(where.format)) if where.format else None
    if fmt is None and where.format is None and served.formats:
        fmt = served.formats[0]
    start = fmt.pointer if fmt is not None and fmt.pointer else served.pointer
    if where.param is not None:
        params = _find_property(document, start, "params")
        if params is not None:
            return _find_property(document, params, where.param) or params
        return start
    if where.column is not None:
        column = _first_segment(where.column)
        if where.format == FormatKind.DATAFRAME_SPLIT.value:
            # Split columns are named in `columns` (an enum) and typed by position in `data`.
            return _find_name(document, start, column) or start
        return _find_property(document, start, column) or start
    return start


def pointer_line(text: str, pointer: str, *, yaml_text: bool | None = None) -> int | None:
    """The 1-based line where `pointer` (or the deepest part of it that exists) starts in `text`."""
    if yaml_text is None:
        yaml_text = not text.lstrip().startswith(("{", "["))
    try:
        return _yaml_line(text, _tokens(pointer)) if yaml_text else _JsonLocator(text).line(_tokens(pointer))
    except Exception:
        # Locating is a convenience: a document schemakit could load but this cannot read gives no line.
        return None


def _yaml_line(text: str, tokens: list[str]) -> int | None:
    import yaml

    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is None:
        return None
    line = node.start_mark.line + 1
    for token in tokens:
        if isinstance(node, yaml.MappingNode):
            match = next((pair for pair in node.value if str(pair[0].value) == token), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
            line = node.start_mark.line + 1
        else:
            break
    return line


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"[^\s,\]}]+")
_SPACE = re.compile(r"\s*")


class _JsonLocator:
    """Finds where a pointer lands in JSON text, without building the document."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _line_at(self, position: int) -> int:
        return self.text.count("\n", 0, position) + 1

    def _space(self, i: int) -> int:
        match = _SPACE.match(self.text, i)
        return match.end() if match else i

    def _string(self, i: int) -> tuple[str, int]:
        import json

        match = _STRING.match(self.text, i)
        if match is None:
            raise ValueError("not a JSON string")
        value: str = json.loads(match.group(0))
        return value, match.end()

    def _skip(self, i: int) -> int:
        """The index after the value starting at `i` (containers skipped by counting, strings as strings)."""
        char = self.text[i]
        if char == '"':
            return self._string(i)[1]
        if char not in "{[":
            match = _SCALAR.match(self.text, i)
            if match is None:
                raise ValueError("not a JSON value")
            return match.end()
        depth = 0
        while True:
            char = self.text[i]
            if char == '"':
                i = self._string(i)[1]
                continue
            if char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1

    def line(self, tokens: list[str]) -> int:
        i = self._space(0)
        line = self._line_at(i)
        for token in tokens:
            found = self._enter(i, token)
            if found is None:
                break
            line, i = found
        return line

    def _enter(self, i: int, token: str) -> tuple[int, int] | None:
        """(line of the member, index of its value) for `token` in the container at `i`."""
        char = self.text[i]
        if char not in "{[":
            return None
        i = self._space(i + 1)
        index = 0
        while self.text[i] not in "}]":
            if char == "{":
                key_at = i
                key, i = self._string(i)
                i = self._space(i)
                i = self._space(i + 1)  # the colon
                if key == token:
                    return self._line_at(key_at), i
            elif str(index) == token:
                return self._line_at(i), i
            i = self._space(self._skip(i))
            if self.text[i] == ",":
                i = self._space(i + 1)
            index += 1
        return None
