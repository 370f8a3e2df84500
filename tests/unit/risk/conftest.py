"""Risk tests build books with the decision tests' helpers (tests/unit/decisions/
decision_books.py), so that folder is importable from here as well."""

from __future__ import annotations

import sys
from pathlib import Path

DECISION_HELPERS = str(Path(__file__).resolve().parents[1] / "decisions")
if DECISION_HELPERS not in sys.path:
    sys.path.insert(0, DECISION_HELPERS)
