"""Defaults from the specification, and the rules that span several fields."""

from typing import get_args

import pytest

from v6.config import (
    BrokerConfig,
    ConfigError,
    ConfigProblem,
    DashboardConfig,
    SeverityName,
    StrategyKind,
    V6Config,
    load_config_text,
)
from v6.domain.alerts import Severity


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, {})
    return caught.value.problems


def test_defaults_follow_the_specification() -> None:
    config = V6Config()

    assert config.risk.portfolio.max_abs_delta == 200
    assert config.risk.portfolio.max_abs_gamma == 500
    assert config.risk.portfolio.max_symbol_concentration == 0.30
    assert config.risk.circuit_breaker.failure_threshold == 3
    assert config.risk.circuit_breaker.window_seconds == 300
    assert config.broker.kind == "sim"
    assert config.broker.trading_mode == "sim"
    assert config.broker.ib.port == 4002
    assert config.broker.market_data_lines == 100
    assert config.sync.streaming_lines == 10
    assert config.decisions.stop_loss.credit_multiple == 2.0
    assert config.decisions.take_profit.profit_fraction == 0.5
    assert config.decisions.time_exit.max_dte == 21
    assert config.storage.vacuum_retention_hours >= 24


def test_default_templates_sell_20_delta_45_dte_condors_for_a_fifth_verticals_for_a_tenth() -> None:
    templates = V6Config().strategies.templates

    assert {t.kind for t in templates} == set(StrategyKind)
    for template in templates:
        assert (template.short_delta, template.wing_width, template.target_dte) == (0.2, 5.0, 45)
        expected = 0.1 if template.kind.is_vertical else 0.2
        assert template.min_credit_fraction == pytest.approx(expected)
        assert template.trend_filter == template.kind.is_vertical


def test_the_default_short_delta_is_below_the_delta_breach_rule() -> None:
    config = V6Config()

    breach = config.decisions.delta_breach.max_short_delta
    assert all(t.short_delta < breach for t in config.strategies.templates)


@pytest.mark.parametrize(
    ("text", "location", "expected"),
    [
        ("[broker]\nkind = 'sim'\ntrading_mode = 'paper'", "broker.trading_mode", "'sim'"),
        ("[broker]\nkind = 'ib'", "broker.trading_mode", "'paper' or 'live'"),
        ("[broker]\nkind = 'ib'\ntrading_mode = 'live'", "broker.ib.account", "live account"),
        (
            "[broker.sim]\nstart_date = 2024-05-01\nend_date = 2024-04-30",
            "broker.sim.end_date",
            "on or after start_date (2024-05-01)",
        ),
        ("[broker.sim]\nbar_step_minutes = 7", "broker.sim.bar_step_minutes", "divisor of 30"),
        (
            "[broker.ib]\nretry_backoff_seconds = 30\nmax_backoff_seconds = 10",
            "broker.ib.max_backoff_seconds",
            ">= retry_backoff_seconds (30.0)",
        ),
        (
            "[sync]\nstreaming_lines = 101",
            "sync.streaming_lines",
            "<= broker.market_data_lines (100)",
        ),
        (
            "[broker]\npacing_messages_per_second = 30.0",
            "sync.snapshot_rate_per_second",
            "<= broker.pacing_messages_per_second (30.0) - sync.snapshot_burst (4)",
        ),
        (
            "[sync]\nsnapshot_rate_per_second = 47.0",
            "sync.snapshot_rate_per_second",
            "<= broker.pacing_messages_per_second (50.0) - sync.snapshot_burst (4)",
        ),
        (
            "[sync]\nproximity_enter_fraction = 0.05",
            "sync.proximity_exit_fraction",
            "> proximity_enter_fraction (0.05)",
        ),
        ("[storage]\nvacuum_retention_hours = 12", "storage.vacuum_retention_hours", ">= 24"),
        ("[storage]\nlocation = 'gs://bucket/v6'", "storage.location", "s3://bucket/prefix"),
        ("[dashboard]\nrefresh_seconds = 10", "dashboard.refresh_seconds", "0, 5, 30 or 60"),
    ],
)
def test_a_broken_rule_is_pinned_to_the_field_to_change(
    text: str, location: str, expected: str
) -> None:
    [problem] = problems_of(text)

    assert problem.location == location
    assert expected in problem.expected


def test_live_trading_with_an_account_is_accepted() -> None:
    text = "[broker]\nkind = 'ib'\ntrading_mode = 'live'\n[broker.ib]\naccount = 'U1234567'\n"

    assert load_config_text(text, {}).broker.ib.account == "U1234567"


TEMPLATE = "[[strategies.templates]]\nname = '{name}'\nkind = '{kind}'\n"


def test_a_template_reports_every_broken_rule_at_once() -> None:
    text = (
        TEMPLATE.format(name="a", kind="iron_condor")
        + "min_dte = 50\ntrend_filter = true\n"
        + "entry_after_open_minutes = 200\nentry_before_close_minutes = 190\n"
    )

    locations = [problem.location for problem in problems_of(text)]

    assert locations == [
        "strategies.templates[0].target_dte",
        "strategies.templates[0].entry_before_close_minutes",
        "strategies.templates[0].trend_filter",
    ]


def test_a_dte_window_with_max_below_min_is_reported_on_max() -> None:
    text = TEMPLATE.format(name="a", kind="vertical_bull_put") + "min_dte = 40\nmax_dte = 35\n"

    [problem] = problems_of(text)

    assert problem.location == "strategies.templates[0].max_dte"
    assert problem.expected == "a number >= min_dte (40)"


def test_template_names_are_unique() -> None:
    text = TEMPLATE.format(name="same", kind="iron_condor") + TEMPLATE.format(
        name="same", kind="vertical_bear_call"
    )

    [problem] = problems_of(text)

    assert (problem.location, problem.value) == ("strategies.templates[1].name", "'same'")


def test_short_delta_is_range_checked() -> None:
    text = TEMPLATE.format(name="a", kind="iron_condor") + "short_delta = 0.6\n"

    [problem] = problems_of(text)

    assert str(problem) == "strategies.templates[0].short_delta: got 0.6; expected a number <= 0.5"


def test_templates_from_the_file_replace_the_defaults_and_enabled_filters() -> None:
    text = TEMPLATE.format(name="a", kind="iron_condor") + TEMPLATE.format(
        name="b", kind="iron_condor"
    )
    text += "enabled = false\n"

    strategies = load_config_text(text, {}).strategies

    assert [t.name for t in strategies.templates] == ["a", "b"]
    assert [t.name for t in strategies.enabled()] == ["a"]


@pytest.mark.parametrize(
    ("host", "requires"),
    [
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("localhost", False),
        ("0.0.0.0", True),
        ("192.168.1.20", True),
        ("dashboard.example.com", True),
    ],
)
def test_the_dashboard_needs_a_password_beyond_loopback(host: str, requires: bool) -> None:
    assert DashboardConfig(host=host).requires_password() is requires


def test_alert_severity_names_match_the_domain() -> None:
    alerts = load_config_text("[alerts]\nmin_severity = 'critical'\n", {}).alerts

    assert alerts.notified_severity() is Severity.CRITICAL
    assert set(get_args(SeverityName)) == {member.name.lower() for member in Severity}


def test_models_are_built_directly_with_the_same_rules() -> None:
    with pytest.raises(ValueError, match="trading_mode"):
        BrokerConfig(kind="ib")
