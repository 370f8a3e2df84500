"""V6_ environment overrides and secrets, which only the environment may set."""

from pathlib import Path

import pytest

from v6.config import ConfigError, ConfigProblem, V6Config, load_config, load_config_text


def problems_of(text: str, env: dict[str, str]) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, env)
    return caught.value.problems


def test_an_override_beats_the_file(tmp_path: Path) -> None:
    path = tmp_path / "v6.toml"
    path.write_text("[risk.portfolio]\nmax_abs_delta = 150\n", encoding="utf-8")

    config = load_config(path, env={"V6_RISK__PORTFOLIO__MAX_ABS_DELTA": "120"})

    assert config.risk.portfolio.max_abs_delta == 120.0


def test_overrides_keep_the_rest_of_the_files_section() -> None:
    config = load_config_text(
        "[broker.ib]\nport = 4001\nclient_id = 7\n", {"V6_BROKER__IB__CLIENT_ID": "9"}
    )

    assert (config.broker.ib.port, config.broker.ib.client_id) == (4001, 9)


def test_overrides_read_booleans_enums_dates_and_arrays() -> None:
    env = {
        "V6_ENGINE__DRY_RUN": "true",
        "V6_BROKER__KIND": "ib",
        "V6_BROKER__TRADING_MODE": "paper",
        "V6_BROKER__SIM__START_DATE": "2020-03-02",
        "V6_BROKER__SIM__SYMBOLS": "SPY, IWM",
        "V6_DECISIONS__EVENT__MARKET_WIDE": '["2025-01-29"]',
        "V6_DECISIONS__EVENT__PER_SYMBOL": '{"SPY": ["2025-06-20"]}',
    }

    config = load_config_text("", env)

    assert config.engine.dry_run is True
    assert config.broker.kind == "ib"
    assert config.broker.sim.start_date.isoformat() == "2020-03-02"
    assert config.broker.sim.symbols == ("SPY", "IWM")
    assert [d.isoformat() for d in config.decisions.event.dates_for("SPY")] == [
        "2025-01-29",
        "2025-06-20",
    ]


def test_variable_names_are_case_insensitive_after_the_prefix() -> None:
    config = load_config_text("", {"V6_logging__LEVEL": "DEBUG"})

    assert config.logging.level == "DEBUG"


def test_a_bad_override_names_its_variable() -> None:
    [problem] = problems_of("", {"V6_RISK__PORTFOLIO__MAX_ABS_DELTA": "-5"})

    assert str(problem) == (
        "risk.portfolio.max_abs_delta (from V6_RISK__PORTFOLIO__MAX_ABS_DELTA): "
        "got '-5'; expected a number >= 0"
    )


def test_an_override_that_breaks_a_cross_field_rule_names_its_variable() -> None:
    [problem] = problems_of("", {"V6_SYNC__STREAMING_LINES": "101"})

    assert problem.location == "sync.streaming_lines"
    assert problem.source == "V6_SYNC__STREAMING_LINES"


def test_bad_json_in_an_override_is_reported() -> None:
    [problem] = problems_of("", {"V6_DECISIONS__EVENT__PER_SYMBOL": "{SPY: 1"})

    assert problem.source == "V6_DECISIONS__EVENT__PER_SYMBOL"
    assert problem.expected.startswith("valid JSON")


@pytest.mark.parametrize(
    ("variable", "location", "hint"),
    [
        ("V6_RISK__PORTFOLO__MAX_ABS_DELTA", "risk.portfolo.max_abs_delta", "portfolio"),
        ("V6_DASHBOARD_PORT", "dashboard_port", "dashboard"),
        ("V6_BROKER__KIND__X", "broker.kind.x", "to be a section, but it is an option"),
        ("V6_BROKER__IB", "broker.ib", "e.g. V6_BROKER__IB__HOST"),
    ],
)
def test_a_variable_that_names_no_option_is_a_problem(
    variable: str, location: str, hint: str
) -> None:
    [problem] = problems_of("", {variable: "1"})

    assert (problem.location, problem.source) == (location, variable)
    assert hint in problem.expected


def test_variables_without_the_prefix_are_not_ours() -> None:
    env = {"HOME": "/root", "V6X": "1", "v6_engine__dry_run": "x"}

    assert load_config_text("", env) == V6Config()


def test_the_dashboard_password_comes_from_v6_dashboard_password() -> None:
    config = load_config_text("", {"V6_DASHBOARD_PASSWORD": "hunter2-long"})

    assert config.dashboard.password is not None
    assert config.dashboard.password.get_secret_value() == "hunter2-long"


