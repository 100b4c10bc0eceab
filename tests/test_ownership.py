"""Who may run a run, at the command line: one `wfe resume` at a time, and a stalled owner whose
run was taken over commits nothing more (fencing)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from wfe.cli import app
from wfe.store.liveness import LEASE_SECONDS

COUNTER = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
nodes:
  inc:
    tool: inc
    next:
      - when: i < 8
        then: inc
      - then: end
"""

TOOLS = """
import os, time

@tool
def inc(i: int, ctx) -> dict:
    with open(os.environ["WFE_TEST_EFFECTS"], "a") as log:
        log.write(f"{os.getpid()} {ctx.idempotency_key}\\n")
    time.sleep(float(os.environ.get("WFE_TEST_DELAY", "0")))
    return {"i": i + 1}
"""


def _wfe(*args: object, delay: float, effects: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "WFE_TEST_DELAY": str(delay), "WFE_TEST_EFFECTS": str(effects)}
    return subprocess.Popen([sys.executable, "-m", "wfe", *map(str, args), "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _calls(effects: Path) -> list[tuple[int, str]]:
    if not effects.exists():
        return []
    return [(int(pid), key) for pid, key in
            (line.split() for line in effects.read_text().splitlines())]


def _wait_for_calls(effects: Path, count: int, pid: int | None = None) -> None:
    deadline = time.monotonic() + 60
    while len([c for c in _calls(effects) if pid is None or c[0] == pid]) < count:
        assert time.monotonic() < deadline, f"fewer than {count} tool calls"
        time.sleep(0.01)


def _show(run_id: str) -> dict:
    return json.loads(CliRunner().invoke(app, ["show", run_id, "--json"]).stdout)


def _interrupted_run(write_workflow, effects: Path) -> str:
    """A run stopped (SIGKILL) in the tool of its step 3."""
    process = _wfe("run", write_workflow(COUNTER, TOOLS), delay=0.3, effects=effects)
    _wait_for_calls(effects, 3)
    process.kill()
    process.wait()
    [run] = json.loads(CliRunner().invoke(app, ["runs", "--json"]).stdout)
    return str(run["run_id"])


def test_two_resumes_started_together_one_proceeds_the_other_is_told_the_run_is_in_use(
    write_workflow, tmp_path
):
    effects = tmp_path / "effects.log"
    run_id = _interrupted_run(write_workflow, effects)
    first = _wfe("resume", run_id, delay=0.2, effects=effects)
    second = _wfe("resume", run_id, delay=0.2, effects=effects)
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "", p.pid)
               for p in (first, second)]
    assert sorted(code for code, _, _ in results) == [0, 2], results
    (_, _, winner), (_, refused, _) = sorted(results, key=lambda result: result[0])
    assert refused.startswith(f"error: run {run_id} is in use by process {winner}"), refused
    assert len(refused.splitlines()) == 1
    shown = _show(run_id)
    assert shown["status"] == "succeeded" and shown["state"] == {"i": 8}
    assert [step["step"] for step in shown["steps"]] == list(range(1, 9))


def _stop_outside_a_write(process: subprocess.Popen[str], store: Path) -> None:
    """SIGSTOP `process` at a moment it holds no write lock (as a stall in a tool would)."""
    while True:
        process.send_signal(signal.SIGSTOP)
        probe = sqlite3.connect(store, timeout=0.2, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:
            process.send_signal(signal.SIGCONT)
            time.sleep(0.05)
        finally:
            probe.close()


def test_a_stalled_owner_whose_run_was_taken_over_commits_nothing_more(
    write_workflow, tmp_path
):
    effects, store = tmp_path / "effects.log", Path(os.environ["WFE_STORE"])
    run_id = _interrupted_run(write_workflow, effects)
    stalled = _wfe("resume", run_id, delay=0.5, effects=effects)
    _wait_for_calls(effects, 2, stalled.pid)  # it committed step 3; step 4's tool is running
    _stop_outside_a_write(stalled, store)
    # Its heartbeat stops; once LEASE_SECONDS have passed the run may be taken over. The test
    # moves the clock rather than waiting.
    with sqlite3.connect(store) as db:
        db.execute("UPDATE runs SET heartbeat_at = heartbeat_at - ? WHERE run_id = ?",
                   (LEASE_SECONDS + 1, run_id))
    taker = _wfe("resume", run_id, delay=0.3, effects=effects)
    _wait_for_calls(effects, 2, taker.pid)  # it took the run and committed a step
    stalled.send_signal(signal.SIGCONT)
    code, stderr = stalled.wait(timeout=60), stalled.stderr.read() if stalled.stderr else ""
    assert code == 1
    assert stderr == f"error: run {run_id} was taken over by another process; this one stops\n"
    assert taker.wait(timeout=120) == 0, taker.stderr.read() if taker.stderr else ""
    shown = _show(run_id)
    assert shown["status"] == "succeeded" and shown["state"] == {"i": 8}
    # The taker committed steps 4..8 itself: had the stalled owner committed step 4 after
    # waking, the taker's own step 4 would have conflicted with it.
    assert [step["step"] for step in shown["steps"]] == list(range(1, 9))
    calls = _calls(effects)
    by_stalled = [key for pid, key in calls if pid == stalled.pid]
    assert by_stalled == [f"{run_id}:inc:3", f"{run_id}:inc:4"]
    assert Counter(key for pid, key in calls if pid == taker.pid) == Counter(
        f"{run_id}:inc:{n}" for n in range(4, 9))
