"""Loading a TOML file: every kind of problem is reported with location, value and expectation."""

from pathlib import Path

import pytest

from v6.config import ConfigError, ConfigProblem, V6Config, load_config, load_config_text


def problems_of(text: str, env: dict[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, env or {})
    return caught.value.problems


def test_a_missing_file_is_one_file_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(ConfigError) as caught:
        load_config(missing, env={})

    [problem] = caught.value.problems
    assert problem.location == "<file>"
    assert problem.value == repr(str(missing))
    assert "readable TOML file" in problem.expected
    assert "No such file" in problem.expected


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})

    assert caught.value.problems[0].location == "<file>"


def test_bad_toml_syntax_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "v6.toml"
    path.write_text('[broker]\nkind = "sim"\nport = \n', encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})

    [problem] = caught.value.problems
    assert problem.location == "<file>"
    assert str(path) in problem.expected
    assert "line 3" in problem.expected


def test_an_unknown_nested_key_is_reported_with_its_dotted_path_and_the_known_keys() -> None:
    [problem] = problems_of("[risk.portfolio]\nmax_abs_delt = 150\n")

    assert problem.location == "risk.portfolio.max_abs_delt"
    assert problem.value == "150"
    assert "no option 'max_abs_delt'" in problem.expected
    assert "max_abs_delta" in problem.expected


def test_an_unknown_section_is_reported_at_the_top_level() -> None:
    [problem] = problems_of("[brokr]\nkind = 'ib'\n")

    assert problem.location == "brokr"
    assert "the top level has no option 'brokr'" in problem.expected


def test_an_unknown_key_inside_a_template_is_reported_with_its_index() -> None:
    text = "[[strategies.templates]]\nname = 'a'\nkind = 'iron_condor'\nshort_detla = 0.2\n"

    [problem] = problems_of(text)

    assert problem.location == "strategies.templates[0].short_detla"
    assert "short_delta" in problem.expected


def test_a_wrong_type_is_reported_with_the_value_and_the_type_expected() -> None:
    [problem] = problems_of("[dashboard]\nport = 'eighty'\n")

    assert problem.location == "dashboard.port"
    assert problem.value == "'eighty'"
    assert problem.expected == "an integer"


def test_a_scalar_where_a_section_belongs_is_a_wrong_type() -> None:
    [problem] = problems_of("risk = 3\n")

    assert (problem.location, problem.expected) == ("risk", "a table")


def test_an_out_of_range_value_formats_like_the_cli_prints_it() -> None:
    [problem] = problems_of("[risk.portfolio]\nmax_abs_delta = -5\n")

    assert str(problem) == "risk.portfolio.max_abs_delta: got -5; expected a number >= 0"


def test_a_choice_outside_its_options_lists_the_options() -> None:
    [problem] = problems_of("[broker]\nkind = 'tws'\n")

    assert problem.location == "broker.kind"
    assert problem.expected == "one of 'sim' or 'ib'"


def test_a_missing_required_template_field_is_reported_without_a_value() -> None:
    [problem] = problems_of("[[strategies.templates]]\nname = 'a'\n")

    assert problem.location == "strategies.templates[0].kind"
    assert str(problem) == (
        "strategies.templates[0].kind: expected a value (this option has no default)"
    )


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = "[risk.portfolio]\nmax_abs_gamma = -1\nbogus = 1\n[dashboard]\nport = 0\n"

    locations = {problem.location for problem in problems_of(text)}

    assert locations == {
        "risk.portfolio.max_abs_gamma",
        "risk.portfolio.bogus",
        "dashboard.port",
    }


def test_the_error_message_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text("[dashboard]\nport = 0\n[health]\nport = 0\n", {})

    message = str(caught.value)
    assert message.startswith("invalid configuration (2 problems):")
    assert "dashboard.port: got 0; expected a number >= 1" in message
    assert "health.port: got 0; expected a number >= 1" in message


def test_an_empty_file_and_no_file_both_give_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")

    assert load_config(path, env={}) == V6Config()
    assert load_config(None, env={}) == V6Config()


def test_loaded_config_is_frozen() -> None:
    config = load_config_text("", {})

    with pytest.raises(ValueError, match="frozen"):
        config.risk.portfolio.max_abs_delta = 1.0  # type: ignore[misc]
