"""Render the rule tables of the guides from the code: the rules are data, the tables are never written by hand.

A guide marks a table with `<!-- rules:FAMILY -->` ... `<!-- /rules -->` (FAMILY: document,
diff, payload, schema); everything between the markers is replaced by `render_rule_table` of that
family's rules. `python docs/render_rules.py` rewrites the guides (docs/build_readme.py runs it
first, so the README quotes fresh tables); `stale_guides()` says which would change, for the test.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from schemakit.runtime.rules import Rule, render_rule_table  # noqa: E402 - after the path is set

GUIDES = ("core.md", "diff.md", "check.md", "table.md")
_MARKED = re.compile(r"(<!-- rules:(?P<family>[a-z]+) -->\n)(?P<body>.*?)(<!-- /rules -->)", re.DOTALL)


def _document_rules() -> Sequence[Rule]:
    from schemakit.core.lint import DOCUMENT_RULES

    return DOCUMENT_RULES


def _diff_rules() -> Sequence[Rule]:
    from schemakit.diff.report import RULE_LIST

    return RULE_LIST


def _payload_rules() -> Sequence[Rule]:
    from schemakit.runtime.payload_rules import PAYLOAD_RULES

    return PAYLOAD_RULES


def _schema_rules() -> Sequence[Rule]:
    from schemakit.runtime.payload_rules import SCHEMA_RULES

    return SCHEMA_RULES


def _table_rules() -> Sequence[Rule]:
    from schemakit.table.rules import TABLE_RULES

    return TABLE_RULES


FAMILIES: dict[str, Callable[[], Sequence[Rule]]] = {
    "document": _document_rules,
    "diff": _diff_rules,
    "payload": _payload_rules,
    # JSON Schema problems: payload-family rules named after their keyword.
    "schema": _schema_rules,
    # check-table: the payload and schema rules it applies, and the two only a table can break.
    "table": _table_rules,
}


def render(text: str) -> str:
    """The guide's text with every marked table rendered from its family's rules."""

    def table(match: re.Match[str]) -> str:
        family = match.group("family")
        if family not in FAMILIES:
            raise SystemExit(f"render_rules: unknown rule family {family!r} (known: {', '.join(FAMILIES)})")
        return f"{match.group(1)}{render_rule_table(FAMILIES[family]())}\n{match.group(4)}"

    return _MARKED.sub(table, text)


def marked_families(text: str) -> list[str]:
    return [m.group("family") for m in _MARKED.finditer(text)]


def stale_guides() -> list[str]:
    """The guides whose rule tables differ from what the code declares."""
    stale = []
    for name in GUIDES:
        text = (DOCS / name).read_text(encoding="utf-8")
        if render(text) != text:
            stale.append(name)
    return stale


def write_guides() -> list[str]:
    changed = stale_guides()
    for name in changed:
        path = DOCS / name
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return changed


if __name__ == "__main__":
    rewritten = write_guides()
    print(f"rule tables rendered: {', '.join(rewritten) or 'all up to date'}", file=sys.stderr)
