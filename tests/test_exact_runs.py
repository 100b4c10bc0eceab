"""A run records exactly what happened: a step and the state it produced are one commit, whatever
stops the run between them (a signal, a cancelled task, a failure after the tool returned); a map
or parallel step commits each item or branch as it finishes, so a resume runs only those in
flight; a step reports every branch's writes; a failed map names its item."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe import Workflow
from wfe.cli import app
from wfe.cli.signals import Terminated
from wfe.engine.loop import Engine
from wfe.executors import LocalExecutor
from wfe.store import Store
from wfe.store.journal import StoreJournal, new_run

runner = CliRunner()

CHAIN = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
nodes:
  inc:
    tool: inc
    next:
      - when: i < 6
        then: inc
      - then: end
"""

TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}
"""


def _stopped_after(path: Path, stop: Any, step: int, event: str = "node_finished") -> str:
    """Run the workflow with the store, raising `stop` from a listener at the `step`-th `event`."""
    graph = Workflow.load(path, entry_points=False).graph
    state = graph.schema.initial({})
    with Store.open(os.environ["WFE_STORE"]) as store:
        lease = store.create_run(new_run(graph, "run1", {}, state))
        journal = StoreJournal(store, lease, graph)

        seen_count = [0]

        def stop_there(seen: dict[str, Any]) -> None:
            if seen["event"] == event:
                seen_count[0] += 1
                if seen_count[0] == step:
                    raise stop

        engine = Engine(graph, run_id="run1", listeners=[journal, stop_there],
                        executor=LocalExecutor(), journal=journal)
        with pytest.raises(type(stop)):
            asyncio.run(engine.run(state))
    return "run1"


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), Terminated(), asyncio.CancelledError()],
                         ids=["SIGINT", "SIGTERM", "cancelled"])
@pytest.mark.parametrize("event", ["node_finished", "edge"])
def test_a_step_cut_short_after_its_tool_returned_is_not_recorded_in_the_state(
        write_workflow, stop, event):
    run_id = _stopped_after(write_workflow(CHAIN, TOOLS), stop, 3, event)
    with Store.open(os.environ["WFE_STORE"]) as store:
        record = store.get_run(run_id)
        assert (record.status, record.step, record.state) == ("interrupted", 2, {"i": 2})
    result = runner.invoke(app, ["resume", run_id, "--json"])
    assert result.exit_code == 0, result.output
    with Store.open(os.environ["WFE_STORE"]) as store:
        assert store.get_run(run_id).state == {"i": 6}
        assert [s.state["i"] for s in store.steps(run_id, states=True)] == [1, 2, 3, 4, 5, 6]


def test_a_condition_that_fails_after_the_step_leaves_the_state_of_the_last_commit(
        write_workflow, tmp_path):
    path = write_workflow(CHAIN.replace("when: i < 6", "when: 1 / (3 - i) > 0"), TOOLS)
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 1, result.output
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
        assert (record.status, record.step, record.state) == ("failed", 2, {"i": 2})


BRANCHES = """
imports: [TOOLS]
state:
  acc: {type: "TYPE", reduce: REDUCE}
nodes:
  fan:
    parallel:
      a: {tool: give, with: {value: FIRST}}
      b: {tool: give, with: {value: SECOND}}
"""


@pytest.mark.parametrize(
    ("reduce", "type_", "first", "second", "updates"),
    [
        ("append", "list[int]", 1, 2, [1, 2]),
        ("append", "list[list[int]]", [1], [2], [[1], [2]]),
        ("extend", "list[int]", [1], [2, 3], [1, 2, 3]),
        ("merge", "dict[str, int]", {"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
        ("add", "int", 2, 5, 7),
    ],
)
def test_a_parallel_steps_updates_hold_every_branchs_write(write_workflow, reduce, type_, first,
                                                            second, updates):
    yaml = (BRANCHES.replace("TYPE", type_).replace("REDUCE", reduce)
            .replace("FIRST", repr(first)).replace("SECOND", repr(second)))
    path = write_workflow(yaml, "@tool\ndef give(value) -> dict:\n    return {'acc': value}\n")
    events: list[dict[str, Any]] = []
    Workflow.load(path, entry_points=False).run({}, listeners=[events.append])
    [finished] = [e for e in events if e["event"] == "node_finished" and e["node"] == "fan"]
    assert finished["updates"] == {"acc": updates}
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
        assert [step.updates for step in store.steps(record.run_id)] == [{"acc": updates}]


MAP = """
imports: [TOOLS]
state:
  xs: {type: "list[int]", default: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}
  out: list
