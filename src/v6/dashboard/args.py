"""The arguments the dashboard script takes after ``--`` (kept free of Streamlit, so the
command line can build them without importing it)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class DashboardArgumentError(ValueError):
    """The arguments the dashboard script was started with are not usable."""


@dataclass(frozen=True)
class DashboardArgs:
    """The script's arguments: data location and configuration file (both optional)."""

    data_dir: str | None = None
    config: Path | None = None

    @classmethod
    def parse(cls, argv: Sequence[str]) -> DashboardArgs:
        parser = argparse.ArgumentParser(
            prog="v6 dashboard app", add_help=False, exit_on_error=False
        )
        parser.add_argument("--data-dir", dest="data_dir")
        parser.add_argument("--config", type=Path)
        try:
            parsed, _ = parser.parse_known_args(list(argv))
        except argparse.ArgumentError as error:
            raise DashboardArgumentError(f"dashboard arguments {list(argv)}: {error}") from None
        return cls(parsed.data_dir, parsed.config)

    def to_argv(self) -> list[str]:
        """The arguments that `parse` reads back as these."""
        argv = [] if self.data_dir is None else ["--data-dir", self.data_dir]
        return argv if self.config is None else [*argv, "--config", str(self.config)]
