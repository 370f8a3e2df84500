"""Translate pydantic's validation errors into `ConfigProblem`s a user can act on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from v6.config._base import FieldConflictError, model_of
from v6.config.errors import ConfigProblem, Location, dotted, shown
from v6.config.root import V6Config

EnvSources = Mapping[tuple[str, ...], str]


def problems_from_validation(
    error: ValidationError, env_sources: EnvSources
) -> list[ConfigProblem]:
    """Every problem in `error`; `env_sources` maps paths set from variables to their names."""
    problems: list[ConfigProblem] = []
    for detail in error.errors(include_url=False):
        problems.extend(_problems_from_detail(detail, env_sources))
    return problems


def _problems_from_detail(detail: ErrorDetails, env_sources: EnvSources) -> list[ConfigProblem]:
    location: Location = tuple(detail["loc"])
    cause = detail.get("ctx", {}).get("error")
    if isinstance(cause, FieldConflictError):
        return [
            _problem(
                location + _parse_field(conflict.field),
                shown(conflict.value),
                conflict.expected,
                env_sources,
            )
            for conflict in cause.conflicts
        ]
    value = "" if detail["type"] == "missing" else shown(detail["input"])
    return [_problem(location, value, _expected(detail, location), env_sources)]


def _problem(
    location: Location, value: str, expected: str, env_sources: EnvSources
) -> ConfigProblem:
    return ConfigProblem(dotted(location), value, expected, _source_of(location, env_sources))


def _parse_field(field: str) -> Location:
    """`templates[1].name` as `("templates", 1, "name")`."""
    parts: list[str | int] = []
    for piece in field.split("."):
        name, _, index = piece.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return tuple(parts)


def _source_of(location: Location, env_sources: EnvSources) -> str:
    """The variable that set `location` or one of its enclosing options, else ""."""
    names = tuple(part for part in location if isinstance(part, str))
    for length in range(len(names), 0, -1):
        source = env_sources.get(names[:length])
        if source is not None:
            return source
    return ""


def _context(detail: ErrorDetails, key: str) -> object:
    return detail.get("ctx", {}).get(key)


def _bound(detail: ErrorDetails, key: str) -> str:
    """A range bound as written in the model: `0`, not pydantic's `0.0` for float fields."""
    bound = _context(detail, key)
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


A_DATE = "a date (YYYY-MM-DD)"
A_TABLE = "a table"
EXPECTED_BY_ERROR_TYPE: dict[str, Callable[[ErrorDetails], str]] = {
    "greater_than": lambda d: f"a number > {_bound(d, 'gt')}",
    "greater_than_equal": lambda d: f"a number >= {_bound(d, 'ge')}",
    "less_than": lambda d: f"a number < {_bound(d, 'lt')}",
    "less_than_equal": lambda d: f"a number <= {_bound(d, 'le')}",
    "int_type": lambda d: "an integer",
    "int_parsing": lambda d: "an integer",
    "int_from_float": lambda d: "an integer (no fractional part)",
    "float_type": lambda d: "a number",
    "float_parsing": lambda d: "a number",
    "bool_type": lambda d: "true or false",
    "bool_parsing": lambda d: "true or false",
    "string_type": lambda d: "a string",
    "string_too_short": lambda d: f"a string of at least {_context(d, 'min_length')} characters",
    "too_short": lambda d: f"at least {_context(d, 'min_length')} items",
    "literal_error": lambda d: f"one of {_context(d, 'expected')}",
    "enum": lambda d: f"one of {_context(d, 'expected')}",
    "date_type": lambda d: A_DATE,
    "date_parsing": lambda d: A_DATE,
    "date_from_datetime_parsing": lambda d: A_DATE,
    "date_from_datetime_inexact": lambda d: "a date without a time of day",
    "tuple_type": lambda d: "an array",
    "list_type": lambda d: "an array",
    "dict_type": lambda d: A_TABLE,
    "model_type": lambda d: A_TABLE,
    "model_attributes_type": lambda d: A_TABLE,
    "missing": lambda d: "a value (this option has no default)",
    "value_error": lambda d: str(_context(d, "error")),
}


def _expected(detail: ErrorDetails, location: Location) -> str:
    if detail["type"] == "extra_forbidden":
        return unknown_option_text(location[:-1], location[-1])
    describe = EXPECTED_BY_ERROR_TYPE.get(detail["type"])
    return describe(detail) if describe else detail["msg"]


def unknown_option_text(parent: Location, name: str | int) -> str:
    """What to write instead of option `name`, which `parent` does not have."""
    model = model_at(parent)
    where = dotted(parent) or "the top level"
    known = f" (known: {', '.join(model.model_fields)})" if model else ""
    return f"a known option; {where} has no option {name!r}{known}"


def model_at(location: Location) -> type[BaseModel] | None:
    """The configuration model at `location` (list indices step into items), if any."""
    model: type[BaseModel] | None = V6Config
    for part in location:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = model_of(field.annotation) or _item_model(field.annotation)
    return model


def _item_model(annotation: object) -> type[BaseModel] | None:
    """The model of the items of `tuple[Model, ...]`, else None."""
    args = [arg for arg in get_args(annotation) if arg is not Ellipsis]
    return model_of(args[0]) if len(args) == 1 else None
