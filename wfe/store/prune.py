"""Retention: delete finished runs older than an age, with everything stored for them, and give
the freed pages back to the file system.

Runs are deleted a batch at a time, each batch one write transaction, so a long prune never
holds the store's write lock for long. A store made by this wfe has incremental auto-vacuum (set
when the file is created, `wfe.store.schema`), so giving pages back is cheap; an older store is
converted once, with a full VACUUM, by its first prune.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import NamedTuple

from wfe.store.connection import is_busy, transaction
from wfe.store.schema import KEY_BITS

#: The statuses of runs that are over; running and waiting runs are never deleted.
FINISHED = ("succeeded", "failed", "cancelled", "interrupted")
BATCH = 200
_LAST = (1 << KEY_BITS) - 1
_SELECT = ("SELECT run_no, run_id, status FROM runs WHERE status IN ({})"
           " AND coalesce(finished_at, updated_at) < ? ORDER BY run_no LIMIT ?")
_PER_RUN = (
    "DELETE FROM steps WHERE key BETWEEN ? AND ?",
    "DELETE FROM events WHERE key BETWEEN ? AND ?",
    "DELETE FROM fanout_items WHERE key BETWEEN ? AND ?",
)
_ORPHAN_SOURCES = ("DELETE FROM sources WHERE workflow_hash NOT IN"
                   " (SELECT workflow_hash FROM runs)")
# The newest slot of each schedule stays: it says from when a scheduler looks for missed slots.
_OLD_SLOTS = ("DELETE FROM schedule_slots WHERE slot < ? AND slot < (SELECT max(slot)"
              " FROM schedule_slots newest WHERE newest.schedule = schedule_slots.schedule)")


class Pruned(NamedTuple):
    """What a prune removed: run ids, and how many of each status."""

    run_ids: list[str]
    statuses: dict[str, int]
    compacted: bool


def prune(conn: sqlite3.Connection, path: str, cutoff: float,
          statuses: tuple[str, ...] = FINISHED) -> Pruned:
    """Delete runs with one of `statuses` that ended before `cutoff` (epoch seconds)."""
    removed: list[str] = []
    counts: Counter[str] = Counter()
    query = _SELECT.format(", ".join("?" * len(statuses)))
    while True:
        with transaction(conn, path):
            batch = conn.execute(query, (*statuses, cutoff, BATCH)).fetchall()
            for run_no, run_id, status in batch:
                low = run_no << KEY_BITS
                for statement in _PER_RUN:
                    conn.execute(statement, (low, low + _LAST))
                conn.execute("DELETE FROM run_inputs WHERE run_no = ?", (run_no,))
                conn.execute("DELETE FROM runs WHERE run_no = ?", (run_no,))
                removed.append(run_id)
                counts[status] += 1
            if len(batch) < BATCH:
                conn.execute(_ORPHAN_SOURCES)
                conn.execute(_OLD_SLOTS, (cutoff,))
                break
    return Pruned(removed, dict(counts), compact(conn, path) if removed else False)


def compact(conn: sqlite3.Connection, path: str) -> bool:
    """Give free pages back to the file system; False when others kept the store too busy."""
    try:
        if int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == 0:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("VACUUM")  # once: from now on the store gives pages back cheaply
        else:
            with transaction(conn, path):
                # Python's sqlite3 steps this pragma once, and each step frees one page.
                while conn.execute("PRAGMA freelist_count").fetchone()[0]:
                    conn.execute("PRAGMA incremental_vacuum")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        return False
    return True
