"""The outboxes of owned runs, and the thread that writes events ahead of their step.

A fast step never needs the thread: its events go in with a checkpoint. A checkpoint seals
(encodes) the step's events, so that later changes to what they refer to cannot leak in, but
writes them only once the oldest has waited FLUSH_DELAY: one events row per ~50 ms instead of
one per step (with durability "full", a second page to sync in every commit). Events of a slow
step (a tool still running) are sealed and written by the thread within about 2 * FLUSH_DELAY
of being queued, so `wfe logs --follow` sees the node start. The same thread renews the
heartbeat of owned runs, looks every FLUSH_DELAY whether `wfe cancel` asked one of them to stop
(a step's own commit does not read) and, with durability "normal", folds the WAL into the
database file (which commits would otherwise do every ~1000 pages, on the engine's thread).

Writes are serialised by `write_lock` (shared with the Store's own connection): a checkpoint
and a flush never interleave, so the stored events of a run are always a gapless prefix.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

from wfe.errors import WfeError
from wfe.store import reads
from wfe.store.errors import LeaseLost
from wfe.store.liveness import HEARTBEAT_SECONDS
from wfe.store.outbox import Outbox
from wfe.store.records import Lease
from wfe.store.writes import flush_events

FLUSH_DELAY = 0.05
#: While no run is owned the thread only waits for work or for the Store to close.
IDLE_POLL = 1.0
#: After a failed flush (disk full, store busy for too long), wait this long before retrying.
RETRY_DELAY = 1.0


class Flusher:
    """The outboxes of one Store's owned runs, and its background writer thread (started on
    first use). Runs are keyed by lease token. The thread polls every FLUSH_DELAY rather than
    being notified, so queueing an event never wakes another thread."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], path: str,
                 write_lock: threading.Lock, *, fold_wal: bool = False) -> None:
        self._connect = connect
        self._folds_wal = fold_wal
        self._path = path
        self._write_lock = write_lock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._outboxes: dict[str, Outbox] = {}
        self._beats: dict[str, float] = {}  # token -> monotonic time of the next heartbeat
        self._thread: threading.Thread | None = None

    # --- the caller's side -------------------------------------------------------------------

    def outbox(self, lease: Lease) -> Outbox:
        """The run's outbox; the run is owned (its heartbeat kept fresh) until `disown`."""
        outbox = self._outboxes.get(lease.token)
        if outbox is not None:
            return outbox
        with self._lock:
            outbox = self._outboxes.setdefault(lease.token, Outbox(lease))
            self._beats.setdefault(lease.token, time.monotonic() + HEARTBEAT_SECONDS)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="wfe-store-flusher",
                                                daemon=True)
                self._thread.start()
        return outbox

    def owned(self) -> list[Lease]:
        with self._lock:
            return [outbox.lease for outbox in self._outboxes.values()]

    def disown(self, lease: Lease) -> None:
        with self._lock:
            self._outboxes.pop(lease.token, None)
            self._beats.pop(lease.token, None)

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
                stopping = self._stop.wait(FLUSH_DELAY if self._outboxes else IDLE_POLL)
                for outbox in self._due(stopping):
                    self._flush(conn, outbox, retry=not stopping)
                if stopping:
                    return
                self._look_for_cancel(conn)
                self._fold_wal(conn)
        finally:
            conn.close()

    def _due(self, everything: bool) -> list[Outbox]:
        now = time.monotonic()
        due = []
        with self._lock:
            for token, outbox in self._outboxes.items():
                if everything or outbox.due <= now or self._beats[token] <= now:
                    due.append(outbox)
                elif outbox.queue:
                    if outbox.noticed:  # queued since the last look at least: a slow step
                        due.append(outbox)
                    outbox.noticed = True
        return due

    def _flush(self, conn: sqlite3.Connection, outbox: Outbox, *, retry: bool) -> None:
        lease = outbox.lease
        with self._write_lock:
            outbox.seal(FLUSH_DELAY)
            events = outbox.take()
            try:
                outbox.cancelled = flush_events(conn, self._path, lease, events, time.time())
            except LeaseLost:
                self.disown(lease)  # the run's next checkpoint raises it to its owner
                return
            except (sqlite3.Error, WfeError):
                # Kept for the next try, or for the run's checkpoint, which reports the error.
                if retry:
                    outbox.put_back(events, time.monotonic() + RETRY_DELAY)
                    self._beat_in(lease, RETRY_DELAY)
                return
        self._beat_in(lease, HEARTBEAT_SECONDS)

    def _look_for_cancel(self, conn: sqlite3.Connection) -> None:
        """One read for every owned run: which of them `wfe cancel` asked to stop."""
        if not self._outboxes:
            return
        try:
            asked = reads.cancel_requests(conn)
        except sqlite3.Error:
            return  # looked for again at the next wake; a write reports a damaged store
        with self._lock:
            for token, outbox in self._outboxes.items():
                if token in asked:
                    outbox.cancelled = True

    def _fold_wal(self, conn: sqlite3.Connection) -> None:
        """Copy the pages committed since the last time into the database file, here rather
        than in a commit of the engine's thread (PASSIVE: it waits for nobody)."""
        if not self._folds_wal or not self._outboxes:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            return  # the next wake tries again; a commit folds the WAL if it grows too large

    def _beat_in(self, lease: Lease, seconds: float) -> None:
        with self._lock:
            if lease.token in self._beats:
                self._beats[lease.token] = time.monotonic() + seconds
