"""Configuration problems: what is wrong, where, and what was expected instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FILE_LOCATION = "<file>"
MAX_VALUE_CHARS = 120

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a configuration.

    `location` is the dotted field path (`risk.portfolio.max_abs_delta`,
    `strategies.templates[0].name`) or `<file>` for the file as a whole; `value` is the repr of
    the offending value ("" when there is none to show); `source` names the environment
    variable the value came from ("" when it came from the file or a default).
    """

    location: str
    value: str
    expected: str
    source: str = ""

    def __str__(self) -> str:
        where = f"{self.location} (from {self.source})" if self.source else self.location
        got = f"got {self.value}; " if self.value else ""
        return f"{where}: {got}expected {self.expected}"


class ConfigError(Exception):
    """The configuration is unusable; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid configuration ({count} {noun}):{lines}")


def dotted(location: Location) -> str:
    """`("strategies", "templates", 0, "name")` as `strategies.templates[0].name`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text


def shown(value: object) -> str:
    """The repr of a value, cut short enough to read on one line."""
    text = repr(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."
