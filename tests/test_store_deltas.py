"""A step row keeps what the step changed; the state and visits read back from the store (after any
step, at the run's end, on resume) are those the engine had, rebuilt from the latest snapshot."""

from __future__ import annotations

import asyncio
import copy
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe import Workflow
from wfe.cli import app
from wfe.engine.journal import StepDone
from wfe.engine.loop import Engine
from wfe.executors import LocalExecutor
from wfe.state.schema import State
from wfe.store import Store, step_rows
from wfe.store.journal import StoreJournal, new_run
from wfe.store.replay import rebuild
from wfe.store.schema import KEY_BITS

runner = CliRunner()

#: Every reducer, one key each, with branches and items that write them, a routed error and a
#: secret; `filler` makes the state big enough that most rows keep only their updates.
EVERY_REDUCER = """
imports: [TOOLS]
state:
  filler: {type: str, default: FILLER}
  n: {type: int, default: 0}
  seen: {type: "list[int]", reduce: append, default: []}
  batch: {type: "list[int]", reduce: extend}
  meta: {type: dict, reduce: merge, default: {}}
  total: {type: int, reduce: add, default: 0}
  squares: {type: "list[int]", default: []}
  token: {type: str, secret: true, default: hunter2-long}
  error: {type: any}
nodes:
  step:
    tool: step
    next: fan
  fan:
    parallel:
      a: {tool: branch_a}
      b: {tool: branch_b}
    next: each
  each:
    map: seen
    as: x
    tool: square
    collect: squares
    next: risky
  risky:
    tool: risky
    on_error: again
  again:
    tool: noop
    next:
      - when: n < 5
        then: step
      - then: end
"""

TOOLS = """
@tool
def step(n: int) -> dict:
    return {"n": n + 1, "seen": n, "batch": [n, n], "meta": {str(n): n}, "total": n,
            "token": "t" * 8 + str(n)}

@tool
def branch_a(n: int) -> dict:
    return {"seen": 100 + n, "meta": {"a": n}}

@tool
def branch_b(n: int) -> dict:
    return {"seen": 200 + n, "batch": [n]}

@tool
def square(x: int) -> int:
    return x * x

@tool
def risky(n: int) -> dict:
    if n % 2:
        raise ValueError(f"odd {n}")
    return {}

@tool
def noop() -> None:
    return None
"""


class Watching(StoreJournal):
    """A store journal that also keeps the state and visits the engine had at each commit."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.seen: list[tuple[int, dict[str, Any], dict[str, int]]] = []

    def step_done(self, done: StepDone, state: State, visits: dict[str, int]) -> bool:
        cancelled = super().step_done(done, state, visits)
        self.seen.append((done.step, copy.deepcopy(self.storable(state)), dict(visits)))
        return cancelled


def _run(path: Path, store: Store, run_id: str) -> Watching:
    graph = Workflow.load(path, entry_points=False).graph
    state = graph.schema.initial({})
    journal = Watching(store, store.create_run(new_run(graph, run_id, {}, state)), graph)
    engine = Engine(graph, run_id=run_id, listeners=[journal],
                    executor=LocalExecutor(), journal=journal)
    assert asyncio.run(engine.run(state)).status == "succeeded"
    return journal


@pytest.fixture
def every_reducer(write_workflow: Any) -> Path:
    return write_workflow(EVERY_REDUCER.replace("FILLER", "x" * 20_000), TOOLS)


@pytest.mark.parametrize("row_weight", [0, 256], ids=["few snapshots", "default"])
def test_state_and_visits_after_every_step_are_the_engines(
        every_reducer: Path, monkeypatch: pytest.MonkeyPatch, row_weight: int) -> None:
    monkeypatch.setattr(step_rows, "ROW_WEIGHT", row_weight)
    with Store.open(os.environ["WFE_STORE"]) as store:
        journal = _run(every_reducer, store, "run1")
        stored = store.steps("run1", states=True)
        assert [(s.step, s.state, s.visits) for s in stored] == journal.seen
        run_no = store._conn.execute("SELECT run_no FROM runs").fetchone()[0]
        for step, state, visits in journal.seen:
            assert rebuild(store._conn, run_no, (run_no << KEY_BITS) + step) == (state, visits)
        kept = store._conn.execute("SELECT count(*) FROM steps WHERE state IS NULL").fetchone()
    assert kept[0] >= len(journal.seen) // 2  # most rows keep only what changed


def test_a_step_row_keeps_the_appended_item_not_the_list(write_workflow: Any) -> None:
    path = write_workflow("""
        imports: [TOOLS]
        state:
          filler: {type: str, default: FILLER}
          items: {type: "list[int]", reduce: append, default: []}
          i: {type: int, default: 0}
        nodes:
          add:
            tool: add
            next: [{when: i < 40, then: add}, {then: end}]
        """.replace("FILLER", "x" * 20_000), """
        @tool
        def add(i: int) -> dict:
            return {"items": i, "i": i + 1}
        """)
    with Store.open(os.environ["WFE_STORE"]) as store:
        journal = _run(path, store, "run1")
        rows = store._conn.execute("SELECT updates, ops, state FROM steps ORDER BY key")
        rows = rows.fetchall()
        assert store.get_run("run1").state == journal.seen[-1][1]
    assert rows[5] == ('{"items":5,"i":6}', '{"items":"append"}', None)


def test_a_running_run_reads_its_state_rebuilt(every_reducer: Path) -> None:
    """The API's result, `wfe show` and a resume read the run row: while it runs, rebuilt."""
    with Store.open(os.environ["WFE_STORE"]) as store:
        journal = _run(every_reducer, store, "run1")
        store._conn.execute("UPDATE runs SET status = 'interrupted', step = 0")
        record = store.get_run("run1")
    assert (record.step, record.state, record.visits) == journal.seen[-1]


