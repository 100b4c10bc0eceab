"""The `cache` table (schema v2): results of `cache:` nodes, reused across runs (see
wfe.engine.cache).

Expired rows are misses; they are deleted when a new result is stored, so the table holds
little more than what can still be hit.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from wfe.store.connection import transaction
from wfe.store.records import decode

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_GET = "SELECT value FROM cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)"
_PUT = "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?, ?, ?)"


def encode_value(value: Any) -> str:
    """JSON text of a result; ValueError when JSON cannot hold it."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"not a JSON value: {error}") from None


def get(conn: sqlite3.Connection, key: str, now: float) -> tuple[bool, Any]:
    row = conn.execute(_GET, (key, now)).fetchone()
    return (False, None) if row is None else (True, decode(row[0]))


def put(conn: sqlite3.Connection, path: str, row: tuple[str, str, str, float, float | None, str],
        ) -> None:
    """Store (key, tool, version, created_at, expires_at, value JSON), replacing the key's row."""
    with transaction(conn, path):
        conn.execute("DELETE FROM cache WHERE expires_at <= ?", (row[3],))
        conn.execute(_PUT, row)


def clear(conn: sqlite3.Connection, path: str, tool: str | None) -> int:
    """Delete every row (or the rows of one tool); how many were deleted."""
    with transaction(conn, path):
        if tool is None:
            return conn.execute("DELETE FROM cache").rowcount
        return conn.execute("DELETE FROM cache WHERE tool = ?", (tool,)).rowcount
