"""The run store's rules, one test per rule, on a real file with both durability settings."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import store_workers

from wfe.errors import UsageError
from wfe.spec.project_config import durability_setting, store_path
from wfe.store import (
    AmbiguousRun,
    Checkpoint,
    LeaseLost,
    NewRun,
    NotAStore,
    RunInUse,
    RunNotResumable,
    RunNotRunning,
    StepConflict,
    Store,
    UnknownNode,
    UnknownRun,
    UnstorableValue,
    schema,
)
from wfe.store import flusher as flusher_module
from wfe.store.schema import current_version

DURABILITIES = ["normal", "full"]
SOURCE = b"name: demo\nnodes: {}\n"


@pytest.fixture(params=DURABILITIES)
def durability(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / ".wfe" / "wfe.db"


@pytest.fixture
def store(db: Path, durability: str) -> Iterator[Store]:
    with Store.open(db, durability=durability) as opened:  # type: ignore[arg-type]
        yield opened


def new_run(run_id: str = "01aaaaaaaaaaaa", **fields: Any) -> NewRun:
    values: dict[str, Any] = {
        "workflow": "demo", "workflow_path": "/work/demo.yaml", "workflow_hash": "ab" * 32,
        "workflow_source": SOURCE, "inputs": {"n": 3}, "state": {"n": 3, "i": 0},
        "start": "a",
    }
    return NewRun(run_id, **{**values, **fields})


def step(number: int, node: str, state: dict[str, Any], next_node: str,
         visits: dict[str, int] | None = None, **fields: Any) -> Checkpoint:
    values: dict[str, Any] = {
        "attempt": 1, "started_at": 1000.0 + number, "duration_ms": 2.5,
        "outcome": "succeeded", "updates": {"i": state.get("i")}, "error": None,
    }
    return Checkpoint(number, node, state=state, visits=visits or {node: 1},
                      next_node=next_node, **{**values, **fields})


def event(run_id: str, seq: int, kind: str = "log", **fields: Any) -> dict[str, Any]:
    return {"event": kind, "run_id": run_id, "ts": "2026-11-21T10:00:00.000Z", "seq": seq,
            **fields}


def raw(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Look at or change the file behind the store's back, as another process would."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- round trip --------------------------------------------------------------------------------


def test_create_checkpoint_finish_round_trip(store: Store) -> None:
    rid = "01aaaaaaaaaaaa"
    lease = store.create_run(new_run(rid))
    emitted = [event(rid, 1, "run_started", workflow="demo", inputs={"n": 3}),
               event(rid, 2, "node_started", node="a", step=1, attempt=1)]
    store.add_events(lease, emitted)
    assert store.checkpoint(lease, step(1, "a", {"n": 3, "i": 1}, "b")) is False
    emitted.append(event(rid, 3, "node_finished", node="b", step=2, updates={"i": 2}))
    store.add_events(lease, emitted[-1:])
    store.checkpoint(lease, step(2, "b", {"n": 3, "i": 2}, "end", {"a": 1, "b": 1},
                                 items=[{"status": "succeeded", "duration_ms": 1.0}]))
    store.finish(lease, "succeeded", state={"n": 3, "i": 2})

    record = store.get_run(rid)
    assert (record.status, record.state, record.step, record.next_node) == (
        "succeeded", {"n": 3, "i": 2}, 2, "end")
    assert (record.visits, record.last_seq, record.owner_pid) == ({"a": 1, "b": 1}, 3, None)
    assert (record.inputs, record.initial_state, record.start) == ({"n": 3}, {"n": 3, "i": 0}, "a")
    assert record.finished_at is not None and record.finished_at >= record.created_at
    assert [(s.step, s.node, s.state["i"], s.next_node) for s in store.steps(rid, states=True)] == [
        (1, "a", 1, "b"), (2, "b", 2, "end")]
    assert store.steps(rid)[1].items == [{"status": "succeeded", "duration_ms": 1.0}]
    assert store.events(rid) == emitted
    assert store.source_of(rid) == SOURCE


def test_running_record_shows_the_last_committed_step(store: Store) -> None:
    lease = store.create_run(new_run())
    before = store.get_run(lease.run_id)
    assert (before.status, before.step, before.next_node, before.state) == (
        "running", 0, "a", {"n": 3, "i": 0})
    store.checkpoint(lease, step(1, "a", {"n": 3, "i": 1}, "b"))
    after = store.get_run(lease.run_id)
    assert (after.step, after.next_node, after.state, after.owner_pid) == (
        1, "b", {"n": 3, "i": 1}, os.getpid())


def test_waiting_run_keeps_its_cursor_and_has_no_finish_time(store: Store) -> None:
    lease = store.create_run(new_run())
    store.checkpoint(lease, step(1, "a", {"i": 1}, "ask"))
    waiting = {"node": "ask", "message": "ok?", "expects": {"ok": "bool"}}
    store.finish(lease, "waiting", state={"i": 1}, waiting=waiting)
    record = store.get_run(lease.run_id)
    assert (record.status, record.next_node, record.waiting) == ("waiting", "ask", waiting)
    assert record.finished_at is None


def test_folder_of_the_store_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "wfe.db"
    with Store.open(path) as opened:
        assert opened.path == path
    assert path.is_file()


def test_same_step_twice_is_refused(store: Store) -> None:
    lease = store.create_run(new_run())
    store.checkpoint(lease, step(1, "a", {"i": 1}, "b"))
    with pytest.raises(StepConflict, match="step 1 of run 01aaaaaaaaaaaa is already recorded"):
        store.checkpoint(lease, step(1, "a", {"i": 9}, "b"))
    assert [s.state for s in store.steps(lease.run_id, states=True)] == [{"i": 1}]


def test_value_that_is_not_json_is_refused_before_writing(store: Store) -> None:
    lease = store.create_run(new_run())
    with pytest.raises(UnstorableValue, match="cannot store the state of run"):
        store.checkpoint(lease, step(1, "a", {"x": float("nan")}, "b"))
    assert store.steps(lease.run_id) == []


def test_write_left_open_by_an_interrupt_does_not_block_the_next(store: Store) -> None:
    lease = store.create_run(new_run())
    store._conn.execute("BEGIN IMMEDIATE")  # as if Ctrl-C struck right after BEGIN
    store.checkpoint(lease, step(1, "a", {"i": 1}, "end"))
    store.finish(lease, "succeeded", state={"i": 1})
    assert store.get_run(lease.run_id).status == "succeeded"


def test_closing_the_store_leaves_unfinished_runs_interrupted(db: Path) -> None:
    with Store.open(db) as first:
        lease = first.create_run(new_run())
        first.add_events(lease, [event(lease.run_id, 1)])
    with Store.open(db) as second:
        record = second.get_run(lease.run_id)
        assert (record.status, record.owner_pid, record.last_seq) == ("interrupted", None, 1)


# --- events and the flusher --------------------------------------------------------------------


def test_events_of_a_running_step_are_written_without_a_checkpoint(store: Store) -> None:
    lease = store.create_run(new_run())
    started = event(lease.run_id, 1, "node_started", node="a", step=1, attempt=1)
    store.add_events(lease, [started])
    began = time.monotonic()
    wait_for(lambda: store.events(lease.run_id) == [started], seconds=2)
    assert time.monotonic() - began < 1.0


def test_events_say_what_was_true_at_their_steps_checkpoint(store: Store) -> None:
    # The contract with the engine: a step's events are encoded by the step's checkpoint (so
    # queuing costs no encoding, and later changes to the values cannot leak in).
    lease = store.create_run(new_run())
    emitted = event(lease.run_id, 1, updates={"items": [1]})
    store.add_events(lease, [emitted])
    emitted["updates"]["items"].append(2)
    store.checkpoint(lease, step(1, "a", {}, "end"))
    emitted["updates"]["items"].append(3)
    wait_for(lambda: store.events(lease.run_id) != [], seconds=2)
    assert store.events(lease.run_id)[0]["updates"] == {"items": [1, 2]}


def test_a_fast_steps_events_are_written_within_the_flush_delay(store: Store) -> None:
    lease = store.create_run(new_run())
    for number in (1, 2, 3):
        store.add_events(lease, [event(lease.run_id, number)])
        store.checkpoint(lease, step(number, "a", {}, "a"))
    wait_for(lambda: len(store.events(lease.run_id)) == 3, seconds=2)
    assert [e["seq"] for e in store.events(lease.run_id)] == [1, 2, 3]


def test_a_steps_events_wait_for_a_later_write_not_a_write_of_their_own(
    store: Store, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flusher_module, "FLUSH_DELAY", 3600.0)
    lease = store.create_run(new_run())
    for number in (1, 2, 3):
        store.add_events(lease, [event(lease.run_id, number)])
        store.checkpoint(lease, step(number, "a", {}, "a"))
    assert raw(db, "SELECT count(*) FROM steps")[0][0] == 3
    assert store.events(lease.run_id) == []
    store.finish(lease, "succeeded", state={})
    assert [e["seq"] for e in store.events(lease.run_id)] == [1, 2, 3]


def test_events_after_seq_and_limit(store: Store) -> None:
    lease = store.create_run(new_run())
    for seq in range(1, 11):
        store.add_events(lease, [event(lease.run_id, seq)])
        if seq % 3 == 0:
            store.checkpoint(lease, step(seq // 3, "a", {}, "a"))
    store.finish(lease, "succeeded", state={})
    assert [e["seq"] for e in store.events(lease.run_id, after_seq=4)] == list(range(5, 11))
    assert [e["seq"] for e in store.events(lease.run_id, after_seq=2, limit=3)] == [3, 4, 5]
    assert store.events(lease.run_id, after_seq=10) == []


def test_events_already_stored_are_not_written_again(store: Store) -> None:
    lease = store.create_run(new_run())
    store.add_events(lease, [event(lease.run_id, seq, message="first") for seq in (1, 2, 3)])
    store.checkpoint(lease, step(1, "a", {}, "a"))
    store.add_events(lease, [event(lease.run_id, seq, message="again") for seq in (1, 2, 3, 4)])
    store.add_events(lease, [event(lease.run_id, 5, message="new")])
    store.checkpoint(lease, step(2, "a", {}, "end"))
    wait_for(lambda: len(store.events(lease.run_id)) == 5, seconds=2)
    assert [(e["seq"], e["message"]) for e in store.events(lease.run_id)] == [
        (1, "first"), (2, "first"), (3, "first"), (4, "again"), (5, "new")]


def test_events_have_no_gaps_or_duplicates_when_flusher_and_checkpoints_race(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flusher_module, "FLUSH_DELAY", 0.0005)
    lease = store.create_run(new_run())
    total = 5000
    producing = threading.Thread(target=_produce, args=(store, lease, total))
    producing.start()
    number = 0
    while producing.is_alive():
        number += 1
        store.checkpoint(lease, step(number, "a", {"i": number}, "a"))
        time.sleep(0.001 * (number % 2))  # now and then, leave the queue to the flusher
    producing.join()
    store.finish(lease, "succeeded", state={})
    assert [e["seq"] for e in store.events(lease.run_id)] == list(range(1, total + 1))
    assert store.get_run(lease.run_id).last_seq == total


def _produce(store: Store, lease: Any, total: int) -> None:
    for seq in range(1, total + 1):
        store.add_events(lease, [event(lease.run_id, seq, message="x" * (seq % 50))])
        if seq % 10 == 0:
            time.sleep(0.001)


@pytest.mark.parametrize(("durability", "pages"), [("normal", 8000), ("full", 1000)])
def test_the_wal_is_folded_into_the_file_by_the_flusher_with_durability_normal_only(
    db: Path, durability: str, pages: int
) -> None:
    with Store.open(db, durability=durability) as store:  # type: ignore[arg-type]
        assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == pages
        lease = store.create_run(new_run())
        created = db.stat().st_size
        for number in range(1, 201):
            store.checkpoint(lease, step(number, "a", {"i": number, "pad": "x" * 500}, "a"))
        if durability == "normal":  # no commit folded it: the flusher does, within ~FLUSH_DELAY
            wait_for(lambda: db.stat().st_size > created)


def test_owner_renews_its_heartbeat(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flusher_module, "HEARTBEAT_SECONDS", 0.02)
    with Store.open(db) as opened:
        lease = opened.create_run(new_run())
        sql = "SELECT heartbeat_at FROM runs WHERE run_id = ?"
        first = raw(db, sql, lease.run_id)[0][0]
        wait_for(lambda: raw(db, sql, lease.run_id)[0][0] > first)


# --- ownership -----------------------------------------------------------------------------------


@pytest.mark.parametrize("death", ["stale heartbeat", "dead pid"])
def test_taken_over_owner_cannot_commit(
    store: Store, db: Path, death: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flusher_module, "HEARTBEAT_SECONDS", 3600.0)
    old = store.create_run(new_run())
    store.checkpoint(old, step(1, "a", {"i": 1}, "b"))
    if death == "stale heartbeat":
        raw(db, "UPDATE runs SET heartbeat_at = 0")
    else:
        raw(db, "UPDATE runs SET owner_pid = ?", dead_pid())
    with Store.open(db) as other:
        new = other.claim(old.run_id)
        assert new != old
        store.add_events(old, [event(old.run_id, 1, message="from the old owner")])
        with pytest.raises(LeaseLost, match="was taken over by another process; this one stops"):
            store.checkpoint(old, step(2, "b", {"i": 2}, "end"))
        with pytest.raises(LeaseLost):
            store.finish(old, "succeeded", state={"i": 2})
        assert [s.step for s in other.steps(old.run_id)] == [1]
        assert other.events(old.run_id) == []
        other.checkpoint(new, step(2, "b", {"i": 2}, "end"))
        assert other.get_run(old.run_id).status == "running"


def test_claim_of_a_run_with_a_live_owner_is_refused(store: Store, db: Path) -> None:
    lease = store.create_run(new_run())
    with Store.open(db) as other, pytest.raises(RunInUse) as raised:
        other.claim(lease.run_id)
    assert str(raised.value).startswith(f"run {lease.run_id} is in use by process {os.getpid()}")
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(("status", "message"), [
    ("succeeded", "already succeeded"), ("cancelled", "was cancelled")])
def test_claim_of_a_finished_run_is_refused(store: Store, status: Any, message: str) -> None:
    lease = store.create_run(new_run())
    store.finish(lease, status, state={})
    with pytest.raises(RunNotResumable, match=f"run {lease.run_id} {message}"):
        store.claim(lease.run_id)


def test_claim_resumes_a_failed_run_and_clears_its_error(store: Store) -> None:
    lease = store.create_run(new_run())
    store.checkpoint(lease, step(1, "a", {"i": 1}, "b"))
    store.finish(lease, "failed", state={"i": 1}, error={"type": "X", "message": "boom"})
    again = store.claim(lease.run_id)
    record = store.get_run(lease.run_id)
    assert (record.status, record.error, record.finished_at) == ("running", None, None)
    assert (record.next_node, record.step, record.owner_pid) == ("b", 1, os.getpid())
    store.checkpoint(again, step(2, "b", {"i": 2}, "end"))
    with pytest.raises(LeaseLost):
        store.checkpoint(lease, step(3, "b", {"i": 3}, "end"))


def test_claim_of_an_unknown_run_is_refused(store: Store) -> None:
    with pytest.raises(UnknownRun, match="no run 'nope'"):
        store.claim("nope")


def test_two_processes_claiming_at_once_one_wins(db: Path) -> None:
    with Store.open(db) as opened:
        lease = opened.create_run(new_run())
        opened.finish(lease, "interrupted", state={})
    context = multiprocessing.get_context("spawn")
    start, done, results = context.Barrier(2), context.Barrier(2), context.Queue()
    racers = [context.Process(target=store_workers.claim_once,
                              args=(str(db), lease.run_id, start, done, results))
              for _ in range(2)]
    for racer in racers:
        racer.start()
    outcomes = sorted(results.get(timeout=20) for _ in racers)
    for racer in racers:
        racer.join(timeout=20)
    assert outcomes == ["in use", "won"]


def test_lease_handed_to_another_process_can_be_used_there(db: Path) -> None:
    with Store.open(db) as parent:
        lease = parent.create_run(new_run(), owner_pid=os.getppid(), token="handed-over")
    with Store.open(db) as child:
        child.add_events(lease, [event(lease.run_id, 1)])
        child.checkpoint(lease, step(1, "a", {"i": 1}, "end"))
        child.finish(lease, "succeeded", state={"i": 1})
        assert child.get_run(lease.run_id).status == "succeeded"


def test_run_created_for_another_process_is_not_released_on_close(db: Path) -> None:
    with Store.open(db) as parent:
        lease = parent.create_run(new_run(), owner_pid=os.getppid(), token="child")
    assert raw(db, "SELECT status, owner_token FROM runs")[0] == ("running", lease.token)


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_request_comes_back_from_a_checkpoint_once_the_owner_has_looked(
    store: Store, db: Path
) -> None:
    lease = store.create_run(new_run())
    assert store.checkpoint(lease, step(1, "a", {}, "b")) is False
    with Store.open(db) as other:
        other.request_cancel(lease.run_id)
    assert store.get_run(lease.run_id).cancel_requested
    answers = []

    def next_step_stops() -> bool:
        answers.append(store.checkpoint(lease, step(len(answers) + 2, "b", {}, "b")))
        time.sleep(flusher_module.FLUSH_DELAY / 5)
        return answers[-1]

    wait_for(next_step_stops)
    assert store.checkpoint(lease, step(len(answers) + 2, "b", {}, "c")) is True  # and stays


def test_cancel_of_a_run_that_is_not_running_is_refused(store: Store) -> None:
    lease = store.create_run(new_run())
    store.finish(lease, "succeeded", state={})
    with pytest.raises(RunNotRunning, match=r"run 01aaaaaaaaaaaa is not running \(succeeded\)"):
        store.request_cancel(lease.run_id)


# --- ids, liveness, history ----------------------------------------------------------------------


@pytest.fixture
def three_runs(store: Store) -> Store:
    for run_id in ("01abc00000", "01abd00000", "02xyz00000"):
        store.finish(store.create_run(new_run(run_id)), "succeeded", state={})
    return store


@pytest.mark.parametrize(("prefix", "expected"), [
    ("02", "02xyz00000"), ("01abc", "01abc00000"), ("01ABD", "01abd00000"),
    ("01abc00000", "01abc00000")])
def test_unique_prefix_resolves_to_its_run(three_runs: Store, prefix: str, expected: str) -> None:
    assert three_runs.resolve(prefix) == expected


def test_ambiguous_prefix_is_refused_with_the_candidates(three_runs: Store) -> None:
    with pytest.raises(AmbiguousRun, match="'01' matches 2 runs: 01abc00000, 01abd00000"):
        three_runs.resolve("01")


@pytest.mark.parametrize(("prefix", "message"), [
    ("zz", "no run 'zz'"), ("01abx", "no run '01abx'"), ("", "a run id .* is needed")])
def test_unknown_prefix_is_refused(three_runs: Store, prefix: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        three_runs.resolve(prefix)


@pytest.mark.parametrize("death", ["stale heartbeat", "dead pid"])
def test_run_whose_owner_died_is_read_and_stored_as_interrupted(
    store: Store, db: Path, death: str
) -> None:
    lease = store.create_run(new_run())
    if death == "stale heartbeat":
        raw(db, "UPDATE runs SET heartbeat_at = 1")
    else:
        raw(db, "UPDATE runs SET owner_pid = ?", dead_pid())
    with Store.open(db) as reader:
        assert reader.get_run(lease.run_id).status == "interrupted"
    assert raw(db, "SELECT status, owner_token FROM runs") == [("interrupted", None)]


def test_run_list_marks_dead_runs_interrupted(store: Store, db: Path) -> None:
    store.create_run(new_run())
    raw(db, "UPDATE runs SET owner_pid = ?", dead_pid())
    with Store.open(db) as reader:
        assert [r.status for r in reader.list_runs()] == ["interrupted"]
        assert reader.list_runs(status="running") == []


def test_run_list_is_newest_first_and_filtered(store: Store) -> None:
    for number, workflow in enumerate(["a", "b", "a"]):
        lease = store.create_run(new_run(f"01run{number}", workflow=workflow))
        store.finish(lease, "failed" if number == 1 else "succeeded", state={})
        time.sleep(0.002)
    assert [r.run_id for r in store.list_runs()] == ["01run2", "01run1", "01run0"]
    assert [r.run_id for r in store.list_runs(workflow="a", limit=1)] == ["01run2"]
    assert [r.run_id for r in store.list_runs(status="failed")] == ["01run1"]


def test_state_before_a_node_is_the_state_before_its_last_run(store: Store) -> None:
    lease = store.create_run(new_run())
    path = [("a", "b"), ("b", "a"), ("a", "c"), ("c", "end")]
    visits: dict[str, int] = {}
    for number, (node, nxt) in enumerate(path, start=1):
        visits[node] = visits.get(node, 0) + 1
        store.checkpoint(lease, step(number, node, {"i": number}, nxt, dict(visits)))
    assert store.state_before(lease.run_id, "a") == ({"i": 2}, {"a": 1, "b": 1}, 2)
    assert store.state_before(lease.run_id, "c") == ({"i": 3}, {"a": 2, "b": 1}, 3)
    assert store.state_before(lease.run_id, "b") == ({"i": 1}, {"a": 1}, 1)


def test_state_before_the_first_node_is_the_initial_state(store: Store) -> None:
    lease = store.create_run(new_run(visits={"x": 1}, step=4))
    store.checkpoint(lease, step(5, "a", {"i": 1}, "end"))
    assert store.state_before(lease.run_id, "a") == ({"n": 3, "i": 0}, {"x": 1}, 4)


def test_state_before_a_node_that_never_ran_is_refused(store: Store) -> None:
    lease = store.create_run(new_run())
    with pytest.raises(UnknownNode, match="node 'zz' never ran in run 01aaaaaaaaaaaa"):
        store.state_before(lease.run_id, "zz")


# --- files that are not ours ---------------------------------------------------------------------


def _foreign_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()


def _newer_store(path: Path) -> None:
    Store.open(path).close()
    raw(path, "PRAGMA user_version = 99")


def _corrupt_store(path: Path) -> None:
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("make", "reason"), [
    (_foreign_db, "another program (tables: users)"),
    (lambda p: p.write_bytes(b"this is not a database\n" * 200), "not an SQLite database"),
    (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 10), "not an SQLite database"),
    (_newer_store, f"newer wfe (store version 99; this wfe reads up to {current_version()})"),
    (_corrupt_store, "cannot be read as a wfe store"),
])
def test_file_that_is_not_a_usable_store_is_refused_and_left_untouched(
    tmp_path: Path, make: Any, reason: str, durability: Any
) -> None:
    path = tmp_path / "some.db"
    make(path)
    before = path.read_bytes()
    with pytest.raises(NotAStore) as raised:
        Store.open(path, durability=durability)
    assert str(path) in str(raised.value) and reason in str(raised.value)
    assert "\n" not in str(raised.value) and raised.value.exit_code == 2
    assert path.read_bytes() == before


def test_folder_at_the_store_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=str(tmp_path)):
        Store.open(tmp_path)


# --- schema versions ---------------------------------------------------------------------------


def test_hand_made_v1_file_opens_with_its_data(tmp_path: Path) -> None:
    path = _v1_file(tmp_path / "v1.db")
    with Store.open(path) as opened:
        record = opened.get_run("01old")
        assert (record.status, record.state, record.step, record.last_seq) == (
            "succeeded", {"i": 1}, 1, 2)
        assert [e["seq"] for e in opened.events("01old")] == [1, 2]
        assert opened.source_of("01old") == SOURCE


def test_v1_file_is_migrated_by_every_later_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _v1_file(tmp_path / "v1.db")

    def following(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE runs ADD COLUMN labels TEXT NOT NULL DEFAULT '[]'")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, following])
    with Store.open(path) as opened:
        assert opened.get_run("01old").state == {"i": 1}
        assert [s.node for s in opened.steps("01old")] == ["a"]
    assert raw(path, "PRAGMA user_version") == [(len(schema.MIGRATIONS),)]
    assert raw(path, "SELECT labels FROM runs") == [("[]",)]
    assert raw(path, "SELECT count(*) FROM cache") == [(0,)]  # v2 ran on the way


def test_migrated_v1_file_has_the_schema_of_a_new_store(tmp_path: Path) -> None:
    """Also catches an edit to a shipped migration: the frozen v1 copy would then differ."""
    Store.open(tmp_path / "new.db").close()
    Store.open(_v1_file(tmp_path / "v1.db")).close()
    query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
    assert raw(tmp_path / "new.db", query) == raw(tmp_path / "v1.db", query)
    assert raw(tmp_path / "new.db", "PRAGMA user_version") == [(len(schema.MIGRATIONS),)]


def _v1_file(path: Path) -> Path:
    """A version-1 store written without the store's code (frozen copy of the v1 schema)."""
    from store_v1 import V1_DATA, V1_SCHEMA

    conn = sqlite3.connect(path, isolation_level=None)
    for statement in (*V1_SCHEMA, *V1_DATA):
        conn.execute(statement, (SOURCE,) if "?" in statement else ())
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    return path


