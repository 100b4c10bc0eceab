"""`wait:` and `fail:` nodes: a durable timer and a deliberate failure."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
from run_support import started_run, wfe_process
from typer.testing import CliRunner

from wfe.cli import app
from wfe.engine.journal import Cursor
from wfe.engine.loop import Engine
from wfe.engine.memory_journal import MemoryJournal
from wfe.errors import DeliberateFailure
from wfe.executors import LocalExecutor

runner = CliRunner()

GATE = """
state:
  score: {type: int, default: 3}
  fail_under: {type: int, default: 5}
nodes:
  gate:
    next:
      - when: score < fail_under
        then: stop
      - then: end
    wait: 0
  stop:
    fail: "score ${ score } is under ${ fail_under }"
"""

NAP = """
state:
  seconds: {type: float, default: 60}
nodes:
  nap: {wait: "${ seconds }", next: after}
  after: {wait: 0}
"""


class FakeTime:
    """A clock that only sleeping moves; `stop_at`: a sleep that ends the process instead."""

    def __init__(self, now: float = 1000.0, stop_at: float | None = None) -> None:
        self.now, self.stop_at, self.slept = now, stop_at, 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if self.stop_at is not None and self.now + seconds > self.stop_at:
            self.now = self.stop_at
            raise KeyboardInterrupt
        self.now += seconds
        self.slept += seconds


def test_a_fail_node_ends_the_run_failed_with_its_message(make_workflow):
    result = make_workflow(GATE).run()
    assert result.status == "failed"
    assert isinstance(result.error, DeliberateFailure)
    assert (result.error.node, result.error.message) == ("stop", "score 3 is under 5")


def test_a_fail_node_not_reached_does_nothing(make_workflow):
    assert make_workflow(GATE).run({"score": 9}).status == "succeeded"


def test_a_fail_node_exits_1_naming_the_node_and_message(write_workflow):
    result = runner.invoke(app, ["run", str(write_workflow(GATE)), "--quiet"])
    assert result.exit_code == 1
    assert "node 'stop': score 3 is under 5" in result.output


def run_nap(make_workflow, journal: MemoryJournal, fake: FakeTime,
            cursor: Cursor | None = None) -> str:
    workflow = make_workflow(NAP)
    engine = Engine(workflow.graph, run_id="r", journal=journal,
                    executor=LocalExecutor(), clock=fake.clock,
                    sleep=fake.sleep)
    state = journal.committed().state if cursor else workflow.initial_state()
    return asyncio.run(engine.run(state, cursor)).status


def test_a_wait_sleeps_its_seconds(make_workflow):
    fake = FakeTime()
    assert run_nap(make_workflow, MemoryJournal(), fake) == "succeeded"
    assert fake.slept == pytest.approx(60)


def test_a_wait_resumed_after_a_stop_waits_only_for_what_remains(make_workflow):
    journal = MemoryJournal()
    with pytest.raises(KeyboardInterrupt):
        run_nap(make_workflow, journal, FakeTime(1000.0, stop_at=1020.0))
    later = FakeTime(1045.0)  # the process came back 25 s after it stopped
    assert run_nap(make_workflow, journal, later, Cursor("nap")) == "succeeded"
    assert later.slept == pytest.approx(15)


def test_a_wait_of_a_negative_expression_fails_the_run(make_workflow):
    result = make_workflow(NAP).run({"seconds": -1.0})
    assert result.status == "failed"
    assert "must give seconds from 0" in result.error.message


@pytest.mark.parametrize(("body", "message"), [
    ("wait: 5 parsecs", "is not a number of seconds or a duration"),
    ("wait: -1", "greater than or equal to 0"),
    ("wait: '${ label }'", "gives a str, not seconds"),
    ("wait: '${ seconds }s'", 'must be one "${ expr }" giving seconds'),
    ("wait: '${ secnds }'", "unknown name 'secnds'"),
    ("fail: '${ label + }'", "syntax error"),
    ("{fail: stop, retry: {attempts: 2}}", "`retry` does not belong to a fail node"),
    ("fail: ''", "a fail node needs a message"),
    ("{wait: 1, tool: x}", "needs exactly one kind"),
])
def test_bad_wait_and_fail_nodes_are_refused_at_their_position(write_workflow, body, message):
    path = write_workflow("state:\n  label: str\n  seconds: float\nnodes:\n"
                          f"  w: {{{body}}}\n" if not body.startswith("{")
                          else f"state:\n  label: str\n  seconds: float\nnodes:\n  w: {body}\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5:" in result.output and message in result.output


def test_cancel_ends_a_waiting_run_at_once(write_workflow):
    process = wfe_process("run", write_workflow(NAP), "-i", "seconds=3600", "--quiet")
    run_id = started_run()
    assert runner.invoke(app, ["cancel", run_id]).exit_code == 0
    assert process.wait(timeout=30) == 1  # not an hour
    shown = json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)
    assert shown["status"] == "cancelled"


def test_a_waits_deadline_is_committed_and_a_killed_run_resumes_to_its_end(write_workflow):
    from wfe.store import Store

    process = wfe_process("run", write_workflow(NAP), "-i", "seconds=1.5", "--quiet")
    run_id = started_run()
    with Store.open(os.environ["WFE_STORE"]) as store:
        for _ in range(400):
            items = store.finished_items(run_id, 1)
            if items:
                break
            time.sleep(0.05)
        [(_, node, _, _, deadline)] = items
        assert node == "nap" and isinstance(deadline, float)
    process.kill()
    process.wait(timeout=30)
    resumed = runner.invoke(app, ["resume", run_id, "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    shown = json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)
    assert [s["node"] for s in shown["steps"]] == ["nap", "after"]


def _stopped_in_its_wait(write_workflow, seconds: float) -> tuple[str, float]:
    """A run stopped (SIGTERM) while it waits: its id and the committed deadline."""
    from wfe.store import Store

    process = wfe_process("run", write_workflow(NAP), "-i", f"seconds={seconds}", "--quiet")
    run_id = started_run()
    with Store.open(os.environ["WFE_STORE"]) as store:
        for _ in range(400):
            items = store.finished_items(run_id, 1)
            if items:
                break
            time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 143
    return run_id, items[0][4]


def _schedule_once(tmp_path: Path) -> str:
    yearly = tmp_path / "yearly.yaml"
    yearly.write_text("schedule: {cron: '0 0 1 1 *'}\nnodes:\n  idle: {wait: 0}\n")
    done = runner.invoke(app, ["schedule", str(yearly), "--once"])
    assert done.exit_code == 0, done.output
    return done.stdout


def test_the_scheduler_resumes_a_run_stopped_in_a_wait_once_its_deadline_passed(
        write_workflow, tmp_path):
    run_id, deadline = _stopped_in_its_wait(write_workflow, 1.0)
    time.sleep(max(0.0, deadline - time.time()) + 0.1)
    assert f"resumed run {run_id}: the wait of 'nap' has passed" in _schedule_once(tmp_path)
    for _ in range(600):
        shown = json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)
        if shown["status"] == "succeeded":
            break
        time.sleep(0.05)
    assert [s["node"] for s in shown["steps"]] == ["nap", "after"]


def test_the_scheduler_leaves_a_run_stopped_in_a_wait_before_its_deadline(
        write_workflow, tmp_path):
    run_id, _ = _stopped_in_its_wait(write_workflow, 3600)
    assert run_id not in _schedule_once(tmp_path)
    shown = json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)
    assert shown["status"] == "interrupted"
