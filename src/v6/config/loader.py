"""Load the configuration: TOML file, then `V6_` environment overrides, then validation."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from v6.config._base import HIDDEN
from v6.config.env import read_overrides, secret_fields
from v6.config.errors import FILE_LOCATION, ConfigError, ConfigProblem, dotted, shown
from v6.config.root import V6Config
from v6.config.validation import problems_from_validation


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> V6Config:
    """Read the TOML file at `path` (None: defaults only) with overrides from `env`.

    `env` defaults to `os.environ`. Raises `ConfigError` listing every problem found.
    """
    if path is None:
        return load_config_text("", env)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        problem = ConfigProblem(FILE_LOCATION, shown(str(path)), f"a readable TOML file ({reason})")
        raise ConfigError([problem]) from None
    return load_config_text(text, env, source=str(path))


def load_config_text(
    text: str, env: Mapping[str, str] | None = None, source: str = "<text>"
) -> V6Config:
    """Like `load_config`, from TOML text; `source` names the text in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problem = ConfigProblem(FILE_LOCATION, "", f"valid TOML in {source}: {error}")
        raise ConfigError([problem]) from None
    return _validated(data, os.environ if env is None else env)


def _validated(data: dict[str, object], env: Mapping[str, str]) -> V6Config:
    problems = _remove_secrets(data)
    overrides = read_overrides(env)
    problems.extend(overrides.problems)
    try:
        config = V6Config.model_validate(overrides.applied_to(data))
    except ValidationError as error:
        problems.extend(problems_from_validation(error, overrides.sources))
    if problems:
        raise ConfigError(problems)
    return config


def _remove_secrets(data: dict[str, object]) -> list[ConfigProblem]:
    """Drop every secret written in the file, with a problem naming its variable."""
    problems: list[ConfigProblem] = []
    for secret in secret_fields():
        table: object = data
        for part in secret.path[:-1]:
            table = table.get(part) if isinstance(table, dict) else None
        if isinstance(table, dict) and secret.path[-1] in table:
            del table[secret.path[-1]]
            problems.append(
                ConfigProblem(
                    dotted(secret.path),
                    repr(HIDDEN),
                    f"no secret in a file; set the environment variable {secret.variable}",
                )
            )
    return problems
