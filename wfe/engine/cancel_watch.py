"""`wfe cancel` while a fan-out step runs elsewhere: the step is stopped without waiting for its
boundary, which on a cluster may be hours away.

The engine cancels the task awaiting the step's calls, which is how it asks an executor to drop
them (wfe.engine.executor: a cluster cancels its futures), and stops the run as `cancelled`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from wfe.engine.interrupts import Stop

__all__ = ["CANCEL_POLL_SECONDS", "stop_on_cancel"]

T = TypeVar("T")

#: How often a run on a cluster looks for `wfe cancel` while a fan-out step is in flight.
CANCEL_POLL_SECONDS = 0.5


async def stop_on_cancel(work: Coroutine[Any, Any, T], requested: Callable[[], bool],
                         every: float = CANCEL_POLL_SECONDS) -> T:
    """Await `work`; when `requested()` turns true first, cancel it (and with it the executor's
    calls in flight) and stop the run as `cancelled`."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=every)
            if not task.done() and requested():
                raise Stop("cancelled", None)
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
