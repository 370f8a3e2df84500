"""The shipped configuration files: they load, and the example documents every option."""

import re
import tomllib
from pathlib import Path
from typing import get_args

from pydantic import BaseModel

from v6.config import BrokerKind, TradingMode, V6Config, load_config, secret_fields

CONFIG_DIR = Path(__file__).resolve().parents[3] / "config"
EXAMPLE = CONFIG_DIR / "v6.example.toml"
PAPER = CONFIG_DIR / "paper.toml"

HEADER = re.compile(r"^\[\[?([\w.]+)\]\]?\s*$")
COMMENTED_OPTION = re.compile(r"^#\s*(\w+)\s*=")


def commented_options(text: str) -> set[str]:
    """Dotted paths of options shown only as `# name = ...` lines (no value in TOML)."""
    table = ""
    found: set[str] = set()
    for line in text.splitlines():
        if header := HEADER.match(line):
            table = header.group(1)
        elif option := COMMENTED_OPTION.match(line):
            found.add(f"{table}.{option.group(1)}")
    return found


def submodel(annotation: object) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def undocumented(
    model: type[BaseModel], table: dict[str, object], path: str, commented: set[str]
) -> list[str]:
    """Options of `model` (recursively) absent from `table` and not shown commented out."""
    secrets = {".".join(secret.path) for secret in secret_fields()}
    missing: list[str] = []
    for name, info in model.model_fields.items():
        dotted = f"{path}.{name}" if path else name
        if dotted in secrets:
            continue
        if name not in table:
            if not (info.default is None and dotted in commented):
                missing.append(dotted)
            continue
        value = table[name]
        if (inner := submodel(info.annotation)) is not None:
            assert isinstance(value, dict)
            missing += undocumented(inner, value, dotted, commented)
        elif (items := [submodel(arg) for arg in get_args(info.annotation)]) and items[0]:
            assert isinstance(value, list)
            for index, item in enumerate(value):
                missing += undocumented(items[0], item, f"{dotted}[{index}]", commented)
    return missing


def test_the_example_is_exactly_the_defaults() -> None:
    assert load_config(EXAMPLE, env={}) == V6Config()


def test_the_example_shows_every_option() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")

    assert undocumented(V6Config, tomllib.loads(text), "", commented_options(text)) == []


def test_the_drift_check_notices_a_missing_option() -> None:
    full = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^snapshot_burst = .*\n", "", full)
    assert text != full

    assert undocumented(V6Config, tomllib.loads(text), "", commented_options(text)) == [
        "sync.snapshot_burst"
    ]


def test_the_example_holds_no_secret_but_names_each_secrets_variable() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)

    for secret in secret_fields():
        table: object = data
        for part in secret.path[:-1]:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        assert isinstance(table, dict)
        assert secret.path[-1] not in table
        assert secret.variable in text


def test_the_paper_config_trades_ib_paper_on_the_gateway_paper_port() -> None:
    config = load_config(PAPER, env={})

    assert config.broker.kind is BrokerKind.IB
    assert config.broker.trading_mode is TradingMode.PAPER
    assert (config.broker.ib.host, config.broker.ib.port) == ("127.0.0.1", 4002)
    assert not config.dashboard.requires_password()
    assert config.engine.dry_run is False