# --- many processes ------------------------------------------------------------------------------


def test_many_processes_share_one_store_without_lock_errors(db: Path, durability: Any) -> None:
    Store.open(db, durability=durability).close()
    workers, runs, steps = 8, 25, 5
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=store_workers.run_many,
                                 args=(str(db), worker, runs, steps, results))
                 for worker in range(workers)]
    for process in processes:
        process.start()
    reports = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=20)
    assert [errors for _, _, errors in reports] == [[]] * workers
    assert sum(finished for _, finished, _ in reports) == workers * runs
    with Store.open(db) as opened:
        records = opened.list_runs(limit=1000)
        assert len(records) == workers * runs
        assert {(r.status, r.step, r.last_seq) for r in records} == {("succeeded", steps, steps)}
    assert raw(db, "SELECT count(*) FROM steps") == [(workers * runs * steps,)]
    assert raw(db, "PRAGMA integrity_check") == [("ok",)]


# --- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("durability", "level"), [("normal", 1), ("full", 2)])
def test_durability_sets_the_synchronous_level(db: Path, durability: Any, level: int) -> None:
    with Store.open(db, durability=durability) as opened:
        conn = opened._conn
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == level
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000


def test_unknown_durability_is_refused(db: Path) -> None:
    with pytest.raises(UsageError, match="durability must be 'normal' or 'full', not 'fast'"):
        Store.open(db, durability="fast")  # type: ignore[arg-type]


