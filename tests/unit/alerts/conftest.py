"""Fixtures for the alert tests: a fresh data location, and a receiver of apprise's
``json://`` notifications on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alerts_receiver import Receiver, serving

from v6.store import StoreLocation


@pytest.fixture
def location(tmp_path: Path) -> StoreLocation:
    return StoreLocation(str(tmp_path / "data"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as found:
        yield found
