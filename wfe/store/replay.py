"""A run's state and visits rebuilt from its latest full snapshot and the steps after it.

A step row keeps its `updates` (the same JSON as its `node_finished` event) and, where a reducer
applied them, `ops`: per key "append" (the update is one item added), "extend" (items added),
"merge" (keys merged into a mapping), "skip" (a secret key, never stored) or ["set", value]
(the value after a reducer the store cannot replay). Its `visits` are NULL when they are the
previous step's with its node once more. Now and then a row keeps the whole state and visits
(the policy is in wfe.store.step_rows): a rebuild starts there, or at the run's initial state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from wfe.store.records import decode, decode_optional
from wfe.store.schema import KEY_BITS

_SNAPSHOT = ("SELECT key, state, visits FROM steps WHERE key BETWEEN ? AND ?"
             " AND state IS NOT NULL ORDER BY key DESC LIMIT 1")
_INITIAL = "SELECT initial_state, initial_visits FROM run_inputs WHERE run_no = ?"
_AFTER = ("SELECT node, updates, ops, visits, state FROM steps WHERE key > ? AND key <= ?"
          " ORDER BY key")


def apply_step(state: dict[str, Any], updates: dict[str, Any], ops: dict[str, Any] | None) -> None:
    """Write one step's stored updates into `state`, in place."""
    for key, value in updates.items():
        op = ops.get(key) if ops else None
        if op is None:
            state[key] = value
        elif op == "append":
            state.setdefault(key, []).append(value)
        elif op == "extend":
            state.setdefault(key, []).extend(value)
        elif op == "merge":
            state[key] = {**state.get(key, {}), **value}
        elif type(op) is list:
            state[key] = op[1]
        # "skip": a secret key, which the store never holds


def _base(conn: sqlite3.Connection, run_no: int,
          last: int) -> tuple[int, dict[str, Any], dict[str, int]]:
    """(key, state, visits) of the latest snapshot at or before key `last`, else the initial."""
    low = run_no << KEY_BITS
    row = conn.execute(_SNAPSHOT, (low, last)).fetchone()
    if row is not None:
        return int(row[0]), decode(row[1]), decode(row[2])
    initial = conn.execute(_INITIAL, (run_no,)).fetchone()
    return low, decode(initial[0]), decode(initial[1])


def rebuild(conn: sqlite3.Connection, run_no: int,
            last: int) -> tuple[dict[str, Any], dict[str, int]]:
    """The state and visits after the step with key `last` (the initial ones below any step)."""
    key, state, visits = _base(conn, run_no, last)
    for node, updates, ops, stored_visits, _ in conn.execute(_AFTER, (key, last)):
        apply_step(state, decode(updates), decode_optional(ops))
        visits = _visits_after(visits, node, stored_visits)
    return state, visits


def visits_at(conn: sqlite3.Connection, run_no: int, last: int) -> dict[str, int]:
    """The visits after the step with key `last`: from the latest row that keeps them, counting
    the nodes of the steps after it (their updates are not read)."""
    low = run_no << KEY_BITS
    row = conn.execute("SELECT key, visits FROM steps WHERE key BETWEEN ? AND ? AND visits IS NOT"
                       " NULL ORDER BY key DESC LIMIT 1", (low, last)).fetchone()
    if row is None:
        row = (low, conn.execute(_INITIAL, (run_no,)).fetchone()[1])
    visits: dict[str, int] = decode(row[1])
    for (node,) in conn.execute("SELECT node FROM steps WHERE key > ? AND key <= ?",
                                (row[0], last)):
        visits[node] = visits.get(node, 0) + 1
    return visits


def _visits_after(visits: dict[str, int], node: str, stored: str | None) -> dict[str, int]:
    if stored is not None:
        return dict(decode(stored))
    visits[node] = visits.get(node, 0) + 1
    return visits


def walk(conn: sqlite3.Connection, run_no: int) -> Iterator[tuple[dict[str, Any], dict[str, int]]]:
    """The state and visits after each step in order, starting with the initial ones. The same
    dicts are changed in place between items: copy what is kept."""
    low = run_no << KEY_BITS
    initial = conn.execute(_INITIAL, (run_no,)).fetchone()
    state, visits = decode(initial[0]), decode(initial[1])
    yield state, visits
    rows = conn.execute(_AFTER, (low, low + (1 << KEY_BITS) - 1)).fetchall()
    for node, updates, ops, stored_visits, snapshot in rows:
        if snapshot is not None:
            state = decode(snapshot)
        else:
            apply_step(state, decode(updates), decode_optional(ops))
        visits = _visits_after(visits, node, stored_visits)
        yield state, visits