def test_the_generic_name_sets_a_secret_too_but_not_together_with_the_alias() -> None:
    generic = {"V6_DASHBOARD__PASSWORD": "a-password"}
    assert load_config_text("", generic).dashboard.password is not None

    [problem] = problems_of("", {**generic, "V6_DASHBOARD_PASSWORD": "b-password"})
    assert problem.location == "dashboard.password"
    assert "only one of" in problem.expected
    assert "a-password" not in str(problem)
    assert "b-password" not in str(problem)


def test_notification_urls_are_comma_separated_secrets() -> None:
    urls = "tgram://bottoken/chat, mailto://user:pw@example.com"

    config = load_config_text("", {"V6_ALERTS__URLS": urls})

    assert [url.get_secret_value() for url in config.alerts.urls] == [
        "tgram://bottoken/chat",
        "mailto://user:pw@example.com",
    ]


def test_object_storage_credentials_come_from_the_environment() -> None:
    env = {
        "V6_STORAGE__LOCATION": "s3://bucket/v6",
        "V6_STORAGE__ACCESS_KEY_ID": "AKIDEXAMPLE",
        "V6_STORAGE__SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
        "V6_STORAGE__STORAGE_OPTIONS": '{"aws_region": "us-east-1"}',
    }

    storage = load_config_text("", env).storage

    assert storage.is_object_store
    assert storage.deltalake_storage_options() == {
        "aws_region": "us-east-1",
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": "wJalrXUtnFEMI",
    }


@pytest.mark.parametrize(
    ("text", "location", "variable"),
    [
        ("[dashboard]\npassword = 'pw-in-file'\n", "dashboard.password", "V6_DASHBOARD_PASSWORD"),
        ("[alerts]\nurls = ['tgram://pw-in-file/1']\n", "alerts.urls", "V6_ALERTS__URLS"),
        (
            "[storage]\nsecret_access_key = 'pw-in-file'\n",
            "storage.secret_access_key",
            "V6_STORAGE__SECRET_ACCESS_KEY",
        ),
    ],
)
def test_a_secret_in_the_file_is_a_problem_naming_the_variable(
    text: str, location: str, variable: str
) -> None:
    [problem] = problems_of(text, {})

    assert problem.location == location
    assert f"set the environment variable {variable}" in problem.expected
    assert "pw-in-file" not in str(problem)


def test_credentials_in_storage_options_are_refused_without_showing_them() -> None:
    text = "[storage.storage_options]\naws_secret_access_key = 'pw-in-file'\n"

    [problem] = problems_of(text, {})

    assert problem.location == "storage.storage_options.aws_secret_access_key"
    assert "V6_STORAGE__SECRET_ACCESS_KEY" in problem.expected
    assert "pw-in-file" not in str(problem)


def test_a_bad_secret_is_reported_without_its_value() -> None:
    [problem] = problems_of("", {"V6_ALERTS__URLS": "not-a-url-pw"})

    assert problem.location == "alerts.urls"
    assert problem.source == "V6_ALERTS__URLS"
    assert "not-a-url-pw" not in str(problem)


def test_secrets_never_appear_in_repr_str_or_dumps() -> None:
    env = {
        "V6_DASHBOARD_PASSWORD": "pw-dashboard",
        "V6_ALERTS__URLS": "tgram://pw-token/1",
        "V6_STORAGE__SESSION_TOKEN": "pw-session",
    }

    config = load_config_text("", env)

    for text in (repr(config), str(config), config.model_dump_json(), str(config.model_dump())):
        assert "pw-" not in text


def test_no_overrides_means_the_file_alone() -> None:
    assert load_config_text("", {}) == V6Config()


def test_templates_can_be_replaced_with_json() -> None:
    env = {
        "V6_STRATEGIES__TEMPLATES": '[{"name": "spy_only", "kind": "iron_condor", '
        '"underlyings": ["SPY"]}]'
    }

    [template] = load_config_text("", env).strategies.templates

    assert (template.name, template.underlyings) == ("spy_only", ("SPY",))


def test_a_bad_template_from_json_names_the_variable_and_the_item() -> None:
    env = {"V6_STRATEGIES__TEMPLATES": '[{"name": "x", "kind": "iron_condor", "quantity": 0}]'}

    [problem] = problems_of("", env)

    assert problem.location == "strategies.templates[0].quantity"
    assert problem.source == "V6_STRATEGIES__TEMPLATES"