def _pyproject(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(body)
    return folder


def test_store_path_comes_from_flag_then_env_then_pyproject_then_default(tmp_path: Path) -> None:
    project = _pyproject(tmp_path / "proj", '[tool.wfe]\nstore = "var/runs.db"\n')
    cwd = project / "src" / "pkg"
    cwd.mkdir(parents=True)
    env = {"WFE_STORE": "env.db"}
    assert store_path(Path("flag.db"), cwd=cwd, environ=env) == cwd / "flag.db"
    assert store_path(None, cwd=cwd, environ=env) == cwd / "env.db"
    assert store_path(None, cwd=cwd, environ={}) == project / "var" / "runs.db"
    assert store_path(None, cwd=tmp_path, environ={}) == tmp_path / ".wfe" / "wfe.db"
    assert store_path(Path("/abs/x.db"), cwd=cwd, environ={}) == Path("/abs/x.db")


def test_nearest_pyproject_without_a_store_setting_gives_the_default(tmp_path: Path) -> None:
    _pyproject(tmp_path, '[tool.wfe]\nstore = "outer.db"\n')
    inner = _pyproject(tmp_path / "inner", "[project]\nname = 'x'\n")
    assert store_path(None, cwd=inner, environ={}) == inner / ".wfe" / "wfe.db"


def test_durability_comes_from_flag_then_env_then_pyproject(tmp_path: Path) -> None:
    project = _pyproject(tmp_path, '[tool.wfe]\ndurability = "full"\n')
    assert durability_setting("normal", cwd=project, environ={"WFE_DURABILITY": "full"}) == "normal"
    assert durability_setting(None, cwd=project, environ={"WFE_DURABILITY": "NORMAL"}) == "normal"
    assert durability_setting(None, cwd=project, environ={}) == "full"
    assert durability_setting(None, cwd=tmp_path.parent, environ={}) in ("normal", "full")


@pytest.mark.parametrize(("body", "environ", "message"), [
    ('[tool.wfe]\ndurability = "fast"\n', {}, r"pyproject.toml: \[tool.wfe\] durability: "),
    ("", {"WFE_DURABILITY": "sometimes"}, "WFE_DURABILITY: durability must be"),
    ("[tool.wfe\n", {}, "cannot read"),
])
def test_bad_durability_setting_is_a_usage_error(
    tmp_path: Path, body: str, environ: dict[str, str], message: str
) -> None:
    project = _pyproject(tmp_path, body)
    with pytest.raises(UsageError, match=message):
        durability_setting(None, cwd=project, environ=environ)
