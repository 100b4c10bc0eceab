"""Pools (`pool: NAME` on a node): at most the pool's size of its nodes run at once.

A node of a pool takes a slot before it runs and gives it back when it ends, however it ends.
A run with a store takes its slots there (`wfe.store.pools`), so the limit holds across every
process sharing the store; a run without one counts within this process. A node that finds its
pool full says so once (a `log` event) and waits, looking again with a growing delay.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import TYPE_CHECKING

from wfe.engine.interrupts import Stop
from wfe.engine.journal import Release

if TYPE_CHECKING:
    from wfe.engine.run_context import RunContext
    from wfe.graph.model import GraphNode

FIRST_LOOK_SECONDS = 0.02
LONGEST_LOOK_SECONDS = 0.5


class InProcessPools:
    """Slots counted in this process, for runs without a store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()

    def take_slot(self, pool: str, size: int, node: str) -> Release | None:
        with self._lock:
            if self._held[pool] >= size:
                return None
            self._held[pool] += 1
        return lambda: self._give_back(pool)

    def _give_back(self, pool: str) -> None:
        with self._lock:
            self._held[pool] -= 1

    def cancel_requested(self) -> bool:
        return False  # a run without a store is cancelled by its own process


IN_PROCESS = InProcessPools()


async def take_slot(engine: RunContext, node: GraphNode) -> Release:
    """Wait for a slot of the node's pool; `wfe cancel` ends the wait."""
    assert node.pool is not None
    source = engine.slots
    delay = FIRST_LOOK_SECONDS
    said = False
    while True:
        release = source.take_slot(node.pool, node.pool_size, node.name)
        if release is not None:
            return release
        if not said:
            if engine.info.sink is not None:
                engine.info.sink(node.name, f"waiting for a slot of pool '{node.pool}' (all "
                                            f"{node.pool_size} in use)")
            said = True
        if source.cancel_requested():
            raise Stop("cancelled", None)
        await asyncio.sleep(delay)
        delay = min(delay * 2, LONGEST_LOOK_SECONDS)
