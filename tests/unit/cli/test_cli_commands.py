"""The `v6` command line, driven through typer's runner (the real app, real config files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from v6 import __version__
from v6.cli import app

REPO = Path(__file__).resolve().parents[3]
runner = CliRunner()


def test_help_lists_the_real_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("version", "config", "run", "sim", "db", "dashboard", "report", "health"):
        assert command in result.output


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"v6 {__version__}"


@pytest.mark.parametrize("name", ["v6.example.toml", "paper.toml", "sim.toml"])
def test_config_check_accepts_the_shipped_configs(name: str) -> None:
    result = runner.invoke(app, ["config", "check", str(REPO / "config" / name)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK"


def _check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "v6.toml"
    path.write_text(text)
    result = runner.invoke(app, ["config", "check", str(path)])
    return result.exit_code, result.output


def test_config_check_reports_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", str(tmp_path / "absent.toml")])
    assert result.exit_code == 2
    assert "absent.toml" in result.output


def test_config_check_reports_bad_toml_syntax(tmp_path: Path) -> None:
    code, output = _check(tmp_path, "[risk\nmax = 1\n")
    assert code == 2
    assert "line 1" in output


def test_config_check_names_an_unknown_nested_key(tmp_path: Path) -> None:
    code, output = _check(tmp_path, "[risk.portfolio]\nmax_abs_delt = 150\n")
    assert code == 2
    assert "risk.portfolio.max_abs_delt" in output


def test_config_check_names_a_wrong_type_with_its_value(tmp_path: Path) -> None:
    code, output = _check(tmp_path, '[risk.portfolio]\nmax_abs_delta = "lots"\n')
    assert code == 2
    assert "risk.portfolio.max_abs_delta" in output
    assert "lots" in output


def test_config_check_names_an_out_of_range_value(tmp_path: Path) -> None:
    code, output = _check(tmp_path, "[risk.portfolio]\nmax_symbol_concentration = 1.5\n")
    assert code == 2
    assert "risk.portfolio.max_symbol_concentration" in output
    assert "1.5" in output


def test_config_check_reports_every_problem_not_just_the_first(tmp_path: Path) -> None:
    text = "[risk.portfolio]\nmax_abs_delta = -1\nmax_symbol_concentration = 2\nbogus = 1\n"
    code, output = _check(tmp_path, text)
    assert code == 2
    for field in ("max_abs_delta", "max_symbol_concentration", "bogus"):
        assert f"risk.portfolio.{field}" in output


def test_sim_chain_prints_a_real_days_simulated_chain() -> None:
    result = runner.invoke(
        app, ["sim", "chain", "SPY", "--date", "2020-03-16", "--expirations", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "SPY 2020-03-16 10:00 New York" in result.output
    assert "SPY 2020-03-20" in result.output


def test_sim_chain_rejects_a_day_without_a_session() -> None:
    result = runner.invoke(app, ["sim", "chain", "SPY", "--date", "2020-03-21"])
    assert result.exit_code == 1
    assert "not an NYSE session" in result.output


def test_db_stats_lists_the_tables_of_a_data_dir(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "stats", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "strategies" in result.output
