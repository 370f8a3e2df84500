"""The options every command reading V6's tables shares: where the data is (``--data-dir``,
``--config``) and the store location they name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from v6.config import ConfigError, load_config
from v6.store.tables import StoreLocation

DataDir = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        help="Data location (local directory or s3://bucket/prefix); tables are under "
        "<data-dir>/tables. Default: storage.location of --config.",
    ),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option("--config", help="Configuration file for the location and storage options."),
]


def store_location(data_dir: str | None, config: Path | None) -> StoreLocation:
    """The location ``--data-dir`` names (default: the configuration's storage location),
    with the configuration's storage options; ValueError naming every problem otherwise."""
    try:
        return StoreLocation.from_config(load_config(config).storage, data_dir)
    except ConfigError as error:
        raise ValueError("; ".join(str(problem) for problem in error.problems)) from None
