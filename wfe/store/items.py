"""The finished map items and parallel branches of a run's step in flight (SPEC section 5).

A `map:` or `parallel:` step commits each item or branch as it finishes, so that after a crash a
resume re-runs only those that were in flight and reuses the others' results. A row is keyed by
the step's key (`run_no << KEY_BITS | step`) and the item's index (a branch's position); its
`value` is the item's result, or the branch's updates, as JSON. The rows of a step are removed
once the step itself is committed. Writes are fenced by the lease, as a step's are.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from wfe.store.connection import is_busy, rollback, transaction
from wfe.store.errors import LeaseLost
from wfe.store.records import Lease, decode
from wfe.store.schema import KEY_BITS

#: item, node, attempts, duration_ms and the JSON of its value.
ItemRow = tuple[int, str, int, float, str]

_INSERT_FENCED = (
    "INSERT OR REPLACE INTO fanout_items SELECT ?, ?, ?, ?, ?, ? FROM runs"
    " INDEXED BY runs_owner WHERE run_no = ? AND owner_token = ?"
)


def insert(conn: sqlite3.Connection, path: str, lease: Lease, run_no: int, step: int,
           row: ItemRow) -> None:
    """One item, in one statement (its own write transaction); LeaseLost when fenced out."""
    values = ((run_no << KEY_BITS) + step, *row, run_no, lease.token)
    rollback(conn)  # a transaction a signal left open would swallow the statement
    try:
        written = conn.execute(_INSERT_FENCED, values).rowcount
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        with transaction(conn, path):  # waits and retries as every other write does
            written = conn.execute(_INSERT_FENCED, values).rowcount
    if not written:
        raise LeaseLost(lease.run_id)


def finished(conn: sqlite3.Connection, run_no: int,
             step: int) -> list[tuple[int, str, int, float, Any]]:
    """(item, node, attempts, duration_ms, value) of each item of the step committed so far."""
    rows = conn.execute("SELECT item, node, attempts, duration_ms, value FROM fanout_items"
                        " WHERE key = ? ORDER BY item", ((run_no << KEY_BITS) + step,))
    return [(item, node, attempts, duration, decode(value))
            for item, node, attempts, duration, value in rows]


def clear(conn: sqlite3.Connection, path: str, run_no: int, step: int) -> None:
    with transaction(conn, path):
        conn.execute("DELETE FROM fanout_items WHERE key = ?", ((run_no << KEY_BITS) + step,))
