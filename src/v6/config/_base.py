"""Building blocks shared by every part of the configuration."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


class ConfigPart(BaseModel):
    """Base of every configuration model: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class FromEnvironmentOnly:
    """Marks a secret field: it is read from the environment only, never from a file.

    Used as `Annotated[...]` metadata. Every such field can be set through its generic
    variable name (`V6_<PART>__<FIELD>`); `alias` names one more accepted variable.
    """

    alias: str | None = None


class _Hidden:
    """Stands in for a value that must not be printed (it may be a credential)."""

    def __repr__(self) -> str:
        return "<hidden>"


HIDDEN = _Hidden()


@dataclass(frozen=True)
class Conflict:
    """A cross-field rule broken inside a model, pinned to the field that has to change.

    `field` is dotted and relative to the model; the problem report uses it as the location
    and `value`/`expected` as written here.
    """

    field: str
    value: object
    expected: str


class FieldConflictError(ValueError):
    """Raised from a model validator with every cross-field rule the model breaks."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        super().__init__("; ".join(f"{c.field}: expected {c.expected}" for c in conflicts))
        self.conflicts = tuple(conflicts)


def raise_conflicts(checks: Iterable[Conflict | None]) -> None:
    """Raise `FieldConflictError` when any check found a conflict (a check passes with None)."""
    conflicts = [conflict for conflict in checks if conflict is not None]
    if conflicts:
        raise FieldConflictError(conflicts)


def model_of(annotation: object) -> type[BaseModel] | None:
    """The configuration model a field's annotation names, or None for a plain value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None
