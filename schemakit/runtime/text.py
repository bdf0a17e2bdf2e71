"""Escaping text that came from a document, a payload or a server, once per output format.

Names, keys, titles and messages are untrusted: a newline can forge a line that
GitHub Actions reads as a workflow command (`::error ...`), an ESC can drive the
terminal (OSC 8 links, title changes, clearing), bidi controls can reorder what a
reviewer sees (Trojan Source), a `|` can break a Markdown table and a NUL breaks XML.
Each output format has one function here, and every renderer uses it:

- `terminal`: plain text output and log lines (one line; controls shown as escapes);
- `github_data` / `github_property`: GitHub workflow command message and properties;
- `markdown`: a Markdown table cell or inline text;
- `xml`: XML text and attribute values (characters XML 1.0 cannot hold replaced).
"""

from __future__ import annotations

import re

__all__ = ["github_data", "github_property", "markdown", "terminal", "xml"]

# C0 and C1 controls, DEL, bidi embedding/override/isolate marks, line and paragraph
# separators, zero-width joiners that can hide text, and the BOM.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or f"\\u{ord(char):04x}"


def terminal(text: str) -> str:
    """One line of plain text: every control, escape and bidi character written as a visible escape."""
    return _UNSAFE.sub(_escape, text)


def github_data(text: str) -> str:
    """The message of a workflow command (`::error ...::MESSAGE`), as GitHub's toolkit escapes it."""
    return terminal(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """A property value of a workflow command (`file=`, `title=`): also `:` and `,` escaped."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def markdown(text: str) -> str:
    """Inline Markdown (a table cell included): no markup, no HTML, no line breaks, no controls."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", terminal(text))


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml(text: str) -> str:
    """One line of text XML 1.0 can hold; markup itself is escaped by the XML writer.

    Newlines are shown as escapes too: a JUnit file printed to a CI log must not produce a
    line of the document's choosing (GitHub Actions reads `::error ...` lines as commands).
    """
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group(0)):04x}", terminal(text))
