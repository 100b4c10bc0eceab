"""The events of one owned run that are not written yet.

The engine's thread only appends to `queue` (a deque: no lock, nothing else to do per event).
Whoever holds the Store's write lock seals what is queued into encoded chunks and writes them:
a checkpoint, the flusher thread, or `finish`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

from wfe.engine.events import Event
from wfe.store.event_text import events_text
from wfe.store.records import Chunk, EventBatch, Lease, encode


def _seq(event: Event) -> Any:
    return event["seq"]


class Outbox:
    """Queued and sealed events of one run, and what the flusher learnt about it."""

    __slots__ = ("cancelled", "chunks", "due", "lease", "noticed", "queue", "run_no", "sealed",
                 "since_snapshot", "snapshot_size")

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.queue: deque[Event] = deque()
        #: Encoded events, oldest first, and the monotonic time by which they must be written.
        self.chunks: list[Chunk] = []
        self.due = math.inf
        #: The highest seq sealed here: an event queued again (a run handed over) is dropped.
        self.sealed = 0
        #: The flusher saw unsealed events (of a step still running) at its last look.
        self.noticed = False
        #: `wfe cancel` asked the run to stop, as last read by a write or by the flusher.
        self.cancelled = False
        self.run_no: int | None = None
        #: The bytes of step rows since the last snapshot of the state, and its size (see
        #: wfe.store.step_rows); the first step this process commits for the run is a snapshot.
        self.since_snapshot = math.inf
        self.snapshot_size = 0

    def seal(self, delay: float, updates: object = None, updates_text: str = "") -> None:
        """Encode the queued events into a chunk, freezing what they say now (write lock held).

        Sealed chunks fall due `delay` seconds after the oldest of them was sealed. `updates`
        and their JSON: those of the step being committed (see `events_text`).
        """
        queue = self.queue
        self.noticed = False
        if not queue:
            return
        events = [queue.popleft() for _ in range(len(queue))]
        first, last = events[0]["seq"], events[-1]["seq"]
        # The engine emits from one thread in seq order, so this holds but for events queued
        # again (a run handed over) or by several threads at once (tests).
        if first <= self.sealed or last - first != len(events) - 1:
            events = self._in_order(events)
            if not events:
                return
            first, last = events[0]["seq"], events[-1]["seq"]
        chunks = self.chunks
        text = events_text(events, self._encode, updates, updates_text)
        chunks.append((first, last, text))
        self.sealed = last
        if len(chunks) == 1:
            self.due = time.monotonic() + delay

    def _encode(self, event: Event) -> str:
        return encode(event, "event", self.lease.run_id)

    def _in_order(self, events: list[Event]) -> list[Event]:
        """By seq, each once, none sealed before; an event queued twice keeps its first version
        (as the events table does)."""
        kept: list[Event] = []
        last = self.sealed
        for event in sorted(events, key=_seq):
            if event["seq"] > last:
                kept.append(event)
                last = event["seq"]
        return kept

    def take(self) -> EventBatch:
        """The sealed chunks, to be written now (write lock held)."""
        batch = EventBatch(self.chunks)
        self.chunks = []
        self.due = math.inf
        return batch

    def put_back(self, batch: EventBatch, due: float) -> None:
        """Chunks that could not be written go back in front of any sealed since."""
        if batch.empty:
            return
        self.chunks[:0] = batch.chunks
        self.due = min(self.due, due)
