"""Calls sent to Dask in batches.

`client.submit` builds and sends a graph per call: ~70-110 µs of the engine thread's CPU per
task here, and a scheduler message each (the scheduler of a LocalCluster runs in the wfe
process too). Calls made in the same turn of the engine's loop (a map's items as it starts, and
as finished ones make room) go together instead: one `client.map`, ~5 µs a task.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field
from typing import Any

from distributed import Client, Future

from wfe.executors.dask.gather import BatchedGather
from wfe.executors.dask.task import run_task


@dataclass(slots=True, eq=False)
class Submission:
    """One call on its way: `future` once it is on the cluster (None before, or if it never
    was), `answer` the packed outcome, set from Dask's loop."""

    key: str
    payload: bytes
    future: Future[Any] | None = None
    answer: concurrent.futures.Future[Any] = field(default_factory=concurrent.futures.Future)


class BatchedSubmit:
    """`add(key, payload)` from a run's event loop; the batch goes at the end of that turn."""

    def __init__(self, client: Client, gather: BatchedGather) -> None:
        self.client = client
        self.gather = gather
        # Per event loop (an executor may serve runs on several): each flushes only its own.
        self._waiting: dict[asyncio.AbstractEventLoop, list[Submission]] = {}

    def add(self, key: str, payload: bytes) -> Submission:
        submission = Submission(key, payload)
        loop = asyncio.get_running_loop()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = []
            loop.call_soon(self._send, loop)
        waiting.append(submission)
        return submission

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [entry for entry in self._waiting.pop(loop, ()) if not entry.answer.cancelled()]
        if not batch:
            return
        for entry in batch:
            self.gather.expect(entry.key, entry.answer)
        try:
            futures = self.client.map(run_task, [entry.payload for entry in batch],
                                      [self.gather.topic] * len(batch),
                                      key=[entry.key for entry in batch], pure=False)
        except Exception as error:  # the client is closed, say: each call fails with it
            for entry in batch:
                self.gather.forget(entry.key)
                if entry.answer.set_running_or_notify_cancel():
                    entry.answer.set_exception(error)
            return
        for entry, future in zip(batch, futures, strict=True):
            entry.future = future
            self.gather.watch(future, entry.answer)
