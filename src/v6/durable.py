"""Making files survive a crash of the machine, not only of the process."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make the entries of ``directory`` durable: a file just created or renamed into it is
    only found after a power cut once its directory is fsync'd too."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
