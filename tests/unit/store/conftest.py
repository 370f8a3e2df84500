"""Fixtures for the store tests: a fresh local data location and a store on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from v6.store import Store, StoreLocation


@pytest.fixture
def location(tmp_path: Path) -> StoreLocation:
    return StoreLocation(str(tmp_path / "data"))


@pytest.fixture
def store(location: StoreLocation) -> Store:
    return Store(location, app_id="engine")
