"""`schemakit diff`: what changed between two versions of an endpoint's schema.

- `report`: the rule table, findings and reports;
- `compare`: the comparison of two resolved models (`diff_schemas`);
- `ignore`: the ignore file (`load_ignore_file`, `apply_ignores`);
- `render`: text, JSON, Markdown, GitHub and JUnit output (`render_diff`).
"""

from __future__ import annotations

from schemakit.diff.compare import diff_schemas
from schemakit.diff.ignore import apply_ignores, load_ignore_file, parse_ignore_entries
from schemakit.diff.render import render_diff, render_github, render_json, render_junit, render_markdown, render_text
from schemakit.diff.report import (
    FAIL_ON_CHOICES,
    OUTPUT_FORMATS,
    RULE_LIST,
    RULES,
    DiffReport,
    DiffSeverity,
    FailOn,
    Finding,
    FindingLocation,
    IgnoredFinding,
    IgnoreEntry,
    SchemaSummary,
)
from schemakit.runtime.rules import Rule

__all__ = [
    "FAIL_ON_CHOICES",
    "OUTPUT_FORMATS",
    "RULES",
    "RULE_LIST",
    "DiffReport",
    "DiffSeverity",
    "FailOn",
    "Finding",
    "FindingLocation",
    "IgnoreEntry",
    "IgnoredFinding",
    "Rule",
    "SchemaSummary",
    "apply_ignores",
    "diff_schemas",
    "load_ignore_file",
    "parse_ignore_entries",
    "render_diff",
    "render_github",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
]
