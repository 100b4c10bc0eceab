"""Results of finished Dask tasks, fetched in batches.

A Dask future's result is fetched with a round trip of its own (`client.gather`). With many
calls in flight that round trip, through the scheduler that a LocalCluster runs in the wfe
process itself, cost as much as the task: here every call that finished in the same turn of
Dask's loop is fetched with one `gather`. A task that failed in Dask (a lost worker, a
cancellation) is fetched alone, so that its error reaches its own call only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from distributed import Client, Future


class BatchedGather:
    """Hands each watched task's result to a concurrent future, from Dask's loop."""

    def __init__(self, client: Client, dask_loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = dask_loop
        self._finished: list[tuple[Future[Any], concurrent.futures.Future[Any]]] = []

    def watch(self, future: Future[Any], answer: concurrent.futures.Future[Any]) -> None:
        """Set `answer` to the task's result (or its error) once it has finished."""
        self.loop.call_soon_threadsafe(self._watch, future, answer)

    def _watch(self, future: Future[Any], answer: concurrent.futures.Future[Any]) -> None:
        self.loop.create_task(self._when_done(future, answer))

    async def _when_done(self, future: Future[Any],
                         answer: concurrent.futures.Future[Any]) -> None:
        # As distributed's own `done_callback` waits: on the future's state, no polling.
        state = future._state
        while state is not None and future.status == "pending":
            await state.wait()
        self._finished.append((future, answer))
        if len(self._finished) == 1:  # the first of this turn: fetch them all at its end
            self.loop.call_soon(lambda: self.loop.create_task(self._fetch()))

    async def _fetch(self) -> None:
        batch, self._finished = self._finished, []
        batch = [(future, answer) for future, answer in batch if not answer.cancelled()]
        ready = [entry for entry in batch if entry[0].status == "finished"]
        if ready:
            try:
                values = await self.client.gather([future for future, _ in ready],
                                                  asynchronous=True)
            except Exception:
                values = None  # one of them went meanwhile: each on its own below
            if values is not None:
                for (_, answer), value in zip(ready, values, strict=True):
                    _settle(answer, value, None)
                batch = [entry for entry in batch if entry not in ready]
        for future, answer in batch:
            try:
                value = (await self.client.gather([future], asynchronous=True))[0]
            except BaseException as error:  # a cancelled task too: the waiting call gets it
                _settle(answer, None, error)
            else:
                _settle(answer, value, None)


def _settle(answer: concurrent.futures.Future[Any], value: Any,
            error: BaseException | None) -> None:
    if not answer.set_running_or_notify_cancel():
        return  # the call stopped waiting
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(value)
