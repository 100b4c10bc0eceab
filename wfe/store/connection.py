"""SQLite connections of the store: WAL, synchronous per durability, and write transactions.

Every write runs in `BEGIN IMMEDIATE`: a deferred transaction that reads first and then writes
can fail with "database is locked" at once in WAL mode, whatever the busy timeout.

A store is a regular file, or a new one in a folder wfe may write to: anything else (a device
such as /dev/null, where SQLite would leave a `/dev/null-journal` behind, a FIFO, a folder) is
refused before SQLite sees it. A store that cannot be written (the file, or its folder, is
read-only) is opened read-only, so that `wfe runs`, `show` and `logs` still work; where not even
WAL's `-shm` file can be made, it is opened immutable (no writer can be using it then: a writer
would have made the `-wal` and `-shm` files beside it).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.request import pathname2url

from wfe.store.errors import StoreBusy, StoreError
from wfe.store.records import Durability

BUSY_TIMEOUT_SECONDS = 10.0
#: How long a write keeps retrying after the busy timeout gave up, before StoreBusy.
RETRY_SECONDS = 30.0
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
#: SQLite's default is 1000 pages (~4 MB).
WAL_PAGES_BEFORE_A_COMMIT_FOLDS_IT = 8000
_SYNCHRONOUS: dict[Durability, str] = {"normal": "NORMAL", "full": "FULL"}


class ReadOnlyConnection(sqlite3.Connection):
    """A connection to a store this process cannot write (see the module's docstring)."""


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode; nothing is written to the file yet."""
    query = _read_only_query(path)
    try:
        if query is None:
            return sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                   check_same_thread=False)
        uri = f"file:{pathname2url(os.path.abspath(path))}?{query}"
        return sqlite3.connect(uri, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                               check_same_thread=False, uri=True, factory=ReadOnlyConnection)
    except sqlite3.Error as error:
        raise StoreError(f"{path}: cannot open the store: {error}") from None


def _read_only_query(path: str) -> str | None:
    """None for a store that can be written (or made); else the URI query to read it with.
    StoreError for a path that is no place for a store."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if not os.access(folder, os.W_OK):
            raise StoreError(f"{path}: no store there, and its folder is not writable to make "
                             "one (use --store or WFE_STORE to pick another file)") from None
        return None
    except OSError as error:
        raise StoreError(f"{path}: cannot open the store: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise StoreError(f"{path}: not a regular file, so not a place for a store (use --store "
                         "or WFE_STORE to pick another file)")
    if os.access(folder, os.W_OK | os.X_OK):
        return None if os.access(path, os.W_OK) else "mode=ro"
    beside = all(os.path.exists(path + suffix) for suffix in ("-wal", "-shm"))
    return "mode=ro" if beside else "immutable=1"


def configure(conn: sqlite3.Connection, path: str, durability: Durability) -> None:
    """WAL and the synchronous level; only called once the file is known to be ours. A
    read-only store is left as it is."""
    if isinstance(conn, ReadOnlyConnection):
        return
    mode = _retry_busy(conn, path, "PRAGMA journal_mode = WAL")
    if mode is None or str(mode[0]).lower() != "wal":
        raise StoreError(f"{path}: cannot use write-ahead logging here (journal mode {mode})")
    conn.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[durability]}")
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    # Bound the -wal file after checkpoints; it would otherwise keep its largest size.
    conn.execute("PRAGMA journal_size_limit = 67108864")
    if folds_in_background(durability):
        # The flusher thread of a process that owns runs folds the WAL into the file every
        # ~50 ms, off the engine's thread; a commit does it only once the WAL is this large.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES_BEFORE_A_COMMIT_FOLDS_IT}")


def folds_in_background(durability: Durability) -> bool:
    """Whether the WAL is folded into the file by the flusher thread: with "normal" that moves
    a fold's two fsyncs off the engine's thread; with "full", where every commit syncs, a fold
    syncing alongside slows the commits more than it saves them."""
    return durability == "normal"


def is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def _retry_busy(conn: sqlite3.Connection, path: str, sql: str) -> tuple[object, ...] | None:
    """Run `sql`, retrying with backoff while the busy timeout alone was not enough."""
    began = time.monotonic()
    delay = 0.005
    while True:
        try:
            row: tuple[object, ...] | None = conn.execute(sql).fetchone()
            return row
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            waited = time.monotonic() - began
            if waited >= RETRY_SECONDS:
                raise StoreBusy(path, waited) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def begin(conn: sqlite3.Connection, path: str) -> None:
    """BEGIN IMMEDIATE: take the write lock now, waiting (and retrying) while others hold it."""
    if conn.in_transaction:
        # Left open by a signal (KeyboardInterrupt) that struck between BEGIN and the `try`
        # that would have rolled it back; nothing of it was committed.
        conn.execute("ROLLBACK")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        _retry_busy(conn, path, "BEGIN IMMEDIATE")


def rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@contextmanager
def transaction(conn: sqlite3.Connection, path: str) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed when the block ends, rolled back when it raises."""
    begin(conn, path)
    try:
        yield conn
    except BaseException:
        rollback(conn)
        raise
    conn.execute("COMMIT")
