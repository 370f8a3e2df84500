"""Serving the dashboard on 127.0.0.1 and driving it with Debian's headless Chromium (used
by the browser test and by benchmarks/bench_dashboard.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_SECONDS = 60
WAIT_MS = 60_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(data_dir: Path) -> Iterator[str]:
    """``python -m v6.dashboard`` on ``data_dir`` at a free loopback port; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "V6_DASHBOARD_PASSWORD"}
    command = [sys.executable, "-m", "v6.dashboard", "--data-dir", str(data_dir)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the dashboard did not answer at {url} in {START_TIMEOUT_SECONDS} s")


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_first_page(browser: Browser, url: str) -> tuple[Page, float]:
    """A new page on ``url``; seconds until the positions grid is drawn."""
    page = browser.new_page(viewport={"width": 1600, "height": 2000})
    start = time.perf_counter()
    page.goto(url)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=WAIT_MS)
    return page, time.perf_counter() - start


def switch(page: Page, title: str, ready: str) -> float:
    """Click the page's link in the sidebar; seconds until ``ready`` is visible."""
    start = time.perf_counter()
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
    page.get_by_role("heading", name=title).wait_for(timeout=WAIT_MS)
    page.locator(ready).first.wait_for(timeout=WAIT_MS)
    return time.perf_counter() - start


def metric_value(page: Page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return str(card.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def io_caption(page: Page) -> str:
    return page.get_by_text("Delta I/O for this refresh").first.inner_text().strip()
