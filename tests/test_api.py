"""The Python API (SPEC section 4): runs recorded in a store, resumed, and timed honestly."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wfe import Workflow
from wfe.errors import UsageError
from wfe.store import RunNotResumable, Store

APPROVAL = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  approved: bool
  token: {type: str, default: "", env: WFE_TEST_API_TOKEN, secret: true}
nodes:
  inc: {tool: inc, next: approve}
  approve:
    interrupt: {message: Ship it?, expects: {approved: bool}}
    next: [{when: approved, then: inc2}]
  inc2: {tool: inc}
"""
TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "api.db"


@pytest.fixture
def approval(write_workflow) -> Path:
    return write_workflow(APPROVAL, TOOLS)


def stored(db: Path, run_id: str) -> tuple[str, list[str], list[dict]]:
    with Store.open(db) as store:
        record = store.get_run(run_id)
        return (record.status, [s.node for s in store.steps(run_id)],
                store.events(run_id))


def test_run_with_a_store_is_recorded_as_wfe_run_records_it(approval, db):
    result = Workflow.load(approval).run(store=db)
    assert result.status == "waiting"
    status, steps, events = stored(db, result.run_id)
    assert (status, steps) == ("waiting", ["inc"])
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["event"] == "run_started" and events[0]["run_id"] == result.run_id


def test_run_without_a_store_records_nothing(approval):
    Workflow.load(approval).run()
    assert not Path(os.environ["WFE_STORE"]).exists()


def test_resume_answers_a_waiting_run_and_reads_secrets_again(approval, db, monkeypatch):
    monkeypatch.setenv("WFE_TEST_API_TOKEN", "s3cret")
    first = Workflow.load(approval).run(store=db)
    events: list[dict] = []
    result = Workflow.resume(first.run_id[:10], {"approved": True}, store=db,
                             listeners=[events.append])
    assert (result.status, result.run_id) == ("succeeded", first.run_id)
    assert result.state == {"i": 2, "approved": True, "token": "s3cret"}
    status, steps, stored_events = stored(db, first.run_id)
    assert (status, steps) == ("succeeded", ["inc", "approve", "inc2"])
    assert [e["seq"] for e in stored_events] == list(range(1, len(stored_events) + 1))
    assert events[0]["seq"] == stored_events[-len(events)]["seq"]


def test_resume_checks_the_answers_and_refuses_a_finished_run(approval, db):
    first = Workflow.load(approval).run(store=db)
    with pytest.raises(UsageError, match="approved"):
        Workflow.resume(first.run_id, {"approved": "yes"}, store=db)
    Workflow.resume(first.run_id, {"approved": False}, store=db)
    with pytest.raises(RunNotResumable, match="already succeeded"):
        Workflow.resume(first.run_id, {"approved": True}, store=db)


def test_resume_refuses_a_changed_workflow_unless_forced(approval, db):
    first = Workflow.load(approval).run(store=db)
    approval.write_text(approval.read_text().replace("Ship it?", "Ship it now?"))
    with pytest.raises(UsageError, match="changed since run"):
        Workflow.resume(first.run_id, {"approved": False}, store=db)
    assert Workflow.resume(first.run_id, {"approved": False}, store=db, force=True).ok


def test_arun_and_stream_take_a_store_too(approval, db):
    workflow = Workflow.load(approval)
    waited = asyncio.run(workflow.arun(store=db))
    streamed = list(workflow.stream(store=db))
    with Store.open(db) as store:
        ids = {r.run_id for r in store.list_runs()}
    assert ids == {waited.run_id, streamed[0]["run_id"]}


def test_a_run_is_given_either_a_store_or_a_journal(approval, db):
    with Store.open(db) as store, pytest.raises(UsageError, match="not both"):
        Workflow.load(approval).run(store=store, journal=object())  # type: ignore[arg-type]


PROBE = """
imports: [TOOLS]
state:
  seen: any
  names: {type: list, default: [a, b]}
  echoed: {type: list, default: []}
nodes:
  probe: {tool: probe, next: each}
  each: {map: names, as: name, tool: echo, collect: echoed}
"""
PROBE_TOOLS = """
import sys

@tool
def probe() -> dict:
    return {"seen": sorted(m for m in ("pydantic", "wfe.engine.fanout") if m in sys.modules)}

@tool
def echo(name: str) -> str:
    return name
"""


def test_what_steps_would_import_is_imported_before_the_first_step(write_workflow):
    path = write_workflow(PROBE, PROBE_TOOLS)
    code = ("import json, sys; from wfe import Workflow; "
            "print(json.dumps(Workflow.load(sys.argv[1]).run().state['seen']))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=path.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["pydantic", "wfe.engine.fanout"]
