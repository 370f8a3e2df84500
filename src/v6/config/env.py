"""`V6_`-prefixed environment overrides, and secrets (which come from nowhere else).

`V6_<PART>__<OPTION>` sets `<part>.<option>`; `__` separates nesting levels and names are
case-insensitive after the prefix (`V6_RISK__PORTFOLIO__MAX_ABS_DELTA=150`). Values are
read as pydantic reads strings (numbers, true/false, dates, enum names); arrays are
comma-separated or JSON (`[...]`), tables are JSON (`{...}`). A `V6_` variable that names
no option is a problem, so a typo cannot be silently ignored.

This is a small overlay rather than pydantic-settings' env source, which silently drops
unknown top-level prefixed variables (pydantic/pydantic-settings#985) and cannot tell which
variable a bad value came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from v6.config._base import HIDDEN, FromEnvironmentOnly, model_of
from v6.config.errors import ConfigProblem, dotted
from v6.config.root import V6Config
from v6.config.validation import unknown_option_text

PREFIX = "V6_"
DELIMITER = "__"

FieldPath = tuple[str, ...]


def variable_name(path: FieldPath) -> str:
    """The generic variable for a field: `("risk", "portfolio")` -> `V6_RISK__PORTFOLIO`."""
    return PREFIX + DELIMITER.join(part.upper() for part in path)


@dataclass(frozen=True)
class SecretField:
    """A field that only the environment may set, and the variable to set it with."""

    path: FieldPath
    variable: str


def secret_fields(
    model: type[BaseModel] = V6Config, prefix: FieldPath = ()
) -> Iterator[SecretField]:
    """Every environment-only field under `model`; `variable` is the alias if one is declared."""
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        marker = _environment_only(info)
        if marker is not None:
            yield SecretField(path, marker.alias or variable_name(path))
        submodel = model_of(info.annotation)
        if submodel is not None:
            yield from secret_fields(submodel, path)


def _environment_only(info: FieldInfo) -> FromEnvironmentOnly | None:
    markers = [item for item in info.metadata if isinstance(item, FromEnvironmentOnly)]
    return markers[0] if markers else None


@dataclass
class EnvOverrides:
    """Values read from `V6_` variables, where each came from, and what was wrong."""

    values: dict[FieldPath, object] = field(default_factory=dict)
    sources: dict[FieldPath, str] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def applied_to(self, data: Mapping[str, object]) -> dict[str, object]:
        """A copy of `data` (parsed TOML) with every override set in it.

        An override under a key whose file value is not a table is left out: the file's
        value is reported as the wrong type anyway.
        """
        merged = _copy_tables(data)
        for path, value in self.values.items():
            table: object = merged
            for part in path[:-1]:
                if not isinstance(table, dict):
                    break
                table = table.setdefault(part, {})
            if isinstance(table, dict):
                table[path[-1]] = value
        return merged


def _copy_tables(data: Mapping[str, object]) -> dict[str, object]:
    return {
        key: _copy_tables(value) if isinstance(value, Mapping) else value
        for key, value in data.items()
    }


def read_overrides(env: Mapping[str, str]) -> EnvOverrides:
    """Collect every `V6_` variable in `env` as an override or a problem."""
    aliases = {secret.variable: secret.path for secret in secret_fields()}
    secret_paths = set(aliases.values())
    overrides = EnvOverrides()
    for variable in sorted(name for name in env if name.startswith(PREFIX)):
        path = aliases.get(variable) or _path_of(variable)
        problem = _add_override(overrides, variable, path, env[variable], path in secret_paths)
        if problem is not None:
            overrides.problems.append(problem)
    return overrides


def _path_of(variable: str) -> FieldPath:
    return tuple(variable[len(PREFIX) :].lower().split(DELIMITER))


def _add_override(
    overrides: EnvOverrides, variable: str, path: FieldPath, raw: str, secret: bool
) -> ConfigProblem | None:
    target = _field_at(path)
    if isinstance(target, str):
        return ConfigProblem(dotted(path), "", target, variable)
    if path in overrides.sources:
        other = overrides.sources[path]
        return ConfigProblem(dotted(path), "", f"only one of {other} and {variable}", variable)
    try:
        value = _parse(raw, target, secret)
    except ValueError as error:
        shown_value = repr(HIDDEN) if secret else repr(raw)
        return ConfigProblem(dotted(path), shown_value, str(error), variable)
    overrides.values[path] = value
    overrides.sources[path] = variable
    return None


def _field_at(path: FieldPath) -> FieldInfo | str:
    """The option `path` names, or what is wrong with the path."""
    model: type[BaseModel] = V6Config
    for depth, part in enumerate(path[:-1]):
        info = model.model_fields.get(part)
        submodel = model_of(info.annotation) if info else None
        if info is None:
            return unknown_option_text(path[:depth], part)
        if submodel is None:
            return f"{dotted(path[: depth + 1])} to be a section, but it is an option"
        model = submodel
    info = model.model_fields.get(path[-1])
    if info is None:
        return unknown_option_text(path[:-1], path[-1])
    section = model_of(info.annotation)
    if section is not None:
        example = next(iter(section.model_fields))
        return f"an option, not a section: e.g. {variable_name((*path, example))}"
    return info


def _parse(raw: str, info: FieldInfo, secret: bool) -> object:
    """The environment string as the value pydantic will validate for `info`."""
    origin = get_origin(info.annotation)
    is_array = origin in (tuple, list)
    value: object = raw
    if origin is dict or (is_array and raw.lstrip().startswith("[")):
        value = _json(raw)
    elif is_array:
        value = [item.strip() for item in raw.split(",") if item.strip()]
    if not secret:
        return value
    if isinstance(value, list):
        return [SecretStr(str(item)) for item in value]
    return SecretStr(raw)


def _json(raw: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"valid JSON ({error})") from None
