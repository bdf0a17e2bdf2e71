"""Assemble README.md from docs/README.template.md and sections of the guides in docs/.

The guides hold the real, tested output (sessions, agreement tables, benchmarks);
the README is short and links them, and may quote a short section of one through
a `{{NAME}}` placeholder so the two cannot drift apart. `make readme` rewrites
README.md; tests/test_readme.py fails when it is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

#: placeholder -> (guide, heading that starts the section, heading that ends it or None for the next one)
SECTIONS: dict[str, tuple[str, str, str | None]] = {
    # The README is short and links the guides; a section quoted here must stay short too.
}


def section(guide: str, heading: str, until: str | None) -> str:
    lines = (DOCS / guide).read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    level = len(heading) - len(heading.lstrip("#"))
    in_code = False
    end = len(lines)
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        if until is not None and line == until:
            end = index
            break
        match = re.match(r"^(#+) ", line)
        if until is None and match and len(match.group(1)) <= level:
            end = index
            break
    return "\n".join(lines[start + 1 : end]).strip("\n")


def build() -> str:
    text = (DOCS / "README.template.md").read_text(encoding="utf-8")
    for name, (guide, heading, until) in SECTIONS.items():
        text = text.replace("{{" + name + "}}", section(guide, heading, until))
    leftover = re.findall(r"\{\{[A-Z_]+\}\}", text)
    if leftover:
        raise SystemExit(f"build_readme: unknown placeholders {leftover}")
    return text.rstrip() + "\n"


if __name__ == "__main__":
    # The guides' rule tables first (rendered from the code), so the README quotes fresh ones.
    sys.path.insert(0, str(DOCS))
    from render_rules import write_guides

    write_guides()
    (ROOT / "README.md").write_text(build(), encoding="utf-8")
    print("README.md rebuilt", file=sys.stderr)
