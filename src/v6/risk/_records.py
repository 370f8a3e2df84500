"""Reading plain-dict (JSON-safe) state records back, with errors that name the field.

Records keep times as ISO-8601 text with an offset and dates as ``YYYY-MM-DD``, so they
survive a JSON round trip and a store column of text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TypeVar

Record = dict[str, object]
E = TypeVar("E", bound=StrEnum)


def iso_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


class RecordReader:
    """Typed access to one record; every error names ``where.field`` and what was expected."""

    def __init__(
        self, record: Mapping[str, object], where: str, version: int | None = None
    ) -> None:
        """``version``, when given, must equal the record's ``version`` field."""
        if not isinstance(record, Mapping):
            raise ValueError(f"{where} = {record!r}: expected a mapping")
        self._record = record
        self._where = where
        found = record.get("version")
        if version is not None and found != version:
            raise ValueError(f"{where}.version = {found!r}: expected {version}")

    def _fail(self, name: str, expected: str) -> ValueError:
        return ValueError(f"{self._where}.{name} = {self._record.get(name)!r}: expected {expected}")

    def _get(self, name: str) -> object:
        if name not in self._record:
            raise ValueError(f"{self._where}.{name}: missing")
        return self._record[name]

    def flag(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise self._fail(name, "true or false")
        return value

    def count(self, name: str) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._fail(name, "an integer >= 0")
        return value

    def optional_number(self, name: str) -> float | None:
        value = self._get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(name, "a number or null")
        return float(value)

    def optional_text(self, name: str) -> str | None:
        value = self._get(name)
        if value is not None and not isinstance(value, str):
            raise self._fail(name, "text or null")
        return value

    def member(self, name: str, enum: type[E]) -> E:
        value = self._get(name)
        values = [member.value for member in enum]
        if isinstance(value, str) and value in values:
            return enum(value)
        raise self._fail(name, f"one of {values}")

    def optional_time(self, name: str) -> datetime | None:
        value = self._get(name)
        return None if value is None else self._time(name, value)

    def times(self, name: str) -> tuple[datetime, ...]:
        value = self._get(name)
        if not isinstance(value, list | tuple):
            raise self._fail(name, "a list of ISO-8601 times")
        return tuple(self._time(name, item) for item in value)

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self._fail(name, "a list of text")
        return tuple(value)

    def optional_date(self, name: str) -> date | None:
        value = self._get(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self._fail(name, "a date YYYY-MM-DD or null") from None

    def rows(self, name: str) -> list[Mapping[str, object]]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
            raise self._fail(name, "a list of mappings")
        return value

    def _time(self, name: str, value: object) -> datetime:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise self._fail(name, "ISO-8601 time(s) with a UTC offset") from None
        if parsed.utcoffset() is None:
            raise self._fail(name, "ISO-8601 time(s) with a UTC offset")
        return parsed.astimezone(UTC)
