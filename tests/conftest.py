"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA_ENV = "SHARED_DATA_DIR"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real market data beside the checkout (../shared/data), or $SHARED_DATA_DIR.

    It holds the CSV originals of the shipped history and the Cboe option chains, which are
    not shipped (their terms of use); tests that compare against them skip without it.
    """
    configured = os.environ.get(SHARED_DATA_ENV)
    folder = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not (folder / "options").is_dir():
        pytest.skip(f"real market data not found at {folder}: set {SHARED_DATA_ENV}")
    return folder.resolve()
