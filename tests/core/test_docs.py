"""docs/core.md stays true: its library example prints what it shows, its diagnostics table lists every rule."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    "no-response-schema",
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
    from schemakit.core.lint import DOCUMENT_RULE_INDEX

    table = re.findall(r"^\| `([a-z0-9.-]+)` \| (error|warning) \|", DOC.read_text(), flags=re.MULTILINE)
    assert {code for code, _ in table} == set(DOCUMENT_RULE_INDEX)
    assert set(DOCUMENT_RULE_INDEX) >= RULE_CODES
    assert len(table) == len(DOCUMENT_RULE_INDEX)
    assert all(DOCUMENT_RULE_INDEX[code].severity == severity for code, severity in table)


def test_every_rule_code_appears_in_the_source() -> None:
    source = "".join(p.read_text() for p in (ROOT / "schemakit" / "core").glob("*.py"))
    for code in RULE_CODES:
        assert f'"{code}"' in source, code


# -- rule tables are rendered from the code ---------------------------------------------------


def _render_rules() -> Any:
    spec = importlib.util.spec_from_file_location("render_rules", ROOT / "docs" / "render_rules.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rule_tables_in_the_guides_are_rendered_from_the_code() -> None:
    render_rules = _render_rules()
    assert render_rules.stale_guides() == [], "rule tables are stale: run `python docs/build_readme.py`"
    families = {
        f for guide in render_rules.GUIDES for f in render_rules.marked_families((ROOT / "docs" / guide).read_text())
    }
    assert families == {"document", "diff", "payload", "schema", "table"}


def test_a_stale_table_is_noticed() -> None:
    render_rules = _render_rules()
    text = (ROOT / "docs" / "core.md").read_text()
    tampered = text.replace("| `ref-cycle` | error |", "| `ref-cycle` | warning |")
    assert tampered != text
    assert render_rules.render(tampered) == text


def test_every_declared_document_rule_is_emitted_and_every_emitted_code_declared() -> None:
    from schemakit.core.lint import DOCUMENT_RULE_INDEX

    source = "".join(p.read_text() for p in (ROOT / "schemakit" / "core").glob("*.py"))
    emitted = set(re.findall(r'(?:report|Diagnostic)\(\s*"([a-z0-9.-]+)"', source))
    assert emitted <= set(DOCUMENT_RULE_INDEX), sorted(emitted - set(DOCUMENT_RULE_INDEX))
    assert set(DOCUMENT_RULE_INDEX) >= RULE_CODES


def test_validate_lists_its_rules() -> None:
    from schemakit.core.lint import DOCUMENT_RULES

    from ..conftest import run_cli_in_process

    result = run_cli_in_process("validate", "--list-rules", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in DOCUMENT_RULES]
