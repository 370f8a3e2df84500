"""The dashboard end to end in a real browser: a short simulation writes the tables,
``python -m v6.dashboard`` serves them on 127.0.0.1, headless Chromium (Debian's package,
driven by playwright) reads the pages, acknowledges an alert and halts trading; the tables
must change. Screenshots of every page go to ``artifacts/dashboard/``. Timings are printed,
not asserted (benchmarks/bench_dashboard.py measures the 5,000-leg case)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from dashboard_browser import (
    CHROMIUM,
    WAIT_MS,
    chromium,
    io_caption,
    metric_value,
    open_first_page,
    serving,
    switch,
)
from dashboard_data import WrittenBook, simulated_book
from playwright.sync_api import Browser, Page

from v6.store import Store, StoreLocation, trade_date

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"

REQUIRE_BROWSER = "REQUIRE_BROWSER_TESTS"
"""Set by .ci/run, which installs chromium: there a missing browser fails the test, not skips it."""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get(REQUIRE_BROWSER),
    reason=f"Debian's chromium is not installed (.ci/run installs it and sets {REQUIRE_BROWSER})",
)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> WrittenBook:
    folder = tmp_path_factory.mktemp("browser") / "data"
    return simulated_book(folder, start=date(2024, 3, 4), end=date(2024, 3, 4))


@pytest.fixture(scope="module")
def server(written: WrittenBook) -> Iterator[str]:
    with serving(written.data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def eventually(check: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def money(value: float) -> str:
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


def expected_pnl(store: Store, written: WrittenBook) -> float:
    """Unrealized P&L from the tables: entry credits plus the legs' latest marks."""
    marks = store.snapshots.latest(trade_date(written.as_of))
    total = 0.0
    for strategy in store.strategies.live():
        assert strategy.entry_premium is not None
        total += strategy.entry_premium * strategy.quantity * 100
        for leg in strategy.legs:
            mark = marks[(strategy.strategy_id, leg.contract.occ_symbol)].mark
            assert mark is not None
            total += leg.quantity * strategy.quantity * mark * 100
    return total


def test_the_dashboard_in_chromium(written: WrittenBook, server: str, browser: Browser) -> None:
    store = Store(StoreLocation(str(written.data_dir)))
    page, cold = open_first_page(browser, server)
    assert metric_value(page, "Strategies") == str(len(store.strategies.live()))
    assert metric_value(page, "Legs") == str(written.legs)
    assert metric_value(page, "Unrealized P&L") == money(expected_pnl(store, written))
    shoot(page, "positions")

    switches = [switch(page, "Portfolio", ".js-plotly-plot")]
    eventually(lambda: page.locator(".js-plotly-plot").count() == 5, "five charts are drawn")
    shoot(page, "portfolio")

    switches.append(switch(page, "Alerts", '[data-testid="stMetric"]'))
    active = len(store.alerts.unacknowledged())
    assert metric_value(page, "Active") == str(active)
    page.get_by_role("button", name="Acknowledge", exact=True).first.click()
    eventually(lambda: len(store.alerts.unacknowledged()) == active - 1, "the ack is stored")
    eventually(lambda: metric_value(page, "Active") == str(active - 1), "the page shows it")
    shoot(page, "alerts")

    switches.append(switch(page, "Health", '[data-testid="stMetric"]'))
    assert metric_value(page, "Circuit breaker") == "OPEN"
    page.get_by_role("button", name="Halt trading").click()
    page.get_by_text("Halt trading? New entries stop").wait_for(timeout=WAIT_MS)
    assert store.commands.pending() == [], "nothing is sent before the confirmation"
    page.get_by_label("Reason (recorded with the command)").fill("browser test")
    page.get_by_role("button", name="Confirm").click()
    eventually(lambda: [c.kind for c in store.commands.pending()] == ["halt"], "halt is sent")
    assert dict(store.commands.pending()[0].payload) == {"reason": "browser test"}
    page.get_by_text("Waiting for the engine: halt").wait_for(timeout=WAIT_MS)
    shoot(page, "health")
    switches.append(switch(page, "Positions", '[data-testid="stDataFrame"]'))

    print(
        f"\ndashboard in Chromium ({written.legs} legs): first render cold {cold:.2f} s; "
        f"page switch mean {sum(switches) / len(switches):.2f} s, max {max(switches):.2f} s; "
        f"{io_caption(page)}; screenshots in {ARTIFACTS}"
    )
    page.close()
