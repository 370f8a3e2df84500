"""Logging configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from v6.config._base import ConfigPart


class LoggingConfig(ConfigPart):
    """How much the processes log, and in which format."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe record that is written."
    )
    json_format: bool = Field(
        default=False, description="One JSON object per line instead of readable text."
    )
