"""Every write of the store, each one `BEGIN IMMEDIATE ... COMMIT`.

Writes by a run's owner are fenced: inside the write transaction (which no other process can
commit through) the run's owner_token must still be the lease's token, or nothing is written.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from wfe.engine.events import RunStatus, iso_timestamp
from wfe.store import replay
from wfe.store.connection import is_busy, rollback, transaction
from wfe.store.errors import (
    LeaseLost,
    RunInUse,
    RunNotResumable,
    RunNotRunning,
    StepConflict,
    StoreError,
    UnknownRun,
)
from wfe.store.liveness import HOST, owner_dead
from wfe.store.reads import run_row
from wfe.store.records import EventBatch, Lease, NewRun, encode
from wfe.store.schema import KEY_BITS, NOT_KEPT

_FENCE = "SELECT run_no, owner_token, cancel_requested, step FROM runs WHERE run_id = ?"
_OWNER = "SELECT status, owner_pid, owner_host, heartbeat_at FROM runs WHERE run_id = ?"
#: A step, fenced: written only while the lease's token still owns the run (rowcount 0: not).
_INSERT_STEP_FENCED = (
    "INSERT INTO steps SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM runs"
    " INDEXED BY runs_owner WHERE run_no = ? AND owner_token = ?"
)
_INSERT_EVENTS = "INSERT OR IGNORE INTO events (key, last_seq, body) VALUES (?, ?, ?)"
_LATEST_STEP = ("SELECT step, visits, next_node, key FROM steps WHERE key BETWEEN ? AND ?"
                " ORDER BY key DESC LIMIT 1")
_FINISH = (
    "UPDATE runs SET status = ?, state = ?, error = ?, waiting = ?, finished_at = ?,"
    " updated_at = ?, step = coalesce(?, step), visits = coalesce(?, visits),"
    " next_node = coalesce(?, next_node), owner_pid = NULL, owner_host = NULL,"
    " owner_token = NULL, heartbeat_at = NULL WHERE run_no = ?"
)
_UNOWN = ("status = 'interrupted', updated_at = ?, owner_pid = NULL, owner_host = NULL,"
          " owner_token = NULL, heartbeat_at = NULL")
_MAX_NUMBER = (1 << KEY_BITS) - 1

#: A step row without its key: step, node, attempt, started_at, duration_ms, outcome, then the
#: JSON of updates, error, state and visits (None: see wfe.store.replay), then next_node and the
#: JSON of items and ops.
StepRow = tuple[int, str, int, float, float, str, str, str | None, str | None, str | None, str,
                str | None, str | None]


def _fence(conn: sqlite3.Connection, lease: Lease) -> tuple[int, bool, int]:
    """(run_no, cancel requested, cursor step of the row), or LeaseLost if not the owner."""
    row = conn.execute(_FENCE, (lease.run_id,)).fetchone()
    if row is None or row[1] != lease.token:
        raise LeaseLost(lease.run_id)
    return row[0], bool(row[2]), row[3]


def _insert_events(conn: sqlite3.Connection, base: int, batch: EventBatch, run_id: str) -> None:
    """One row for the batch. Events already stored (same seq) are skipped, never rewritten."""
    while batch.chunks:
        first, last = batch.chunks[0][0], batch.chunks[-1][1]
        if not 0 < first <= last <= _MAX_NUMBER:
            raise ValueError(f"event seq out of range: {first}..{last}")
        body = "[" + ",".join(chunk[2] for chunk in batch.chunks) + "]"
        if conn.execute(_INSERT_EVENTS, (base + first, last, body)).rowcount:
            return
        stored = conn.execute("SELECT last_seq FROM events WHERE key = ?",
                              (base + first,)).fetchone()[0]
        batch = EventBatch.of([e for e in batch.decoded() if e["seq"] > stored], run_id)


def insert_run(conn: sqlite3.Connection, path: str, run: NewRun, token: str, pid: int,
               now: float) -> int:
    """Insert the run; the size of its initial state and visits as JSON."""
    rid = run.run_id
    state, visits = encode(run.state, "state", rid), encode(run.visits, "visits", rid)
    inputs = encode(run.inputs, "inputs", rid)
    with transaction(conn, path):
        conn.execute("INSERT OR IGNORE INTO sources VALUES (?, ?)",
                     (run.workflow_hash, run.workflow_source))
        try:
            cursor = conn.execute(
                "INSERT INTO runs (run_id, workflow, workflow_path, workflow_hash, status, start,"
                " next_node, state, visits, step, created_at, updated_at, parent_run_id,"
                " owner_pid, owner_host, owner_token, heartbeat_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, run.workflow, run.workflow_path, run.workflow_hash, run.status, run.start,
                 run.start, NOT_KEPT, visits, run.step, now, now, run.parent_run_id, pid, HOST,
                 token, now))
        except sqlite3.IntegrityError:
            raise StoreError(f"run {rid} already exists in {path}") from None
        conn.execute("INSERT INTO run_inputs VALUES (?, ?, ?, ?, ?)",
                     (cursor.lastrowid, inputs, state, visits, run.step))
    return len(state) + len(visits)


def claim_run(conn: sqlite3.Connection, path: str, run_id: str, allow: frozenset[RunStatus],
              token: str, pid: int, now: float) -> None:
    """Compare-and-set ownership: the check and the update share one write transaction."""
    with transaction(conn, path):
        row = conn.execute(_OWNER, (run_id,)).fetchone()
        if row is None:
            raise UnknownRun(run_id)
        status, owner_pid, owner_host, heartbeat_at = row
        if status == "running":
            if not owner_dead(owner_pid, owner_host, heartbeat_at, now):
                raise RunInUse(run_id, owner_pid, owner_host)
        elif status not in allow:
            raise RunNotResumable(run_id, status)
        conn.execute(
            "UPDATE runs SET status = 'running', owner_pid = ?, owner_host = ?, owner_token = ?,"
            " heartbeat_at = ?, updated_at = ?, finished_at = NULL, error = NULL,"
            " waiting = NULL, cancel_requested = 0 WHERE run_id = ?",
            (pid, HOST, token, now, now, run_id))


def run_number(conn: sqlite3.Connection, run_id: str) -> int:
    """The run's row number, which never changes: its steps' and events' keys start with it."""
    row = conn.execute("SELECT run_no FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise UnknownRun(run_id)
    return int(row[0])


def _insert_step(conn: sqlite3.Connection, run_no: int, lease: Lease, row: StepRow) -> None:
    if not 0 < row[0] <= _MAX_NUMBER:
        raise ValueError(f"step number out of range: {row[0]}")
    try:
        written = conn.execute(_INSERT_STEP_FENCED, ((run_no << KEY_BITS) + row[0], *row,
                                                     run_no, lease.token)).rowcount
    except sqlite3.IntegrityError:
        raise StepConflict(lease.run_id, row[0]) from None
    if not written:
        raise LeaseLost(lease.run_id)


def insert_step(conn: sqlite3.Connection, path: str, lease: Lease, run_no: int,
                row: StepRow) -> None:
    """The step alone (no events are due), in one statement: an implicit write transaction,
    which takes the write lock before it reads, as BEGIN IMMEDIATE does. LeaseLost when fenced
    out. The step row is the run's new cursor (see the `runs` table): the run row is not
    written."""
    rollback(conn)  # a transaction a signal left open would swallow the statement
    try:
        _insert_step(conn, run_no, lease, row)
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        with transaction(conn, path):  # waits and retries as every other write does
            _insert_step(conn, run_no, lease, row)


def write_checkpoint(conn: sqlite3.Connection, path: str, lease: Lease, run_no: int,
                     row: StepRow, events: EventBatch) -> None:
    """The step and the events before it, in one transaction; nothing when fenced out."""
    with transaction(conn, path):
        _insert_events(conn, run_no << KEY_BITS, events, lease.run_id)
        _insert_step(conn, run_no, lease, row)


def write_finish(conn: sqlite3.Connection, path: str, lease: Lease, status: RunStatus,
                 values: tuple[str, str | None, str | None], events: EventBatch,
                 now: float) -> None:
    """The final (or waiting) status, state, error and waiting; ownership is released."""
    finished = None if status in ("waiting", "interrupted") else now
    with transaction(conn, path):
        run_no, _, step = _fence(conn, lease)
        base = run_no << KEY_BITS
        _insert_events(conn, base, events, lease.run_id)
        latest: Any = conn.execute(_LATEST_STEP, (base, base + _MAX_NUMBER)).fetchone()
        cursor: tuple[Any, ...] = (None, None, None)
        if latest is not None and latest[0] > step:
            visits = latest[1]
            if visits is None:
                visits = encode(replay.visits_at(conn, run_no, latest[3]), "visits",
                                lease.run_id)
            cursor = (latest[0], visits, latest[2])
        conn.execute(_FINISH, (status, *values, finished, now, *cursor, run_no))


def flush_events(conn: sqlite3.Connection, path: str, lease: Lease, events: EventBatch,
                 now: float) -> bool:
    """Events written ahead of their step, and a heartbeat; True when cancel was requested.
    LeaseLost when fenced out."""
    with transaction(conn, path):
        run_no, cancel, _ = _fence(conn, lease)
        _insert_events(conn, run_no << KEY_BITS, events, lease.run_id)
        conn.execute("UPDATE runs SET heartbeat_at = ? WHERE run_no = ?", (now, run_no))
    return cancel


def record_retry(conn: sqlite3.Connection, path: str, lease: Lease, step: int,
                 attempt: int) -> None:
    """A retry of `step` begins: kept so that a resumed run does not count from 1 again."""
    with transaction(conn, path):
        run_no, _, _ = _fence(conn, lease)
        conn.execute("UPDATE runs SET retry_step = ?, retry_attempt = ? WHERE run_no = ?",
                     (step, attempt, run_no))


def request_cancel(conn: sqlite3.Connection, path: str, run_id: str, now: float) -> bool:
    """Ask a running run to stop; end one that no process runs (waiting or interrupted) at
    once, with its `run_finished` event. True when the run has ended."""
    with transaction(conn, path):
        row = conn.execute(_OWNER, (run_id,)).fetchone()
        if row is None:
            raise UnknownRun(run_id)
        status = row[0]
        if status == "running" and owner_dead(row[1], row[2], row[3], now):
            conn.execute(f"UPDATE runs SET {_UNOWN} WHERE run_id = ?", (now, run_id))
            status = "interrupted"
        if status in ("waiting", "interrupted"):
            _cancel_paused(conn, run_id, now)
            return True
        if status != "running":
            raise RunNotRunning(run_id, status)
        conn.execute("UPDATE runs SET cancel_requested = 1 WHERE run_id = ?", (run_id,))
        return False


def _cancel_paused(conn: sqlite3.Connection, run_id: str, now: float) -> None:
    row = run_row(conn, run_id)
    state, last_seq = row[6], row[10]
    finished = {"event": "run_finished", "run_id": run_id, "ts": iso_timestamp(now),
                "seq": last_seq + 1, "status": "cancelled", "state": state, "duration_ms": 0.0}
    run_no = run_number(conn, run_id)
    _insert_events(conn, run_no << KEY_BITS, EventBatch.of([finished], run_id), run_id)
    conn.execute("UPDATE runs SET status = 'cancelled', waiting = NULL, finished_at = ?,"
                 " updated_at = ? WHERE run_no = ?", (now, now, run_no))


def mark_dead(conn: sqlite3.Connection, path: str, run_id: str, now: float) -> bool:
    """Store a running run whose owner died as interrupted; True when it did."""
    with transaction(conn, path):
        row = conn.execute(_OWNER, (run_id,)).fetchone()
        if row is None or row[0] != "running" or not owner_dead(row[1], row[2], row[3], now):
            return False
        conn.execute(f"UPDATE runs SET {_UNOWN} WHERE run_id = ?", (now, run_id))
        return True


def release(conn: sqlite3.Connection, path: str, lease: Lease, now: float) -> None:
    """Give up a run this process still owns: it becomes interrupted, and resumable."""
    with transaction(conn, path):
        conn.execute(f"UPDATE runs SET {_UNOWN} WHERE run_id = ? AND owner_token = ?"
                     " AND status = 'running'", (now, lease.run_id, lease.token))
