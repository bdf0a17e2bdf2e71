"""docs/core.md stays true: its library example prints what it shows, its diagnostics table lists every rule."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "core.md"

#: Every rule code the core emits (resolver, references, structure check).
RULE_CODES = {
    "openapi-structure",
    "info-missing",
    "info-title-missing",
    "servers-not-one",
    "server-not-https",
    "no-invocations",
    "unknown-path",
    "no-post",
    "no-request-body",
    "request-not-json",
    "no-request-schema",
    "no-input-format",
    "unknown-input-format",
    "duplicate-input-format",
    "oneof-ambiguous",
    "split-columns-mismatch",
    "split-columns-not-names",
    "split-required-unknown",
    "required-unknown",
    "formats-disagree-columns",
    "formats-disagree-required",
    "formats-disagree-types",
    "example-not-wrapped",
    "default-type-mismatch",
    "default-invalid",
    "nullable-in-3.1",
    "unknown-type",
    "unknown-format",
    "invalid-type",
    "schema-invalid",
    "ref-cycle",
    "ref-unresolved",
}


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_library_example_prints_what_the_doc_shows() -> None:
    python_blocks = _blocks("python")
    example = next(b for b in python_blocks if "schemakit.load(" in b and "print(" in b)
    shown = next(b for b in _blocks("text") if b.startswith("example-endpoint"))
    result = subprocess.run(
        [sys.executable, "-c", example], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown


def test_diagnostics_table_lists_every_rule() -> None:
    table = re.findall(r"^\| `([a-z0-9.-]+)` \| (error|warning) \|", DOC.read_text(), flags=re.MULTILINE)
    assert {code for code, _ in table} == RULE_CODES
    assert len(table) == len(RULE_CODES)


def test_every_rule_code_appears_in_the_source() -> None:
    source = "".join(
        p.read_text()
        for p in (ROOT / "schemakit" / "core").glob("*.py")
    )
    for code in RULE_CODES:
        assert f'"{code}"' in source, code