def test_a_version_4_store_is_migrated_with_its_steps(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE steps")  # and the rest of versions 5 and 6: as version 4 had it
    conn.execute("DROP INDEX runs_owner")
    conn.execute("DROP TABLE pool_slots")
    conn.execute("DROP TABLE schedule_slots")
    conn.execute("""CREATE TABLE steps (key INTEGER PRIMARY KEY, step INTEGER NOT NULL,
        node TEXT NOT NULL, attempt INTEGER NOT NULL, started_at REAL NOT NULL,
        duration_ms REAL NOT NULL, outcome TEXT NOT NULL, updates TEXT NOT NULL, error TEXT,
        state TEXT NOT NULL, visits TEXT NOT NULL, next_node TEXT NOT NULL, items TEXT)""")
    conn.execute("INSERT INTO runs (run_no, run_id, workflow, workflow_path, workflow_hash,"
                 " status, start, next_node, state, visits, step, created_at, updated_at)"
                 " VALUES (1, '01old', 'w', '/w.yaml', 'h', 'interrupted', 'a', 'a', '{}',"
                 " '{}', 0, 1, 1)")
    conn.execute("INSERT INTO run_inputs VALUES (1, '{}', '{}', '{}', 0)")
    conn.execute(f"INSERT INTO steps VALUES ({(1 << KEY_BITS) + 1}, 1, 'a', 1, 1, 1,"
                 " 'succeeded', '{\"i\":1}', NULL, '{\"i\":1,\"j\":2}', '{\"a\":1}', 'b', NULL)")
    conn.execute("PRAGMA user_version = 4")
    conn.close()
    with Store.open(path) as store:
        record = store.get_run("01old")
        assert (record.state, record.visits, record.next_node) == ({"i": 1, "j": 2}, {"a": 1}, "b")
        assert [s.state for s in store.steps("01old", states=True)] == [{"i": 1, "j": 2}]


def test_resumed_run_goes_on_from_the_rebuilt_state(every_reducer: Path) -> None:
    with Store.open(os.environ["WFE_STORE"]) as store:
        journal = _run(every_reducer, store, "run1")
    result = runner.invoke(app, ["resume", "run1", "--from", "again", "--json"])
    assert result.exit_code == 0, result.output
    with Store.open(os.environ["WFE_STORE"]) as store:
        [child] = [r for r in store.list_runs() if r.parent_run_id == "run1"]
        assert child.state == journal.seen[-1][1]
