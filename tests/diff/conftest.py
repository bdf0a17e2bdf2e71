"""Fixtures for the diff tests; makes the document builder (`diff_docs`) importable."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    # Test modules import the shared builder as `diff_docs` (pytest runs with --import-mode=importlib).
    sys.path.insert(0, str(HERE))
