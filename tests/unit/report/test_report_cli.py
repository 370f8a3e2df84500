"""``v6 report`` through typer's runner, mounted as the lead mounts it: a fresh data location
prints "no trades yet" (exit 0); the week of report_book.py as tables, as JSON and as a
self-contained HTML file with Plotly charts (plotly.js inline, nothing fetched)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from report_book import write_book
from typer.testing import CliRunner

from v6.report.cli import report
from v6.store import Store, StoreLocation

app = typer.Typer()
app.command("report")(report)


@app.callback()
def main() -> None:
    """The v6 app's stand-in: report is one of its commands."""


runner = CliRunner()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "data"
    write_book(Store(StoreLocation(str(data)), app_id="engine"))
    return data


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["report", *args])
    return result.exit_code, result.output


def test_a_fresh_data_location_has_no_trades_yet(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    code, output = run("--data-dir", str(tmp_path / "fresh"), "--html", str(page))
    assert code == 0, output
    assert output.startswith("no trades yet\n")
    assert "no trades yet" in page.read_text()

    code, output = run("--data-dir", str(tmp_path / "fresh"), "--json")
    assert code == 0
    assert json.loads(output)["status"] == "no trades yet"


def test_the_terminal_report_shows_the_summary_rules_and_breaches(book: Path) -> None:
    code, output = run("--data-dir", str(book))
    assert code == 0, output
    for text in (
        "Paper-trading report",
        "1,200.00",  # total P&L and max drawdown
        "-156.70",  # realized
        "66.7%",  # win rate
        "24.00, 3.00 (6 of 16 executions)",  # slippage
        "Rule triggers",
        "stop_loss",
        "Risk-limit breaches",
    ):
        assert text in output, text


def test_the_json_report_carries_the_numbers(book: Path) -> None:
    code, output = run("--data-dir", str(book), "--json")
    data = json.loads(output)
    assert code == 0
    assert data["pnl"]["total"] == pytest.approx(1_200.0)
    assert data["trades"]["win_rate"] == pytest.approx(2 / 3)
    assert data["max_drawdown"]["trough_at"] == "2020-03-09T15:00:00+00:00"
    assert [day["date"] for day in data["daily"]][:2] == ["2020-03-02", "2020-03-03"]
    assert data["risk"]["breaker_trips"] == 1


def test_the_html_report_is_self_contained_with_four_charts(book: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    code, output = run("--data-dir", str(book), "--html", str(page))
    html = page.read_text()

    assert code == 0
    assert f"HTML report written to {page}" in output
    assert html.count('class="plotly-graph-div"') == 4
    for title in ("Equity curve", "Drawdown from the running peak", "Daily P&amp;L", "Rule"):
        assert title in html or title.replace("&amp;", "&") in html
    assert "<script src=" not in html
    assert len(html) > 1_000_000  # plotly.js itself is inline
    assert html.count("Plotly.newPlot") == 4


def test_an_unwritable_html_path_is_a_clear_error(book: Path, tmp_path: Path) -> None:
    code, output = run("--data-dir", str(book), "--json", "--html", str(tmp_path / "no" / "r.html"))
    assert code == 2
    assert "report: --html" in output
