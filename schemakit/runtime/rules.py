"""Rules as data: one `Rule` type for the three families schemakit reports on.

- document rules (`schemakit validate`): what is wrong or suspicious in a document;
- payload rules (`schemakit check`, the generated validators): the serving rules a
  payload must follow beyond JSON Schema;
- diff rules (`schemakit diff`): kinds of change between two versions of a schema.

Each family is a tuple of `Rule`s, declared once next to the code that applies
them; `--list-rules` and the tables in the guides are rendered from those tuples,
so the documentation cannot drift from what the code reports. This module is part
of the runtime (standard library only) because generated packages carry the
payload rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["Family", "Rule", "render_rule_lines", "render_rule_table", "rule_index"]

Family = Literal["document", "payload", "diff"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: a stable code, its family, its default severity and a one-line description.

    Severities are `error`/`warning` for document and payload rules and
    `breaking`/`warning`/`info` for diff rules. `note` says when the severity depends
    on the case, or anything else a reader of the rule table needs in one line.
    """

    code: str
    family: Family
    severity: str
    summary: str
    note: str = ""

    @property
    def id(self) -> str:
        """Diff findings call the code their rule id."""
        return self.code


def rule_index(rules: Iterable[Rule]) -> Mapping[str, Rule]:
    """Rules by code; a code declared twice is a programming error, caught at import."""
    index: dict[str, Rule] = {}
    for rule in rules:
        if rule.code in index:
            raise ValueError(f"rule {rule.code!r} is declared twice")
        index[rule.code] = rule
    return index


def render_rule_lines(rules: Iterable[Rule]) -> str:
    """What `--list-rules` prints: one rule a line, code, severity and description."""
    listed = list(rules)
    width = max((len(rule.code) for rule in listed), default=0)
    lines = []
    for rule in listed:
        note = f" ({rule.note})" if rule.note else ""
        lines.append(f"{rule.code.ljust(width)}  {rule.severity:<8}  {rule.summary}{note}")
    return "\n".join(lines)


def render_rule_table(rules: Iterable[Rule]) -> str:
    """A Markdown table of the rules, for the guides (rendered, never written by hand)."""

    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = ["| code | severity | what it means |", "| --- | --- | --- |"]
    for rule in rules:
        summary = rule.summary + (f" ({rule.note})" if rule.note else "")
        lines.append(f"| `{rule.code}` | {rule.severity} | {cell(summary)} |")
    return "\n".join(lines)
