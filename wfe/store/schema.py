"""The store's tables, how a file is recognised as a wfe store, and the schema migrations.

`PRAGMA user_version` holds the schema version, which is `len(MIGRATIONS)`. To change the
schema, append one function to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from wfe.store.connection import ReadOnlyConnection, configure, connect, transaction
from wfe.store.errors import NotAStore
from wfe.store.records import Durability

Migration = Callable[[sqlite3.Connection], None]

APP = "wfe"

#: Steps and events are keyed by `run_no << 32 | number`: one integer b-tree per table, in
#: order within each run, so a checkpoint writes one leaf page per table whatever the state's
#: size (a composite (run_id, step) key needs a second b-tree, or stores big rows in an index).
KEY_BITS = 32

#: The `state` of a run row that does not keep it (from version 5, until the run ends or
#: pauses): it is the initial state or rebuilt from the steps (wfe.store.replay). A big state in
#: the run row would make every read of a later column, and every update of the row, cost as
#: much as the state.
NOT_KEPT = ""

_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"INSERT INTO meta (key, value) VALUES ('app', '{APP}')",
    "CREATE TABLE sources (workflow_hash TEXT PRIMARY KEY, source BLOB NOT NULL)",
    # The cursor columns (next_node, state, visits, step) are as of the last write of this row;
    # a checkpoint only adds a step row, and a step newer than `step` holds the current cursor.
    """CREATE TABLE runs (
        run_no INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        workflow TEXT NOT NULL,
        workflow_path TEXT NOT NULL,
        workflow_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        start TEXT NOT NULL,
        next_node TEXT,
        state TEXT NOT NULL,
        visits TEXT NOT NULL,
        step INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL,
        error TEXT,
        waiting TEXT,
        parent_run_id TEXT,
        owner_pid INTEGER,
        owner_host TEXT,
        owner_token TEXT,
        heartbeat_at REAL,
        cancel_requested INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX runs_by_created ON runs (created_at)",
    "CREATE INDEX runs_by_status ON runs (status)",
    "CREATE INDEX runs_by_workflow ON runs (workflow, created_at)",
    # Values that never change after the run is created, kept out of the hot `runs` row.
    """CREATE TABLE run_inputs (
        run_no INTEGER PRIMARY KEY,
        inputs TEXT NOT NULL,
        initial_state TEXT NOT NULL,
        initial_visits TEXT NOT NULL,
        initial_step INTEGER NOT NULL
    )""",
    """CREATE TABLE steps (
        key INTEGER PRIMARY KEY,
        step INTEGER NOT NULL,
        node TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        started_at REAL NOT NULL,
        duration_ms REAL NOT NULL,
        outcome TEXT NOT NULL,
        updates TEXT NOT NULL,
        error TEXT,
        state TEXT NOT NULL,
        visits TEXT NOT NULL,
        next_node TEXT NOT NULL,
        items TEXT
    )""",
    # One row per write: the events queued since the last write, as a JSON array; keyed by
    # the first seq of the batch, `last_seq` the highest.
    """CREATE TABLE events (
        key INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        body TEXT NOT NULL
    )""",
)


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _V1:
        conn.execute(statement)


_V2 = (
    # Results of `cache:` nodes, by a hash of tool, version and arguments (wfe.engine.cache);
    # `expires_at` NULL: never. `value` is the tool's JSON return value.
    """CREATE TABLE cache (
        key TEXT PRIMARY KEY,
        tool TEXT NOT NULL,
        version TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        value TEXT NOT NULL
    )""",
    "CREATE INDEX cache_by_expiry ON cache (expires_at)",
)


def _v2(conn: sqlite3.Connection) -> None:
    for statement in _V2:
        conn.execute(statement)


def _v3(conn: sqlite3.Connection) -> None:
    # The latest retry of a run's step that began (step, attempt): after a kill, a resumed
    # step goes on from there instead of from attempt 1.
    conn.execute("ALTER TABLE runs ADD COLUMN retry_step INTEGER")
    conn.execute("ALTER TABLE runs ADD COLUMN retry_attempt INTEGER")


def _v4(conn: sqlite3.Connection) -> None:
    # The finished map items and parallel branches of a run's step in flight (wfe.store.items):
    # a resume re-runs only those that were in flight.
    conn.execute("""CREATE TABLE fanout_items (
        key INTEGER NOT NULL,
        item INTEGER NOT NULL,
        node TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (key, item)
    ) WITHOUT ROWID""")


