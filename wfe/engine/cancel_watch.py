"""`wfe cancel` noticed inside a long step, which then stops without waiting for its boundary:
a fan-out step running elsewhere (on a cluster it may take hours) and a `wait:` timer.

For a fan-out step the engine cancels the task awaiting the step's calls, which is how it asks an
executor to drop them (wfe.engine.executor: a cluster cancels its futures); either way the run
stops as `cancelled`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from wfe.engine.interrupts import Stop
from wfe.engine.run_context import RunContext

__all__ = ["CANCEL_POLL_SECONDS", "TIMER_POLL_SECONDS", "sleep_until", "stop_on_cancel"]

T = TypeVar("T")

#: How often a run on a cluster looks for `wfe cancel` while a fan-out step is in flight.
CANCEL_POLL_SECONDS = 0.5
#: How often a run with a journal looks for `wfe cancel` while a `wait:` timer runs.
TIMER_POLL_SECONDS = 0.1


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


async def sleep_until(run: RunContext, deadline: float) -> None:
    """Sleep until `deadline` (by the run's clock); with a journal, look for `wfe cancel` every
    TIMER_POLL_SECONDS and stop the run as `cancelled` when it asks."""
    journal = run.journal
    while (left := deadline - run.clock()) > 0:
        if journal is None:
            await run.sleep(left)
            return
        if journal.cancel_requested():
            raise Stop("cancelled", None)
        await run.sleep(min(left, TIMER_POLL_SECONDS))
