"""A frozen copy of the store's version-1 schema, and some data, to build v1 files by hand.

Never update this file when the schema changes: it stands for files written by wfe releases
that used version 1.
"""

from __future__ import annotations

V1_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO meta (key, value) VALUES ('app', 'wfe')",
    "CREATE TABLE sources (workflow_hash TEXT PRIMARY KEY, source BLOB NOT NULL)",
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
    """CREATE TABLE events (
        key INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL,
        body TEXT NOT NULL
    )""",
)

#: One succeeded run (run_no 1) of one step, with two events; `?` is the workflow source.
V1_DATA = (
    "INSERT INTO sources VALUES ('feed', ?)",
    "INSERT INTO runs (run_no, run_id, workflow, workflow_path, workflow_hash, status, start,"
    " next_node, state, visits, step, created_at, updated_at, finished_at)"
    " VALUES (1, '01old', 'demo', '/w/demo.yaml', 'feed', 'succeeded', 'a', 'end',"
    " '{\"i\":1}', '{\"a\":1}', 1, 1000.0, 1001.0, 1001.0)",
    "INSERT INTO run_inputs VALUES (1, '{}', '{\"i\":0}', '{}', 0)",
    "INSERT INTO steps VALUES (4294967297, 1, 'a', 1, 1000.5, 3.0, 'succeeded', '{\"i\":1}',"
    " NULL, '{\"i\":1}', '{\"a\":1}', 'end', NULL)",
    "INSERT INTO events VALUES (4294967297, 2, '[{\"event\":\"log\",\"seq\":1},"
    "{\"event\":\"log\",\"seq\":2}]')",
)