def _v5(conn: sqlite3.Connection) -> None:
    # A step keeps what it changed (`updates`, with `ops` where a reducer applied them), and
    # the whole state and visits only now and then (wfe.store.replay): both become nullable,
    # which SQLite cannot alter in place. Every step of an older store keeps its whole state.
    conn.execute("ALTER TABLE steps RENAME TO steps_v4")
    conn.execute("""CREATE TABLE steps (
        key INTEGER PRIMARY KEY,
        step INTEGER NOT NULL,
        node TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        started_at REAL NOT NULL,
        duration_ms REAL NOT NULL,
        outcome TEXT NOT NULL,
        updates TEXT NOT NULL,
        error TEXT,
        state TEXT,
        visits TEXT,
        next_node TEXT NOT NULL,
        items TEXT,
        ops TEXT
    )""")
    conn.execute("INSERT INTO steps SELECT *, NULL FROM steps_v4")
    conn.execute("DROP TABLE steps_v4")
    # The fence of a step's INSERT reads the owner from here, not from the run's row, whose
    # state (kept once the run pauses or ends) lies before it.
    conn.execute("CREATE INDEX runs_owner ON runs (run_no, owner_token)")


def _operations(conn: sqlite3.Connection) -> None:
    # Pool slots (wfe.store.pools): one row per slot taken, by the run and process holding it;
    # a slot whose holder died is taken back by the next process that wants one.
    conn.execute("""CREATE TABLE pool_slots (
        pool TEXT NOT NULL,
        slot INTEGER NOT NULL,
        run_id TEXT NOT NULL,
        node TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        taken_at REAL NOT NULL,
        PRIMARY KEY (pool, slot)
    ) WITHOUT ROWID""")
    # Schedule slots (wfe.schedule): a slot is inserted before its run starts, so that two
    # schedulers sharing the store start it once. `outcome`: started, skipped or queued.
    conn.execute("""CREATE TABLE schedule_slots (
        schedule TEXT NOT NULL,
        slot REAL NOT NULL,
        outcome TEXT NOT NULL,
        run_id TEXT,
        recorded_at REAL NOT NULL,
        PRIMARY KEY (schedule, slot)
    ) WITHOUT ROWID""")


#: MIGRATIONS[n] turns a version-n store into version n + 1 (0 is an empty file).
MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4, _v5, _operations]


def current_version() -> int:
    return len(MIGRATIONS)


def check_file(conn: sqlite3.Connection, path: str) -> int:
    """The file's schema version (0 for an empty file); NotAStore when it is not ours.

    Only reads: a file that is not ours must stay byte-identical. The reads share one snapshot:
    another process may be creating the store meanwhile, and the tables read before its commit
    with the version read after it would look like a damaged file.
    """
    snapshot = not conn.in_transaction
    try:
        if snapshot:
            conn.execute("BEGIN")
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        _check_contents(conn, path, tables, version)
    except sqlite3.DatabaseError as error:
        raise NotAStore(path, _describe(error)) from None
    finally:
        if snapshot and conn.in_transaction:
            conn.execute("ROLLBACK")
    return version


def _check_contents(conn: sqlite3.Connection, path: str, tables: list[str], version: int) -> None:
    if not tables:
        if version:
            raise NotAStore(path, f"an SQLite database with user_version {version} and no "
                                  "tables, not a wfe store")
        return
    if not _is_ours(conn):
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise NotAStore(path, f"an SQLite database of another program (tables: {shown})")
    if version > current_version():
        raise NotAStore(path, f"written by a newer wfe (store version {version}; this wfe reads "
                              f"up to {current_version()}); upgrade wfe")
    if version < 1:
        raise NotAStore(path, "a wfe store without a schema version; it is damaged")


def _is_ours(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
    except sqlite3.DatabaseError:
        return False
    return row is not None and row[0] == APP


def _describe(error: sqlite3.DatabaseError) -> str:
    text = str(error)
    if "not a database" in text:
        return "not an SQLite database, so not a wfe store"
    return f"cannot be read as a wfe store ({text})"


def migrate(conn: sqlite3.Connection, path: str) -> None:
    """Bring the file to the current version, in one transaction; another process may race."""
    with transaction(conn, path):
        version = check_file(conn, path)
        for migration in MIGRATIONS[version:]:
            migration(conn)
        if version != current_version():
            conn.execute(f"PRAGMA user_version = {current_version()}")


def open_connection(path: str, durability: Durability) -> sqlite3.Connection:
    """A connection to a checked, current store at `path` (created when the file is new)."""
    conn = connect(path)
    try:
        version = check_file(conn, path)
        if version == 0 and not isinstance(conn, ReadOnlyConnection):
            # Only an empty file, before WAL, takes it: `wfe runs prune` then gives pages back
            # without rewriting the whole file (wfe.store.prune converts older stores once).
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        configure(conn, path, durability)
        if version != current_version():
            migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn
