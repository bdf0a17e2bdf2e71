"""Render the Arrow type table of docs/table.md from the code (`schemakit.table.typetable`).

The guide marks it `<!-- arrow-types -->` ... `<!-- /arrow-types -->`; `python docs/render_types.py`
rewrites it, `stale()` says whether it would change (tests/table/test_type_table.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GUIDE = DOCS / "table.md"
_MARKED = re.compile(r"(<!-- arrow-types -->\n)(.*?)(<!-- /arrow-types -->)", re.DOTALL)


def render(text: str) -> str:
    from schemakit.table.typetable import render_arrow_type_table

    return _MARKED.sub(lambda m: f"{m.group(1)}{render_arrow_type_table()}\n{m.group(3)}", text)


def stale() -> bool:
    text = GUIDE.read_text(encoding="utf-8")
    return render(text) != text


if __name__ == "__main__":
    text = GUIDE.read_text(encoding="utf-8")
    if render(text) != text:
        GUIDE.write_text(render(text), encoding="utf-8")
        print("arrow type table rendered: table.md", file=sys.stderr)
    else:
        print("arrow type table: up to date", file=sys.stderr)
