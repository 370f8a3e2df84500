"""``python -m v6.dashboard``: the ``v6 dashboard`` command on its own."""

import typer

from v6.dashboard.cli import dashboard

typer.run(dashboard)
