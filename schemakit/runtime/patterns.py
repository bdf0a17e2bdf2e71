"""Document patterns (`pattern`, `patternProperties`), matched in linear time when google-re2 is installed.

A pattern comes from the document, a text from the payload: with Python's backtracking
`re`, `^(a+)+$` against 35 `a`s and a `b` runs for minutes (ReDoS), and any client
of a middleware can send that text. RE2 matches in time linear in the text, and
refuses what it cannot match that way (backreferences, lookaround): such a pattern
is reported as a problem for each text it should have checked, never run.

Without google-re2 (a generated package installed without it) the runtime falls back
to Python's `re`. We chose not to cap the text length instead: a cap that stops
`^(a+)+$` (exponential in the length) would have to be a few dozen characters and
would refuse ordinary payloads. The generated packages declare google-re2 as a
dependency; `LINEAR_PATTERNS` tells whether this runtime has it, so code that
validates untrusted payloads can refuse to run without it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from .report import shorten

__all__ = ["LINEAR_PATTERNS", "Search", "compile_pattern"]

try:
    _re2: Any = importlib.import_module("re2")
except ImportError:  # pragma: no cover - exercised in generated packages without google-re2
    _re2 = None

#: Whether document patterns are matched in linear time (google-re2 is installed).
LINEAR_PATTERNS = _re2 is not None

Search = Callable[[str], object]

_CACHE: dict[str, tuple[Search | None, str]] = {}


def compile_pattern(text: str) -> tuple[Search | None, str]:
    """A search function for the pattern, or None and why it cannot be used (never an exception)."""
    hit = _CACHE.get(text)
    if hit is None:
        hit = _compile_re2(text) if _re2 is not None else _compile_re(text)
        if len(_CACHE) > 512:
            _CACHE.clear()
        _CACHE[text] = hit
    return hit


def _compile_re2(text: str) -> tuple[Search | None, str]:
    options = _re2.Options()
    options.log_errors = False  # RE2 would write each refusal to stderr
    try:
        compiled = _re2.compile(text, options)
    except (_re2.error, TypeError, ValueError) as exc:  # TypeError/ValueError: text it cannot encode
        unreadable = _compile_re(text)
        if unreadable[0] is None:
            return unreadable  # not a regular expression at all: Python's message says where
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return None, (
            f"the document's pattern {shorten(text)} needs backtracking ({reason}), which schemakit never "
            "runs on payload text because it can take exponential time, so no text can be checked against "
            "it; rewrite the pattern without backreferences or lookaround"
        )
    search: Search = compiled.search
    return search, ""


def _compile_re(text: str) -> tuple[Search | None, str]:
    try:
        search: Search = re.compile(text).search
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        reason = exc.msg if isinstance(exc, re.error) else str(exc) or type(exc).__name__
        where = f" at position {exc.pos}" if isinstance(exc, re.error) and exc.pos is not None else ""
        return None, (
            f"the document's pattern {shorten(text)} is not a regular expression Python can read "
            f"({reason}{where}), so no text can be checked against it; fix the pattern in the document"
        )
    return search, ""
