"""Fixtures for the CI tests; makes the composite-action runner (`actions`) importable."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    # Test modules import the runner as `actions` (pytest runs with --import-mode=importlib).
    sys.path.insert(0, str(HERE))
