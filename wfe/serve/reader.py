"""Store reads (and the occasional small write) off the event loop: a few worker threads, each
with its own Store connection, so that a request never stalls the runs sharing the loop.

The runs themselves write through the RunManager's Store, on the loop's thread, as `wfe run`
does; SQLite's WAL lets these readers see every committed step at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from wfe.store import Durability, Store

T = TypeVar("T")


class StoreReader:
    """`await reader.run(lambda store: store.get_run(run_id))` in a worker thread."""

    def __init__(self, path: Path, durability: Durability, threads: int) -> None:
        self.path = path
        self.durability = durability
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wfe-serve-read")
        self._local = threading.local()
        self._stores: list[Store] = []
        self._lock = threading.Lock()

    def _store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.path, durability=self.durability)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    async def run(self, work: Callable[[Store], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: work(self._store()))

    async def call(self, work: Callable[[], T]) -> T:
        """Any other blocking work (loading a workflow file) on the same threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, work)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            stores, self._stores = self._stores, []
        for store in stores:
            store.close()
