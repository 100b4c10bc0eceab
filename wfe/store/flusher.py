"""Events queued in memory, and the thread that writes them ahead of their step.

A fast step never needs the thread: its events go in with a checkpoint. With durability
"normal" a checkpoint encodes the step's events (so later changes to what they refer to cannot
leak in) but writes them only once the oldest has waited FLUSH_DELAY: one events row per ~50 ms
instead of one per step. Events of a slow step (a tool still running) are written by the thread
within about 2 * FLUSH_DELAY of being queued, so `wfe logs --follow` sees the node start. The same
thread renews the heartbeat of owned runs.

Writes are serialised by `write_lock` (shared with the Store's own connection): a checkpoint
and a flush never interleave, so the stored events of a run are always a gapless prefix.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wfe.errors import WfeError
from wfe.store.errors import LeaseLost
from wfe.store.liveness import HEARTBEAT_SECONDS
from wfe.store.records import EventBatch, Lease, QueuedEvent
from wfe.store.writes import flush_events

FLUSH_DELAY = 0.05
#: While no run is owned the thread only waits for work or for the Store to close.
IDLE_POLL = 1.0
#: After a failed flush (disk full, store busy for too long), wait this long before retrying.
RETRY_DELAY = 1.0


@dataclass(slots=True)
class _Pending:
    due: float  # monotonic time by which these events should be written
    batch: EventBatch


class Flusher:
    """The outbox of one Store, and its background writer thread (started on first use).

    Runs are keyed by lease token. The thread polls every FLUSH_DELAY rather than being
    notified, so queueing an event never wakes another thread.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], path: str,
                 write_lock: threading.Lock) -> None:
        self._connect = connect
        self._path = path
        self._write_lock = write_lock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pending: dict[str, _Pending] = {}
        self._owned: dict[str, Lease] = {}
        self._beats: dict[str, float] = {}  # token -> monotonic time of the next heartbeat
        self._thread: threading.Thread | None = None

    # --- the caller's side -------------------------------------------------------------------

    def own(self, lease: Lease) -> None:
        """Keep the run's heartbeat fresh until `disown`."""
        with self._lock:
            self._owned[lease.token] = lease
            self._beats[lease.token] = time.monotonic() + HEARTBEAT_SECONDS
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="wfe-store-flusher",
                                                daemon=True)
                self._thread.start()

    def owns(self, lease: Lease) -> bool:
        return lease.token in self._owned

    def owned(self) -> list[Lease]:
        with self._lock:
            return list(self._owned.values())

    def disown(self, lease: Lease) -> None:
        with self._lock:
            self._owned.pop(lease.token, None)
            self._beats.pop(lease.token, None)
            self._pending.pop(lease.token, None)

    def add(self, lease: Lease, events: list[QueuedEvent]) -> None:
        with self._lock:
            pending = self._pending.get(lease.token)
            if pending is None:
                self._pending[lease.token] = _Pending(time.monotonic() + FLUSH_DELAY,
                                                      EventBatch([], events))
            else:
                pending.batch.events.extend(events)

    def take(self, lease: Lease) -> tuple[EventBatch, float]:
        """Every queued event of the run and when they fall due; the caller holds write_lock."""
        with self._lock:
            pending = self._pending.pop(lease.token, None)
        if pending is None:
            return EventBatch([], []), math.inf
        return pending.batch, pending.due

    def put_back(self, lease: Lease, batch: EventBatch, due: float | None = None) -> None:
        """Events not written (yet) go back in front of any queued since; `due` defaults to
        FLUSH_DELAY from now."""
        if batch.empty:
            return
        if due is None:
            due = time.monotonic() + FLUSH_DELAY
        with self._lock:
            pending = self._pending.get(lease.token)
            if pending is None:
                self._pending[lease.token] = _Pending(due, batch)
            else:
                batch.events.extend(pending.batch.events)
                pending.batch = batch
                pending.due = max(pending.due, due)

    def stop(self) -> None:
        """Write what is still queued, then end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        conn = self._connect()
        try:
            while True:
                stopping = self._stop.wait(FLUSH_DELAY if self._owned else IDLE_POLL)
                for lease in self._due(stopping):
                    self._flush(conn, lease, retry=not stopping)
                if stopping:
                    return
        finally:
            conn.close()

    def _due(self, everything: bool) -> list[Lease]:
        now = time.monotonic()
        with self._lock:
            tokens = {t for t, p in self._pending.items() if everything or p.due <= now}
            tokens.update(t for t, beat in self._beats.items() if beat <= now)
            return [self._owned[t] for t in tokens if t in self._owned]

    def _flush(self, conn: sqlite3.Connection, lease: Lease, *, retry: bool) -> None:
        with self._write_lock:
            events, _ = self.take(lease)
            try:
                flush_events(conn, self._path, lease, events, time.time())
            except LeaseLost:
                self.disown(lease)  # the run's next checkpoint raises it to its owner
                return
            except (sqlite3.Error, WfeError):
                # Kept for the next try, or for the run's checkpoint, which reports the error.
                if retry:
                    self.put_back(lease, events, time.monotonic() + RETRY_DELAY)
                    self._beat_in(lease, RETRY_DELAY)
                return
        self._beat_in(lease, HEARTBEAT_SECONDS)

    def _beat_in(self, lease: Lease, seconds: float) -> None:
        with self._lock:
            if lease.token in self._beats:
                self._beats[lease.token] = time.monotonic() + seconds
