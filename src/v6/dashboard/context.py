"""What every page needs: the configuration, the data location and the store access.

The app is started as ``streamlit run app.py -- --data-dir DIR [--config FILE]`` (by
``v6 dashboard``); the arguments after ``--`` reach the script as ``sys.argv``. The data
directory overrides ``storage.location`` of the configuration; the password comes from
``V6_DASHBOARD_PASSWORD`` as the configuration loader reads it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import streamlit as st

from v6.config import V6Config, load_config
from v6.dashboard.args import DashboardArgs
from v6.dashboard.data import StoreAccess
from v6.store import StoreLocation


@dataclass(frozen=True)
class DashboardContext:
    config: V6Config
    location: StoreLocation
    access: StoreAccess

    @property
    def root(self) -> str:
        return self.location.root


def build_context(args: DashboardArgs) -> DashboardContext:
    """Configuration and store access for ``args`` (raises ConfigError for a bad file)."""
    config = load_config(args.config)
    storage = config.storage
    if args.data_dir is not None:
        storage = storage.model_copy(update={"location": args.data_dir})
    location = StoreLocation.from_config(storage)
    return DashboardContext(config, location, StoreAccess(location))


@st.cache_resource(show_spinner=False)
def _context(argv: tuple[str, ...]) -> DashboardContext:
    return build_context(DashboardArgs.parse(argv))


def current() -> DashboardContext:
    """The context of this server process (shared by every session)."""
    return _context(tuple(sys.argv[1:]))
