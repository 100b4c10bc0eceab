"""Every read of the store. Reads run in autocommit: each statement sees one committed snapshot."""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from wfe.engine.events import Event, RunStatus
from wfe.errors import UsageError
from wfe.store import replay
from wfe.store.errors import AmbiguousRun, UnknownNode, UnknownRun
from wfe.store.records import RunRecord, StepRecord, decode, decode_optional
from wfe.store.schema import KEY_BITS

_LAST = (1 << KEY_BITS) - 1
_RANGE = f"BETWEEN r.run_no << {KEY_BITS} AND (r.run_no << {KEY_BITS}) + {_LAST}"

#: A run with its current cursor: from its latest step when that is newer than the run row.
#: The owner's host and heartbeat, the run's number and the latest step's key come last. The
#: state and visits are NULL when that step kept only what it changed (see `completed`).
RUN_SELECT = (
    "SELECT r.run_id, r.workflow, r.workflow_path, r.workflow_hash, r.status, i.inputs,"
    " CASE WHEN s.key IS NULL THEN r.state ELSE s.state END,"
    " coalesce(s.next_node, r.next_node), coalesce(s.step, r.step),"
    " CASE WHEN s.key IS NULL THEN r.visits ELSE s.visits END,"
    f" coalesce((SELECT e.last_seq FROM events AS e WHERE e.key {_RANGE}"
    " ORDER BY e.key DESC LIMIT 1), 0),"
    " r.created_at, max(r.updated_at, coalesce(s.started_at + s.duration_ms / 1000.0, 0)),"
    " r.finished_at, r.error, r.waiting, r.parent_run_id, r.owner_pid, r.cancel_requested,"
    " i.initial_state, r.start, r.owner_host, r.heartbeat_at, r.run_no, s.key"
    " FROM runs AS r JOIN run_inputs AS i ON i.run_no = r.run_no"
    f" LEFT JOIN steps AS s ON s.key = (SELECT max(key) FROM steps WHERE key {_RANGE})"
    " AND s.step > r.step"
)
_STEP_SELECT = (
    "SELECT step, node, attempt, started_at, duration_ms, outcome, updates, error, next_node,"
    " items FROM steps"
)
_AMBIGUOUS_SHOWN = 5