nodes:
  m:
    map: xs
    as: x
    tool: fail_at
    with: {x: "${ x }"}
    concurrency: CONCURRENCY
    collect: out
"""

FAIL_AT = """
@tool
def fail_at(x: int) -> int:
    if x == 12:
        return {}["missing"]
    return x
"""


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_failed_maps_error_and_event_name_the_item(write_workflow, concurrency):
    path = write_workflow(MAP.replace("CONCURRENCY", str(concurrency)), FAIL_AT)
    events: list[dict[str, Any]] = []
    result = Workflow.load(path, entry_points=False).run({}, listeners=[events.append])
    assert result.status == "failed"
    assert str(result.error) == "node 'm': m[12]: KeyError: 'missing'"
    [failed] = [e for e in events if e["event"] == "node_failed" and e["node"] == "m"]
    assert failed["error"] == {"type": "KeyError", "message": "'missing'", "item": "m[12]"}


FANOUT = """
imports: [TOOLS]
state:
  xs: {type: "list[int]", default: [0, 1, 2, 3, 4, 5]}
  out: list
  seen: {type: "list[str]", reduce: append}
nodes:
  m:
    map: xs
    as: x
    tool: visit
    with: {name: "m${ x }"}
    concurrency: CONCURRENCY
    collect: out
    next: p
  p:
    parallel:
      a: {tool: visit, with: {name: a}, out: seen}
      b: {tool: visit, with: {name: b}, out: seen}
      c: {tool: visit, with: {name: c}, out: seen}
"""

VISIT = """
import os, pathlib, signal, time

@tool
def visit(name: str) -> str:
    effects = pathlib.Path(os.environ["WFE_TEST_EFFECTS"])
    with effects.open("a") as log:
        log.write(name + "\\n")
    killed = effects.with_suffix(".killed")
    if name == os.environ.get("WFE_TEST_KILL_AT") and not killed.exists():
        killed.write_text("")
        # die once the items before this one are done (those after it may be in flight)
        waits = [f"{w}\\n" for w in os.environ["WFE_TEST_WAIT"].split()]
        while not all(w in effects.read_text() for w in waits):
            time.sleep(0.01)
        time.sleep(0.2)   # let their commits land
        os.kill(os.getpid(), signal.SIGKILL)
    return name
