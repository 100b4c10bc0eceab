"""Calls sent to Dask in batches, and many calls of a batch in chunks.

`client.submit` builds and sends a graph per call: ~70-110 µs of the engine thread's CPU per
task here, and a scheduler message each (the scheduler of a LocalCluster runs in the wfe
process too). Calls made in the same turn of the engine's loop (a map's items as it starts, and
as finished ones make room) go together instead: one `client.map`, ~5 µs a task.

And a Dask task costs ~3 ms of CPU in all (the scheduler's part, in the wfe process for a
LocalCluster, and the worker's), however short the call: more than a bare process pool pays,
which hands its workers chunks of its items (`multiprocessing.Pool.map`). So a batch of many
calls goes in chunks the same way: about four per worker thread of the cluster, each one task
that runs its calls one after another and answers for all of them. A call with a timeout of
its own goes alone (its task is cancelled when the timeout passes), and so does a batch smaller
than twice the cluster's threads (a map whose concurrency refills one item at a time).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from distributed import Client, Future

from wfe.executors.dask.gather import BatchedGather, settle
from wfe.executors.dask.task import run_chunk, run_task

#: Chunks per worker thread when a batch is split: as `multiprocessing.Pool.map` does, enough
#: that a worker finishing early takes more, few enough that each task carries many calls.
CHUNKS_PER_THREAD = 4


@dataclass(slots=True, eq=False)
class Chunk:
    """Calls that go as one task: `future` once it is on the cluster; `answer` the list of
    their packed outcomes, in order; `waiting` how many calls still wait for theirs."""

    key: str
    entries: list[Submission]
    future: Future[Any] | None = None
    answer: concurrent.futures.Future[Any] = field(default_factory=concurrent.futures.Future)
    waiting: int = 0


@dataclass(slots=True, eq=False)
class Submission:
    """One call on its way: `future` once it is on the cluster as a task of its own (None
    before, if it never was, or when it went in a `chunk`), `answer` the packed outcome, set
    from Dask's loop. `alone`: it must be a task of its own (it has a timeout)."""

    key: str
    payload: bytes
    alone: bool = False
    future: Future[Any] | None = None
    chunk: Chunk | None = None
    answer: concurrent.futures.Future[Any] = field(default_factory=concurrent.futures.Future)


class BatchedSubmit:
    """`add(key, payload)` from a run's event loop; the batch goes at the end of that turn.
    `threads()` gives the cluster's worker threads (0: not known, no chunks)."""

    def __init__(self, client: Client, gather: BatchedGather,
                 threads: Callable[[], int] = lambda: 0) -> None:
        self.client = client
        self.gather = gather
        self.threads = threads
        # Per event loop (an executor may serve runs on several): each flushes only its own.
        self._waiting: dict[asyncio.AbstractEventLoop, list[Submission]] = {}

    def add(self, key: str, payload: bytes, *, alone: bool = False) -> Submission:
        submission = Submission(key, payload, alone)
        loop = asyncio.get_running_loop()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = []
            loop.call_soon(self._send, loop)
        waiting.append(submission)
        return submission

    def abandon(self, sent: Submission) -> None:
        """Its call stopped waiting (a timeout, a cancelled run): cancel its task on the
        cluster, or its chunk's once no call of the chunk waits any more."""
        chunk = sent.chunk
        if chunk is not None:
            chunk.waiting -= 1
            future = chunk.future if chunk.waiting == 0 else None
        else:
            future = sent.future
        if future is not None:
            with contextlib.suppress(Exception):  # the cluster may be gone already
                self.client.cancel([future])
            future.release()

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [entry for entry in self._waiting.pop(loop, ()) if not entry.answer.cancelled()]
        if not batch:
            return
        chunks = _chunks([entry for entry in batch if not entry.alone], self.threads())
        chunked = {id(entry) for chunk in chunks for entry in chunk.entries}
        alone = [entry for entry in batch if id(entry) not in chunked]
        if alone:
            self._map(run_task, alone, [entry.payload for entry in alone])
        if chunks:
            for chunk in chunks:
                chunk.waiting = len(chunk.entries)
                for entry in chunk.entries:
                    entry.chunk = chunk
                chunk.answer.add_done_callback(_answer_each(chunk))
            self._map(run_chunk, chunks, [[e.payload for e in chunk.entries] for chunk in chunks])

    def _map(self, task: Callable[..., Any], sent: Sequence[Submission | Chunk],
             arguments: list[Any]) -> None:
        for entry in sent:
            self.gather.expect(entry.key, entry.answer)
        try:
            futures = self.client.map(task, arguments, [self.gather.topic] * len(sent),
                                      key=[entry.key for entry in sent], pure=False)
        except Exception as error:  # the client is closed, say: each call fails with it
            for entry in sent:
                self.gather.forget(entry.key)
                settle(entry.answer, None, error)
            return
        for entry, future in zip(sent, futures, strict=True):
            entry.future = future
            self.gather.watch(future, entry.answer)


def _chunks(entries: list[Submission], threads: int) -> list[Chunk]:
    """The calls of a batch in chunks of equal size, about CHUNKS_PER_THREAD per worker
    thread; none when the batch is too small for chunks of two or more."""
    size = -(-len(entries) // (threads * CHUNKS_PER_THREAD)) if threads else 1
    if size < 2:
        return []
    return [Chunk(f"wfe-chunk-{uuid.uuid4().hex}", entries[start:start + size])
            for start in range(0, len(entries), size)]


def _answer_each(chunk: Chunk) -> Callable[[concurrent.futures.Future[Any]], None]:
    def answer(done: concurrent.futures.Future[Any]) -> None:
        error = None if done.cancelled() else done.exception()
        if done.cancelled() or error is not None:
            for entry in chunk.entries:
                settle(entry.answer, None, error or concurrent.futures.CancelledError())
            return
        for entry, packed in zip(chunk.entries, done.result(), strict=True):
            settle(entry.answer, packed, None)
    return answer
