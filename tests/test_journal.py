"""The Journal contract, run against every journal wfe has: the store's and the in-memory one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wfe import Workflow
from wfe.engine.journal import Cursor, ItemDone, Journal
from wfe.engine.memory_journal import MemoryJournal
from wfe.store import Store
from wfe.store.journal import StoreJournal, new_run

FLOW = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  token: {type: str, default: "s3cret", secret: true}
  error: any
nodes:
  inc:
    tool: inc
    next:
      - when: i < 3
        then: inc
      - then: end
"""
TOOLS = """
@tool
def inc(i: int) -> dict:
    if i == 99:
        raise RuntimeError("no")
    return {"i": i + 1}
"""


@dataclass
class Opened:
    journal: Journal
    cancel: Callable[[], None]


@pytest.fixture(params=["memory", "sqlite"])
def opened(request: pytest.FixtureRequest, make_workflow,
           tmp_path: Path) -> Iterator[tuple[Workflow, Opened]]:
    workflow = make_workflow(FLOW, TOOLS)
    state = workflow.initial_state()
    if request.param == "memory":
        memory = MemoryJournal(state, secret_keys=workflow.graph.schema.secret_keys)
        yield workflow, Opened(memory, memory.request_cancel)
        return
    with Store.open(tmp_path / "runs.db") as store:
        lease = store.create_run(new_run(workflow.graph, "run-1", {}, state))
        yield workflow, Opened(StoreJournal(store, lease, workflow.graph),
                               lambda: store.request_cancel("run-1"))


def run(workflow: Workflow, journal: Journal, **kwargs) -> str:
    return asyncio.run(workflow.arun(journal=journal, run_id="run-1", **kwargs)).status


def test_each_step_is_committed_with_its_state_and_visits(opened):
    workflow, it = opened
    assert run(workflow, it.journal) == "succeeded"
    committed = it.journal.committed()
    assert (committed.state["i"], committed.visits, committed.step) == (3, {"inc": 3}, 3)


def test_a_secret_key_is_never_kept(opened):
    workflow, it = opened
    run(workflow, it.journal)
    assert "token" not in it.journal.committed().state


def test_a_cancel_request_is_seen_by_the_run(opened):
    _, it = opened
    assert not it.journal.cancel_requested()
    it.cancel()
    assert it.journal.cancel_requested()


def test_retries_begun_are_counted_for_the_step_a_resume_runs_next(opened):
    _, it = opened
    it.journal.attempt_started(1, 2)
    assert it.journal.attempts_made(1) == 2
    assert it.journal.attempts_made(2) == 0


def test_items_of_the_step_in_flight_are_kept_until_it_commits(opened):
    workflow, it = opened
    it.journal.item_done(1, ItemDone("inc", 0, 1, 2.5, {"x": 1}))
    assert it.journal.items_done(1) == [ItemDone("inc", 0, 1, 2.5, {"x": 1})]
    run(workflow, it.journal)
    assert it.journal.items_done(1) == []


def test_a_failed_step_leaves_the_position_of_the_last_commit(opened):
    workflow, it = opened
    state = workflow.initial_state({"i": 99})
    assert run(workflow, it.journal, state=state, cursor=Cursor("inc")) == "failed"
    assert it.journal.committed().step == 0
