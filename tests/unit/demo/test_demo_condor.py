"""`v6 demo` on real history: the condor it builds obeys the template and textbook arithmetic."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from v6.cli import app
from v6.config import V6Config
from v6.demo import CondorQuote, show_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def covid_crash_condor() -> CondorQuote:
    """SPY on 2020-03-16, the day VIX closed at 82.69."""
    return show_demo(Console(file=None, quiet=True), V6Config(), "SPY", date(2020, 3, 16))


def test_condor_follows_the_default_template(covid_crash_condor: CondorQuote) -> None:
    strategy = covid_crash_condor.strategy
    expiry = strategy.expiries[0]
    assert expiry.weekday() == 4
    assert 30 <= (expiry - date(2020, 3, 16)).days <= 60
    legs = covid_crash_condor.legs
    shorts = legs.filter(legs["quantity"] < 0)
    assert sorted(abs(d) for d in shorts["delta"]) == pytest.approx([0.16, 0.16], abs=0.01)
    strikes = sorted(float(leg.contract.strike) for leg in strategy.legs)
    assert strikes[1] - strikes[0] == 5.0
    assert strikes[3] - strikes[2] == 5.0


def test_condor_payoff_is_textbook_arithmetic(covid_crash_condor: CondorQuote) -> None:
    strategy = covid_crash_condor.strategy
    credit = strategy.entry_premium
    assert credit > 0
    assert strategy.max_profit == pytest.approx(credit * 100)
    assert strategy.max_loss == pytest.approx((5.0 - credit) * 100)
    strikes = sorted(float(leg.contract.strike) for leg in strategy.legs)
    assert strategy.breakevens == pytest.approx((strikes[1] - credit, strikes[2] + credit))


def test_implied_vol_recovers_the_days_vix(covid_crash_condor: CondorQuote) -> None:
    assert covid_crash_condor.legs["iv"].to_list() == pytest.approx([0.8269] * 4, abs=1e-8)


def test_a_short_condor_is_short_gamma_and_vega_and_earns_theta(
    covid_crash_condor: CondorQuote,
) -> None:
    greeks = covid_crash_condor.position_greeks
    assert greeks.gamma < 0
    assert greeks.vega < 0
    assert greeks.theta > 0


def test_demo_command_prints_the_condor() -> None:
    result = runner.invoke(app, ["demo", "--symbol", "qqq", "--date", "2022-06-16"])
    assert result.exit_code == 0, result.output
    assert "QQQ on 2022-06-16" in result.output
    assert "max loss" in result.output


def test_demo_rejects_a_malformed_date() -> None:
    result = runner.invoke(app, ["demo", "--date", "16/03/2020"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_demo_names_an_unknown_symbol() -> None:
    result = runner.invoke(app, ["demo", "--symbol", "TSLA"])
    assert result.exit_code == 1
    assert "TSLA" in result.output


def test_demo_explains_a_day_without_rate_history() -> None:
    result = runner.invoke(app, ["demo", "--date", "1998-06-01"])
    assert result.exit_code == 1
    assert "T-bill" in result.output


def test_demo_needs_an_iron_condor_template(tmp_path: Path) -> None:
    config = tmp_path / "verticals.toml"
    config.write_text('[[strategies.templates]]\nname = "puts"\nkind = "vertical_bull_put"\n')
    result = runner.invoke(app, ["demo", "--config", str(config)])
    assert result.exit_code == 1
    assert "iron_condor" in result.output


def test_demo_reports_a_bad_config_like_config_check(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[risk.portfolio]\nmax_abs_delta = -1\n")
    result = runner.invoke(app, ["demo", "--config", str(config)])
    assert result.exit_code == 2
    assert "risk.portfolio.max_abs_delta" in result.output