def _key_range(conn: sqlite3.Connection, run_id: str) -> tuple[int, int]:
    """The keys of the run's steps and events; UnknownRun when there is no such run."""
    row = conn.execute("SELECT run_no FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise UnknownRun(run_id)
    base = int(row[0]) << KEY_BITS
    return base, base + _LAST


def run_row(conn: sqlite3.Connection, run_id: str) -> tuple[Any, ...]:
    """The run's row as RUN_SELECT reads it, its state and visits decoded (`completed`)."""
    row: tuple[Any, ...] | None = conn.execute(
        RUN_SELECT + " WHERE r.run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise UnknownRun(run_id)
    return completed(conn, row)


def completed(conn: sqlite3.Connection, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row with its state and visits decoded, rebuilt from the latest snapshot and the steps
    after it where the latest step kept only what it changed."""
    if not row[6] or row[9] is None:  # NULL, or NOT_KEPT in the run row
        state, visits = replay.rebuild(conn, row[23], (row[23] << KEY_BITS) + row[8])
    else:
        state, visits = decode(row[6]), decode(row[9])
    return (*row[:6], state, *row[7:9], visits, *row[10:])


def retry_started(conn: sqlite3.Connection, run_id: str) -> tuple[int, int] | None:
    """(step, attempt) of the run's latest retry that began, if any."""
    row = conn.execute("SELECT retry_step, retry_attempt FROM runs WHERE run_id = ?",
                       (run_id,)).fetchone()
    return (int(row[0]), int(row[1])) if row is not None and row[0] is not None else None


def cancel_requested(conn: sqlite3.Connection, run_id: str) -> bool:
    row = conn.execute("SELECT cancel_requested FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return bool(row and row[0])


def cancel_requests(conn: sqlite3.Connection) -> set[str]:
    """The owner tokens of the running runs that `wfe cancel` asked to stop."""
    rows = conn.execute("SELECT owner_token FROM runs WHERE status = 'running'"
                        " AND cancel_requested = 1 AND owner_token IS NOT NULL").fetchall()
    return {row[0] for row in rows}


def run_rows(conn: sqlite3.Connection, status: RunStatus | None, workflow: str | None,
             limit: int) -> list[tuple[Any, ...]]:
    """Newest first."""
    where: list[str] = []
    args: list[str] = []
    if status is not None:
        where.append("r.status = ?")
        args.append(status)
    if workflow is not None:
        where.append("r.workflow = ?")
        args.append(workflow)
    sql = RUN_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY r.created_at DESC, r.run_no DESC LIMIT ?"
    return [completed(conn, row) for row in conn.execute(sql, (*args, limit)).fetchall()]


def running_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """(run_id, owner_pid, owner_host, heartbeat_at) of every run stored as running."""
    return conn.execute("SELECT run_id, owner_pid, owner_host, heartbeat_at FROM runs"
                        " WHERE status = 'running'").fetchall()


def to_record(row: tuple[Any, ...], status: RunStatus | None = None) -> RunRecord:
    """A RunRecord of a `completed` row; `status` overrides the stored one (a dead owner seen
    on a read-only file)."""
    dead = status is not None
    return RunRecord(
        run_id=row[0], workflow=row[1], workflow_path=row[2], workflow_hash=row[3],
        status=status or row[4], inputs=decode(row[5]), state=row[6],
        next_node=row[7], step=row[8], visits=row[9], last_seq=row[10],
        created_at=row[11], updated_at=row[12], finished_at=row[13],
        error=decode_optional(row[14]), waiting=decode_optional(row[15]),
        parent_run_id=row[16], owner_pid=None if dead else row[17],
        cancel_requested=bool(row[18]), initial_state=decode(row[19]), start=row[20],
    )


def resolve(conn: sqlite3.Connection, prefix: str) -> str:
    """The one run id that starts with `prefix` (tried as given, then in lower case)."""
    if not prefix:
        raise UsageError("a run id (or a unique prefix of one) is needed")
    for candidate in dict.fromkeys((prefix, prefix.lower())):
        if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (candidate,)).fetchone():
            return candidate
        # A range on the unique index: no LIKE/GLOB wildcards to escape in the prefix.
        bounds = (candidate, candidate + "\U0010ffff")
        ids = [row[0] for row in conn.execute(
            "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT ?",
            (*bounds, _AMBIGUOUS_SHOWN + 1))]
        if len(ids) == 1:
            return str(ids[0])
        if ids:
            count = conn.execute("SELECT count(*) FROM runs WHERE run_id >= ? AND run_id < ?",
                                 bounds).fetchone()[0]
            raise AmbiguousRun(prefix, count, ids[:_AMBIGUOUS_SHOWN])
    raise UnknownRun(prefix)


def steps(conn: sqlite3.Connection, run_id: str, states: bool) -> list[StepRecord]:
    """Every step with the visits after it, and with the state after it when `states`."""
    return [
        replace(record, state=copy.deepcopy(state) if states else None,
                visits=dict(record.visits))
        for record, state in history(conn, run_id)
    ]


def history(conn: sqlite3.Connection,
            run_id: str) -> Iterator[tuple[StepRecord, dict[str, Any]]]:
    """Every step with the state after it. The state is one dict changed in place from step
    to step (and so are the visits of each record): copy what is kept."""
    low, high = _key_range(conn, run_id)
    rows = conn.execute(_STEP_SELECT + " WHERE key BETWEEN ? AND ? ORDER BY key",
                        (low, high)).fetchall()
    after = replay.walk(conn, low >> KEY_BITS)
    next(after)  # the initial state
    # strict=False: a step committed between the two reads is left out, as the first missed it
    for row, (state, visits) in zip(rows, after, strict=False):
        yield StepRecord(
            run_id=run_id, step=row[0], node=row[1], attempt=row[2], started_at=row[3],
            duration_ms=row[4], outcome=row[5], updates=decode(row[6]),
            error=decode_optional(row[7]), state=None, visits=visits, next_node=row[8],
            items=decode_optional(row[9]),
        ), state


def start_of(conn: sqlite3.Connection, run_id: str) -> tuple[int, str, dict[str, Any]]:
    """(initial step, start node, initial state) of the run."""
    low, _ = _key_range(conn, run_id)
    row = conn.execute("SELECT i.initial_step, r.start, i.initial_state FROM run_inputs AS i"
                       " JOIN runs AS r ON r.run_no = i.run_no WHERE i.run_no = ?",
                       (low >> KEY_BITS,)).fetchone()
    return int(row[0]), str(row[1]), decode(row[2])


def events(conn: sqlite3.Connection, run_id: str, after_seq: int,
           limit: int | None) -> list[Event]:
    """In seq order, each seq once. Starts at the batch holding `after_seq + 1`."""
    low, high = _key_range(conn, run_id)
    start = low + max(after_seq, 0) + 1
    rows = conn.execute(
        "SELECT body FROM events WHERE key BETWEEN coalesce((SELECT max(key) FROM events"
        " WHERE key BETWEEN ?1 AND ?2), ?1) AND ?3 AND last_seq > ?4 ORDER BY key",
        (low, min(start, high), high, after_seq)).fetchall()
    found: list[Event] = []
    last = after_seq
    for (body,) in rows:
        for event in decode(body):
            if event["seq"] > last:
                found.append(event)
                last = event["seq"]
                if limit is not None and len(found) >= limit:
                    return found
    return found


def state_before(conn: sqlite3.Connection, run_id: str,
                 node: str) -> tuple[dict[str, Any], dict[str, int], int]:
    """State, visits and step just before the last execution of `node` in the run."""
    low, high = _key_range(conn, run_id)
    last = conn.execute("SELECT max(key) FROM steps WHERE key BETWEEN ? AND ? AND node = ?",
                        (low, high, node)).fetchone()[0]
    if last is None:
        raise UnknownNode(node, run_id)
    return _position(conn, low, last - 1)


def state_after(conn: sqlite3.Connection, run_id: str,
                step: int) -> tuple[dict[str, Any], dict[str, int], int, str] | None:
    """(state, visits, step, next node) after `step` of the run (its initial step: where it
    started); None when the run has no such step."""
    low, high = _key_range(conn, run_id)
    initial = conn.execute("SELECT i.initial_step, r.start FROM run_inputs AS i JOIN runs AS r"
                           " ON r.run_no = i.run_no WHERE i.run_no = ?",
                           (low >> KEY_BITS,)).fetchone()
    if step == initial[0]:
        state, visits, _ = _position(conn, low, low)
        return state, visits, step, str(initial[1])
    row = conn.execute("SELECT key, next_node FROM steps WHERE key BETWEEN ? AND ? AND step = ?",
                       (low, high, step)).fetchone()
    if row is None:
        return None
    state, visits, _ = _position(conn, low, row[0])
    return state, visits, step, str(row[1])


def _position(conn: sqlite3.Connection, low: int,
              last: int) -> tuple[dict[str, Any], dict[str, int], int]:
    """State, visits and step after the step of key `last` (the run's initial ones if none)."""
    row = conn.execute("SELECT step FROM steps WHERE key BETWEEN ? AND ? ORDER BY key DESC"
                       " LIMIT 1", (low, last)).fetchone()
    if row is None:
        row = conn.execute("SELECT initial_step FROM run_inputs WHERE run_no = ?",
                           (low >> KEY_BITS,)).fetchone()
    state, visits = replay.rebuild(conn, low >> KEY_BITS, last)
    return state, visits, int(row[0])


def source_of(conn: sqlite3.Connection, run_id: str) -> bytes:
    row = conn.execute(
        "SELECT s.source FROM runs AS r JOIN sources AS s ON s.workflow_hash = r.workflow_hash"
        " WHERE r.run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise UnknownRun(run_id)
    return bytes(row[0])
