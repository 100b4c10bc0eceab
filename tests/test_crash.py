"""Durability under SIGKILL and under many writers: nothing committed is lost or run twice.

The crash test kills `wfe run` / `wfe resume` processes at random moments (inside a tool, between
steps, inside a commit: the tool sleeps a random 0-40 ms and every step commits, so kills land in
all of these windows) and resumes until the run succeeds. The concurrency test runs 8 processes x
25 durable runs on one store.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from wfe.store import Store

WORKFLOW = """
imports: [crash_tools]
state:
  i: {type: int, default: 0}
  total: {type: int, default: 0}
  trail: {type: "list[int]", reduce: append}
nodes:
  work:
    tool: work
    next:
      - when: i < 40
        then: work
      - then: end
"""

TOOLS = """
import os, random, time
from wfe import tool

@tool
def work(i: int, total: int, ctx) -> dict:
    with open(os.environ["WFE_TEST_EFFECTS"], "a") as log:
        log.write(ctx.idempotency_key + "\\n")
        log.flush()
        os.fsync(log.fileno())
    time.sleep(random.random() * 0.04)
    return {"i": i + 1, "total": total + i * i, "trail": i}
"""

REFERENCE = {"i": 40, "total": sum(i * i for i in range(40)), "trail": list(range(40))}


@pytest.fixture
def crash_workflow(tmp_path: Path) -> Path:
    (tmp_path / "crash_tools.py").write_text(TOOLS)
    path = tmp_path / "crash.yaml"
    path.write_text(WORKFLOW)
    return path


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "wfe", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _run_id(store: Path) -> str | None:
    if not store.exists():
        return None
    with Store.open(store) as opened:
        runs = opened.list_runs()
    return runs[0].run_id if runs else None


def _status(store: Path, run_id: str) -> str:
    with Store.open(store) as opened:
        return opened.get_run(run_id).status


def test_sigkill_at_random_points_loses_nothing_and_reruns_only_the_step_in_flight(
    crash_workflow: Path, tmp_path: Path
) -> None:
    store, effects = tmp_path / "crash.db", tmp_path / "effects.log"
    env = {**os.environ, "WFE_STORE": str(store), "WFE_TEST_EFFECTS": str(effects)}
    chance = random.Random(20261121)
    kills, finished = 0, False
    args = ["run", str(crash_workflow), "--quiet"]
    for _ in range(40):
        process = _start(args, env)
        try:
            process.wait(timeout=0.3 + chance.random() * 0.5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            kills += 1
        run_id = _run_id(store)
        if run_id is not None and _status(store, run_id) == "succeeded":
            finished = True  # (the process may have died after its last commit)
            break
        assert b"Traceback" not in (process.stderr.read() if process.stderr else b"")
        if run_id is not None:
            args = ["resume", run_id, "--quiet"]
    assert finished, "the run never finished"
    assert kills >= 3, "no kill landed: the test proved nothing"
    assert run_id is not None
    with Store.open(store) as opened:
        assert opened.get_run(run_id).state == REFERENCE
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(store) as opened:
        steps = [record.step for record in opened.steps(run_id)]
    assert steps == list(range(1, 41))  # every step committed exactly once
    counts = Counter(effects.read_text().split())
    assert set(counts) == {f"{run_id}:work:{visit}" for visit in range(1, 41)}
    # Only a step in flight when a process died may run twice: at most one per kill.
    assert sum(n - 1 for n in counts.values()) <= kills


def _durable_runs(store: str, workflow: str, runs: int, queue: multiprocessing.Queue) -> None:
    from wfe import Workflow
    from wfe.durable import StoreJournal, new_run
    from wfe.ids import new_run_id
    from wfe.store import Store

    errors: list[str] = []
    try:
        wf = Workflow.load(workflow, entry_points=False)
        with Store.open(store) as opened:
            for _ in range(runs):
                state = wf.initial_state()
                lease = opened.create_run(new_run(wf.graph, new_run_id(), {}, state))
                journal = StoreJournal(opened, lease, wf.graph)
                result = wf.run(listeners=[journal], run_id=lease.run_id, journal=journal)
                if not result.ok:
                    errors.append(str(result.error))
    except Exception as error:  # reported to the test, which fails on it
        errors.append(f"{type(error).__name__}: {error}")
    queue.put(errors)


def test_eight_processes_share_one_store_without_losing_anything(
    crash_workflow: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(tmp_path / "effects.log"))
    crash_workflow.write_text(WORKFLOW.replace("i < 40", "i < 5"))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    store = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue = context.Queue()
    workers = [context.Process(target=_durable_runs, args=(store, str(crash_workflow), 25, queue))
               for _ in range(8)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    reports = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert all(w.exitcode == 0 for w in workers)
    assert reports == [[]] * 8, reports
    with Store.open(store) as opened:
        runs = opened.list_runs(limit=1000)
        statuses = Counter(run.status for run in runs)
        steps = sum(len(opened.steps(run.run_id)) for run in runs)
    assert statuses == {"succeeded": 200}
    assert steps == 200 * 5
    assert time.monotonic() - began < 120
