"""Pool slots in the store: at most a pool's size of nodes hold one at once, across every process
that shares the file.

A slot is a row (pool, slot number) naming the run, node and process holding it. Taking one is one
write transaction: slots whose holder is dead are deleted first (the same judgement as a run's
owner, `wfe.store.liveness`: on this host its process is gone, or the run it serves is no longer
running or has lost its heartbeat), then the lowest free number is taken if the pool has room.
"""

from __future__ import annotations

import os
import sqlite3

from wfe.store.connection import transaction
from wfe.store.liveness import HOST, owner_dead, pid_alive

_HOLDERS = """
    SELECT p.slot, p.pid, p.host, r.status, r.owner_pid, r.owner_host, r.heartbeat_at
    FROM pool_slots p LEFT JOIN runs r ON r.run_id = p.run_id
    WHERE p.pool = ?"""
_TAKE = ("INSERT INTO pool_slots (pool, slot, run_id, node, pid, host, taken_at)"
         " VALUES (?, ?, ?, ?, ?, ?, ?)")


def take(conn: sqlite3.Connection, path: str, pool: str, size: int, run_id: str, node: str,
         now: float) -> int | None:
    """The number of the slot taken for (run, node), or None while the pool is full."""
    with transaction(conn, path):
        held = []
        for slot, pid, host, status, owner_pid, owner_host, beat in conn.execute(
                _HOLDERS, (pool,)):
            if _holder_dead(pid, host, status, owner_pid, owner_host, beat, now):
                conn.execute("DELETE FROM pool_slots WHERE pool = ? AND slot = ?", (pool, slot))
            else:
                held.append(slot)
        if len(held) >= size:
            return None
        free = min(set(range(len(held) + 1)) - set(held))
        conn.execute(_TAKE, (pool, free, run_id, node, os.getpid(), HOST, now))
        return free


def give_back(conn: sqlite3.Connection, path: str, pool: str, slot: int, run_id: str) -> None:
    with transaction(conn, path):
        conn.execute("DELETE FROM pool_slots WHERE pool = ? AND slot = ? AND run_id = ?",
                     (pool, slot, run_id))


def _holder_dead(pid: int, host: str, status: str | None, owner_pid: int | None,
                 owner_host: str | None, beat: float | None, now: float) -> bool:
    if host == HOST and not pid_alive(pid):
        return True
    if status != "running":  # the run ended, or was pruned, without giving its slot back
        return True
    return owner_dead(owner_pid, owner_host, beat, now)
