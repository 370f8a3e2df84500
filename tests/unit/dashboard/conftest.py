"""Dashboard fixtures: tables of a short real simulation (``tests/e2e/dashboard_data.py``),
copied per test so that acknowledgements and commands do not leak between tests."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "e2e"))

from dashboard_data import WrittenBook, simulated_book

APP = Path(__file__).resolve().parents[3] / "src" / "v6" / "dashboard" / "app.py"
TIMEOUT_SECONDS = 60


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> WrittenBook:
    """One session of SPY/QQQ/IWM condors (2024-03-04), written once per test process."""
    folder = tmp_path_factory.mktemp("simulated")
    return simulated_book(folder, start=date(2024, 3, 4), end=date(2024, 3, 4))


@pytest.fixture
def book(simulated: WrittenBook, tmp_path: Path) -> WrittenBook:
    """A private copy of the simulated tables."""
    copy = tmp_path / "data"
    shutil.copytree(simulated.data_dir, copy)
    return WrittenBook(
        copy,
        simulated.strategies,
        simulated.alerts,
        simulated.as_of,
        simulated.legs,
        simulated.breaker_tripped,
    )


@pytest.fixture
def open_app(monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """Runs the app on a data directory, as ``v6 dashboard --data-dir DIR`` would."""
    monkeypatch.delenv("V6_DASHBOARD_PASSWORD", raising=False)

    def open_on(data_dir: Path, page: str | None = None) -> AppTest:
        monkeypatch.setattr(sys, "argv", [str(APP), "--data-dir", str(data_dir)])
        app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_SECONDS).run()
        if page is not None:
            app.switch_page(page).run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return open_on