"""


def _kill_and_resume(path: Path, tmp_path: Path, kill_at: str, wait: str) -> list[str]:
    """Run until the tool kills the process at `kill_at`, resume to the end; the tool calls
    made again (by both processes)."""
    import subprocess
    import sys

    effects = tmp_path / "effects"
    env = {**os.environ, "WFE_TEST_EFFECTS": str(effects), "WFE_TEST_KILL_AT": kill_at,
           "WFE_TEST_WAIT": wait}
    killed = subprocess.run([sys.executable, "-m", "wfe", "run", str(path), "--quiet"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    before = effects.read_text().split()
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
    resumed = subprocess.run([sys.executable, "-m", "wfe", "resume", record.run_id, "--quiet"],
                             env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    with Store.open(os.environ["WFE_STORE"]) as store:
        final = store.get_run(record.run_id)
        assert final.state["out"] == [f"m{i}" for i in range(6)]
        assert sorted(final.state.get("seen", [])) == ["a", "b", "c"]
        assert store.finished_items(record.run_id, final.step) == []
    after = effects.read_text().split()[len(before):]
    assert sorted(set(before) | set(after)) == sorted(["a", "b", "c", *(f"m{i}" for i in range(6))])
    return [name for name in after if name in before]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_resumed_map_runs_only_the_items_in_flight_when_it_was_killed(
        write_workflow, tmp_path, concurrency):
    path = write_workflow(FANOUT.replace("CONCURRENCY", str(concurrency)), VISIT)
    again = _kill_and_resume(path, tmp_path, "m3", "m0 m1 m2")
    in_flight = {1: {"m3"}, 3: {"m3", "m4", "m5"}}[concurrency]
    assert "m3" in again and set(again) <= in_flight and len(again) == len(set(again))


def test_a_resumed_parallel_step_runs_only_the_branches_in_flight_when_it_was_killed(
        write_workflow, tmp_path):
    path = write_workflow(FANOUT.replace("CONCURRENCY", "2"), VISIT)
    assert _kill_and_resume(path, tmp_path, "c", "a b") == ["c"]


def _version_3_store(path: Path) -> Path:
    """A store as the wfe before finished items were kept wrote it (the first 3 migrations)."""
    import sqlite3

    from wfe.store import schema

    conn = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:3]:
        migration(conn)
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    return path


def test_a_store_of_the_previous_version_keeps_finished_items_once_opened(write_workflow,
                                                                          tmp_path):
    graph = Workflow.load(write_workflow(CHAIN, TOOLS), entry_points=False).graph
    with Store.open(_version_3_store(tmp_path / "old.db")) as store:
        lease = store.create_run(new_run(graph, "run1", {}, {}))
        store.record_item(lease, 1, (4, "m", 2, 1.5, '{"a": [1]}'))
        assert store.finished_items("run1", 1) == [(4, "m", 2, 1.5, {"a": [1]})]
        store.clear_items(lease, 1)
        assert store.finished_items("run1", 1) == []


def test_finished_items_are_fenced_by_the_lease(write_workflow, tmp_path):
    from wfe.store import Lease, LeaseLost

    graph = Workflow.load(write_workflow(CHAIN, TOOLS), entry_points=False).graph
    with Store.open(tmp_path / "s.db") as store:
        store.create_run(new_run(graph, "run1", {}, {}))
        with pytest.raises(LeaseLost):
            store.record_item(Lease("run1", "not-the-owner"), 1, (0, "m", 1, 1.0, "1"))
        assert store.finished_items("run1", 1) == []


FLAKY_MAP = """
imports: [TOOLS]
state:
  xs: {type: "list[int]", default: [0, 1, 2, 3]}
  out: {type: list, SECRET}
nodes:
  m: {map: xs, as: x, tool: once, with: {x: "${ x }"}, concurrency: 1, collect: out}
"""

ONCE = """
import os, pathlib

@tool
def once(x: int) -> int:
    with open(os.environ["WFE_TEST_EFFECTS"], "a") as log:
        log.write(f"{x}\\n")
    if x == 2 and pathlib.Path(os.environ["WFE_TEST_FAIL"]).exists():
        raise RuntimeError("not yet")
    return x * 10
"""


@pytest.mark.parametrize(("secret", "again"), [("secret: false", ["2", "3"]),
                                               ("secret: true", ["0", "1", "2", "3"])])
def test_a_failed_map_resumes_with_the_items_it_finished_unless_they_are_secret(
        write_workflow, tmp_path, monkeypatch, secret, again):
    effects, fail = tmp_path / "effects", tmp_path / "fail"
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(effects))
    monkeypatch.setenv("WFE_TEST_FAIL", str(fail))
    fail.write_text("")
    path = write_workflow(FLAKY_MAP.replace("SECRET", secret), ONCE)
    assert runner.invoke(app, ["run", str(path)]).exit_code == 1
    before = effects.read_text().split()
    fail.unlink()
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
        run_id = record.run_id
    assert runner.invoke(app, ["resume", run_id]).exit_code == 0
    assert effects.read_text().split()[len(before):] == again
    with Store.open(os.environ["WFE_STORE"]) as store:
        [step] = store.steps(run_id)
        assert step.items is not None
        assert [item.get("reused", False) for item in step.items] == [
            len(again) == 2, len(again) == 2, False, False]
