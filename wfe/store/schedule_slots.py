"""The slots of schedules in the store: a slot is recorded before its run starts, keyed by
(schedule, slot time), so that schedulers sharing the store start each slot at most once.

`outcome` is `started` (with the run's id), `skipped` (the previous run still ran), `queued`
(it waits for the previous run to end) or `failed` (the run could not be started).
"""

from __future__ import annotations

import sqlite3
import time

from wfe.store.connection import transaction

_RECORD = ("INSERT OR IGNORE INTO schedule_slots (schedule, slot, outcome, run_id, recorded_at)"
           " VALUES (?, ?, ?, ?, ?)")
_TAKE_QUEUED = ("UPDATE schedule_slots SET outcome = 'started', run_id = ?, recorded_at = ?"
                " WHERE schedule = ? AND slot = ? AND outcome = 'queued'")


def record(conn: sqlite3.Connection, path: str, schedule: str, slot: float, outcome: str,
           run_id: str | None, now: float) -> bool:
    """Record the slot; False when it was recorded already (by this or another scheduler)."""
    with transaction(conn, path):
        return conn.execute(_RECORD, (schedule, slot, outcome, run_id, now)).rowcount == 1


def take_queued(conn: sqlite3.Connection, path: str, schedule: str, slot: float, run_id: str,
                now: float) -> bool:
    """Start a queued slot with this run; False when another scheduler took it first."""
    with transaction(conn, path):
        return conn.execute(_TAKE_QUEUED, (run_id, now, schedule, slot)).rowcount == 1


def set_outcome(conn: sqlite3.Connection, path: str, schedule: str, slot: float,
                outcome: str) -> None:
    with transaction(conn, path):
        conn.execute("UPDATE schedule_slots SET outcome = ? WHERE schedule = ? AND slot = ?",
                     (outcome, schedule, slot))


def latest(conn: sqlite3.Connection, schedule: str) -> float | None:
    """The time of the schedule's latest recorded slot."""
    row = conn.execute("SELECT max(slot) FROM schedule_slots WHERE schedule = ?",
                       (schedule,)).fetchone()
    return None if row[0] is None else float(row[0])


def last_run(conn: sqlite3.Connection, schedule: str) -> str | None:
    """The run of the schedule's latest started slot."""
    row = conn.execute("SELECT run_id FROM schedule_slots WHERE schedule = ? AND outcome ="
                       " 'started' ORDER BY slot DESC LIMIT 1", (schedule,)).fetchone()
    return None if row is None else str(row[0])


def queued(conn: sqlite3.Connection, schedule: str) -> list[float]:
    """The schedule's queued slots, oldest first."""
    return [float(row[0]) for row in conn.execute(
        "SELECT slot FROM schedule_slots WHERE schedule = ? AND outcome = 'queued'"
        " ORDER BY slot", (schedule,))]


class SlotBook:
    """These functions bound to a connection (`Store.schedule_slots`)."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn, self._path = conn, path

    def record(self, schedule: str, slot: float, outcome: str, run_id: str | None) -> bool:
        return record(self._conn, self._path, schedule, slot, outcome, run_id,
                                 time.time())

    def take_queued(self, schedule: str, slot: float, run_id: str) -> bool:
        return take_queued(self._conn, self._path, schedule, slot, run_id,
                                      time.time())

    def set_outcome(self, schedule: str, slot: float, outcome: str) -> None:
        set_outcome(self._conn, self._path, schedule, slot, outcome)

    def latest(self, schedule: str) -> float | None:
        return latest(self._conn, schedule)

    def last_run(self, schedule: str) -> str | None:
        return last_run(self._conn, schedule)

    def queued(self, schedule: str) -> list[float]:
        return queued(self._conn, schedule)
