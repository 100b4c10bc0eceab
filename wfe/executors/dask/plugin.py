"""A Dask worker plugin that puts wfe's import folders on a worker's sys.path."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class SysPath(WorkerPlugin):
    """A Dask worker plugin that puts wfe's import folders on a worker's sys.path, for the
    LocalCluster that wfe starts itself (its workers run on this machine)."""

    name = "wfe-sys-path"

    def __init__(self, folders: list[str]) -> None:
        self.folders = folders

    def setup(self, worker: Any) -> None:
        for folder in reversed(self.folders):
            if folder not in sys.path:
                sys.path.insert(0, folder)
        importlib.invalidate_caches()
