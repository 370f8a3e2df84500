"""Field validators shared by the domain dataclasses.

Each takes ``where`` (``"Class.field"``) and the error class to raise, so messages read
``Fill.price = -1.0: expected a finite number >= 0``.
"""

import math
import re
from datetime import UTC, datetime
from enum import Enum
from typing import TypeVar

from v6.domain.errors import DomainError

E = TypeVar("E", bound=Enum)

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.\-]+")


def require_identifier(value: str, where: str, error: type[DomainError]) -> str:
    """A non-empty key of letters, digits, ``_``, ``.``, ``-`` (no ``:``, used in order refs)."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise error(f"{where} = {value!r}: expected a non-empty identifier of [A-Za-z0-9_.-]")
    return value


def require_text(value: str, where: str, error: type[DomainError]) -> str:
    """A string with at least one non-blank character."""
    if not isinstance(value, str) or not value.strip():
        raise error(f"{where} = {value!r}: expected non-blank text")
    return value


def require_nonzero_int(value: int, where: str, error: type[DomainError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise error(f"{where} = {value!r}: expected a non-zero integer")
    return value


def require_positive_int(value: int, where: str, error: type[DomainError]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise error(f"{where} = {value!r}: expected an integer > 0")
    return value


def require_finite(value: float, where: str, error: type[DomainError]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise error(f"{where} = {value!r}: expected a finite number")
    return value


def require_non_negative(value: float, where: str, error: type[DomainError]) -> float:
    require_finite(value, where, error)
    if value < 0:
        raise error(f"{where} = {value!r}: expected a finite number >= 0")
    return value


def require_utc(value: datetime, where: str, error: type[DomainError]) -> datetime:
    """An aware datetime, returned in UTC; naive datetimes are rejected, not guessed."""
    if not isinstance(value, datetime):
        raise error(f"{where} = {value!r}: expected a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise error(f"{where} = {value!r}: expected a timezone-aware UTC datetime, got naive")
    return value.astimezone(UTC)


def require_optional_utc(
    value: datetime | None, where: str, error: type[DomainError]
) -> datetime | None:
    return None if value is None else require_utc(value, where, error)


def require_member(value: E, enum_type: type[E], where: str, error: type[DomainError]) -> E:
    if not isinstance(value, enum_type):
        names = ", ".join(member.name for member in enum_type)
        raise error(f"{where} = {value!r}: expected a member of {enum_type.__name__} ({names})")
    return value
