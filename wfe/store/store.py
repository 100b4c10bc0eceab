"""The Store: one SQLite file holding every run, its steps and its events, and cached results.

One connection per Store, used from one thread at a time; a background thread (with its own
connection) writes events ahead of their step and keeps the heartbeat of owned runs fresh.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, get_args

from wfe.engine.events import Event, RunStatus
from wfe.errors import UsageError, WfeError
from wfe.spec.project_config import DEFAULT_STORE
from wfe.store import cache as cache_table
from wfe.store import flusher as flushing
from wfe.store import items as fanout_items
from wfe.store import pools as pool_slots
from wfe.store import prune as pruning
from wfe.store import reads, writes
from wfe.store import schedule_slots as slot_table
from wfe.store.connection import configure, connect, folds_in_background
from wfe.store.errors import LeaseLost, StoreError
from wfe.store.liveness import owner_dead
from wfe.store.outbox import Outbox
from wfe.store.prune import FINISHED, Pruned
from wfe.store.records import (
    Checkpoint,
    Durability,
    EventBatch,
    Lease,
    NewRun,
    RunRecord,
    StepRecord,
    encode,
    encode_optional,
)
from wfe.store.schema import open_connection
from wfe.store.step_rows import snapshot_taken, step_row

P = ParamSpec("P")
R = TypeVar("R")

RESUMABLE: frozenset[RunStatus] = frozenset({"waiting", "interrupted", "failed"})
_CANNOT_WRITE = (8, 13)  # SQLITE_READONLY, SQLITE_FULL


def _guarded(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """SQLite failures (a damaged file, a full disk) become a StoreError naming the file."""

    @functools.wraps(method)
    def wrapper(self: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: {error}") from error

    return wrapper


class Store:
    """Runs, steps and events in one SQLite file. Open with `Store.open(path)`."""

    def __init__(self, path: Path, durability: Durability, conn: sqlite3.Connection) -> None:
        self.path = path
        self.durability = durability
        self._name = str(path)
        self._conn = conn
        self._write_lock = threading.Lock()
        self._flusher = flushing.Flusher(self._connect_flusher, self._name, self._write_lock,
                                fold_wal=folds_in_background(durability))
        self._closed = False

    @classmethod
    def open(cls, path: str | Path, *, durability: Durability = "normal") -> Store:
        """Open (or create, with its folder) the store at `path`; NotAStore for a foreign file."""
        if durability not in get_args(Durability):
            raise UsageError(f"durability must be 'normal' or 'full', not {durability!r}")
        path = Path(path).expanduser()
        try:
            created = not path.parent.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            if created and path.parent.name == DEFAULT_STORE.parent.name:
                # A store (and the logs of detached runs) never belongs in the user's commits.
                (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
        except OSError as error:
            raise StoreError(f"{path}: cannot create its folder: {error.strerror}") from None
        try:
            conn = open_connection(str(path), durability)
        except sqlite3.Error as error:
            raise StoreError(f"{path}: cannot open the store: {error}") from None
        return cls(path, durability, conn)

    def _connect_flusher(self) -> sqlite3.Connection:
        conn = connect(self._name)
        configure(conn, self._name, self.durability)
        return conn

    def close(self) -> None:
        """Write queued events, give up runs still owned here (as interrupted), close."""
        if self._closed:
            return
        self._closed = True
        try:
            self._flusher.stop()
            for lease in self._flusher.owned():
                # On failure a reader will find the owner dead and mark the run interrupted.
                with contextlib.suppress(sqlite3.Error, WfeError):
                    writes.release(self._conn, self._name, lease, time.time())
        finally:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # --- the owner of a run ------------------------------------------------------------------

    @_guarded
    def create_run(self, run: NewRun, *, owner_pid: int | None = None,
                   token: str | None = None) -> Lease:
        """Insert the run, owned by this process (or by `owner_pid`, with `token`)."""
        lease = Lease(run.run_id, token or secrets.token_hex(16))
        pid = os.getpid() if owner_pid is None else owner_pid
        size = writes.insert_run(self._conn, self._name, run, lease.token, pid, time.time())
        if pid == os.getpid() and run.status == "running":
            # The initial state is a snapshot: the first step need not write another.
            snapshot_taken(self._flusher.outbox(lease), size)
        return lease

    @_guarded
    def claim(self, run_id: str, *, allow: frozenset[RunStatus] = RESUMABLE) -> Lease:
        """Take the run over to resume it: RunInUse while a live owner holds it."""
        lease = Lease(run_id, secrets.token_hex(16))
        writes.claim_run(self._conn, self._name, run_id, allow, lease.token, os.getpid(),
                         time.time())
        self._flusher.outbox(lease)
        return lease

    def add_events(self, lease: Lease, events: list[Event]) -> None:
        """Queue events; they are written with a later checkpoint or within ~FLUSH_DELAY."""
        # Encoded when sealed, under the write lock: the engine commits a step before its next
        # tool runs, so nothing an event refers to changes before then.
        self._flusher.outbox(lease).queue.extend(events)

    def event_sink(self, lease: Lease) -> Callable[[Event], None]:
        """A listener that queues each event of the run (`add_events`, one at a time)."""
        return self._flusher.outbox(lease).queue.append

    @_guarded
    def checkpoint(self, lease: Lease, checkpoint: Checkpoint) -> bool:
        """Commit a step with the events before it; True when `wfe cancel` asked to stop.

        The row keeps the step's updates, and now and then the whole state (wfe.store.step_rows).
        The step's events are sealed now and written once due, with a later write (one events
        row per ~FLUSH_DELAY instead of a second page in every commit).
        """
        outbox = self._flusher.outbox(lease)
        row, updates = step_row(checkpoint, outbox, lease.run_id)
        with self._write_lock:
            run_no = self._run_no(outbox)
            outbox.seal(flushing.FLUSH_DELAY, checkpoint.updates, updates)
            if outbox.chunks and time.monotonic() >= outbox.due:
                self._write_with_events(outbox, lambda events: writes.write_checkpoint(
                    self._conn, self._name, lease, run_no, row, events))
            else:
                try:
                    writes.insert_step(self._conn, self._name, lease, run_no, row)
                except LeaseLost:
                    self._flusher.disown(lease)
                    raise
            return outbox.cancelled

    @_guarded
    def finish(self, lease: Lease, status: RunStatus, *, state: dict[str, Any],
               error: dict[str, Any] | None = None,
               waiting: dict[str, Any] | None = None) -> None:
        """Write queued events and the outcome, and release the run."""
        if status == "running":
            raise ValueError("finish() takes the status a run ends (or pauses) with")
        rid = lease.run_id
        values = (encode(state, "state", rid), encode_optional(error, "error", rid),
                  encode_optional(waiting, "waiting", rid))
        outbox = self._flusher.outbox(lease)
        with self._write_lock:
            outbox.seal(0.0)
            self._write_with_events(
                outbox, lambda events: writes.write_finish(self._conn, self._name, lease, status,
                                                           values, events, time.time()))
        self._flusher.disown(lease)

    def _write_with_events(self, outbox: Outbox, write: Callable[[EventBatch], R]) -> R:
        """A write that also stores the run's sealed events; on failure they stay queued.
        The caller holds the write lock."""
        events = outbox.take()
        try:
            return write(events)
        except LeaseLost:
            self._flusher.disown(outbox.lease)
            raise
        except BaseException:
            outbox.put_back(events, time.monotonic() + flushing.FLUSH_DELAY)
            raise

    @_guarded
    def record_item(self, lease: Lease, step: int, row: fanout_items.ItemRow) -> None:
        """A map item or parallel branch of `step` (not committed yet) finished."""
        outbox = self._flusher.outbox(lease)
        with self._write_lock:
            fanout_items.insert(self._conn, self._name, lease, self._run_no(outbox), step, row)

    @_guarded
    def finished_items(self, run_id: str, step: int) -> list[tuple[int, str, int, float, Any]]:
        """(item, node, attempts, duration_ms, value) of the items of `step` committed so far."""
        return fanout_items.finished(self._conn, writes.run_number(self._conn, run_id), step)

    @_guarded
    def clear_items(self, lease: Lease, step: int) -> None:
        """The items of a step that is committed now are no longer needed."""
        outbox = self._flusher.outbox(lease)
        with self._write_lock:
            fanout_items.clear(self._conn, self._name, self._run_no(outbox), step)

    def _run_no(self, outbox: Outbox) -> int:
        if outbox.run_no is None:
            outbox.run_no = writes.run_number(self._conn, outbox.lease.run_id)
        return outbox.run_no

    @_guarded
    def record_retry(self, lease: Lease, step: int, attempt: int) -> None:
        """Attempt `attempt` (2 or more) of `step` begins."""
        with self._write_lock:
            writes.record_retry(self._conn, self._name, lease, step, attempt)

    @_guarded
    def retry_started(self, run_id: str) -> tuple[int, int] | None:
        """(step, attempt) of the run's latest retry that began, if any."""
        return reads.retry_started(self._conn, run_id)

    @_guarded
    def take_pool_slot(self, pool: str, size: int, run_id: str, node: str) -> int | None:
        """A slot of `pool` for a node of the run; None while `size` others hold one."""
        with self._write_lock:
            return pool_slots.take(self._conn, self._name, pool, size, run_id, node, time.time())

    @_guarded
    def release_pool_slot(self, pool: str, slot: int, run_id: str) -> None:
        with self._write_lock:
            pool_slots.give_back(self._conn, self._name, pool, slot, run_id)

    @_guarded
    def prune(self, older_than: float, statuses: tuple[str, ...] = FINISHED) -> Pruned:
        """Delete finished runs that ended more than `older_than` seconds ago; the file shrinks.
        Runs whose owner died are settled (as interrupted) first."""
        self.list_runs(status="running", limit=1_000_000)
        with self._write_lock:
            pruned = pruning.prune(self._conn, self._name, time.time() - older_than, statuses)
        for run_id in pruned.run_ids:  # the output of detached and scheduled runs
            with contextlib.suppress(OSError):
                (self.path.parent / "logs" / f"{run_id}.log").unlink(missing_ok=True)
        return pruned

    @property
    def schedule_slots(self) -> slot_table.SlotBook:
        """The slots of schedules (wfe.cli.scheduler), on this store's connection."""
        return slot_table.SlotBook(self._conn, self._name)

    # --- anybody -----------------------------------------------------------------------------

    @_guarded
    def request_cancel(self, run_id: str) -> bool:
        """Ask a running run to stop at its next step boundary; a waiting or interrupted run
        (which no process runs) is cancelled at once: True then."""
        return writes.request_cancel(self._conn, self._name, run_id, time.time())

    @_guarded
    def cancel_requested(self, run_id: str) -> bool:
        """Whether `wfe cancel` asked the run to stop (a step in flight may look, not only the
        next checkpoint)."""
        return reads.cancel_requested(self._conn, run_id)

    @_guarded
    def mark_interrupted_if_dead(self, run_id: str) -> None:
        writes.mark_dead(self._conn, self._name, run_id, time.time())

    @_guarded
    def resolve(self, prefix: str) -> str:
        return reads.resolve(self._conn, prefix)

    @_guarded
    def get_run(self, run_id: str) -> RunRecord:
        """The run; a running run whose owner died is stored and reported as interrupted."""
        row = reads.run_row(self._conn, run_id)
        if row[4] == "running" and owner_dead(row[17], row[21], row[22], time.time()):
            if not self._settle(run_id):
                return reads.to_record(row, "interrupted")
            row = reads.run_row(self._conn, run_id)
        return reads.to_record(row)

    @_guarded
    def list_runs(self, *, status: RunStatus | None = None, workflow: str | None = None,
                  limit: int = 20) -> list[RunRecord]:
        """Newest first; runs whose owner died are stored and reported as interrupted."""
        now = time.time()
        unsettled = {
            run_id for run_id, pid, host, beat in reads.running_rows(self._conn)
            if owner_dead(pid, host, beat, now) and not self._settle(run_id)
        }
        rows = reads.run_rows(self._conn, status, workflow, limit)
        return [reads.to_record(row, "interrupted" if row[0] in unsettled else None)
                for row in rows]

    def _settle(self, run_id: str) -> bool:
        """Store a dead run as interrupted; False when the file cannot be written (read-only,
        or a full disk: listing runs must still work then)."""
        try:
            writes.mark_dead(self._conn, self._name, run_id, time.time())
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF in _CANNOT_WRITE:
                return False
            raise
        return True

    @_guarded
    def steps(self, run_id: str, *, states: bool = False) -> list[StepRecord]:
        """Every step of the run with the visits after it (and the state, when `states`)."""
        return reads.steps(self._conn, run_id, states)

    @_guarded
    def events(self, run_id: str, *, after_seq: int = 0, limit: int | None = None) -> list[Event]:
        return reads.events(self._conn, run_id, after_seq, limit)

    @_guarded
    def state_before(self, run_id: str, node: str) -> tuple[dict[str, Any], dict[str, int], int]:
        """(state, visits, step) just before the last execution of `node` (`resume --from`)."""
        return reads.state_before(self._conn, run_id, node)

    def history(self, run_id: str) -> Iterator[tuple[StepRecord, dict[str, Any]]]:
        """Every step with the state after it, one dict changed in place: copy what is kept."""
        try:
            yield from reads.history(self._conn, run_id)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: {error}") from error

    @_guarded
    def start_of(self, run_id: str) -> tuple[int, str, dict[str, Any]]:
        """(initial step, start node, initial state) of the run."""
        return reads.start_of(self._conn, run_id)

    @_guarded
    def state_after(self, run_id: str,
                    step: int) -> tuple[dict[str, Any], dict[str, int], int, str] | None:
        """(state, visits, step, next node) after `step` (`wfe fork`); None: no such step."""
        return reads.state_after(self._conn, run_id, step)

    @_guarded
    def source_of(self, run_id: str) -> bytes:
        return reads.source_of(self._conn, run_id)

    # --- the result cache --------------------------------------------------------------------

    @_guarded
    def cache_get(self, key: str, now: float) -> tuple[bool, Any]:
        """(found, value); a row expired at `now` is not found."""
        return cache_table.get(self._conn, key, now)

    @_guarded
    def cache_put(self, key: str, tool: str, version: str, value: Any, ttl: float | None,
                  *, now: float | None = None) -> None:
        """Store a result for `ttl` seconds (None or inf: no expiry); ValueError if not JSON."""
        text = cache_table.encode_value(value)
        created = time.time() if now is None else now
        expires = None if ttl is None or math.isinf(ttl) else created + ttl
        with self._write_lock:
            cache_table.put(self._conn, self._name, (key, tool, version, created, expires, text))

    @_guarded
    def cache_clear(self, tool: str | None = None) -> int:
        """Remove every cached result, or those of one tool; how many were removed."""
        with self._write_lock:
            return cache_table.clear(self._conn, self._name, tool)
