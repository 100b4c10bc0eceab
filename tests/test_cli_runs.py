"""The commands that read and end stored runs: `wfe graph --run`, `runs`, `show`, `cancel`."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from wfe import Workflow
from wfe.cli import app

runner = CliRunner()

COUNTER = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 2}
nodes:
  inc:
    tool: inc
    next: [{when: i < n, then: inc}]
"""
TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}
"""
OTHER = """
imports: [TOOLS]
state: {i: {type: int, default: 0}}
nodes:
  first: {tool: inc, next: second}
  second: {tool: inc}
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def last_run_id() -> str:
    return str(json.loads(invoke("runs", "--json").stdout)[0]["run_id"])


def test_graph_of_a_run_of_another_workflow_is_an_error_naming_both(write_workflow):
    counter, other = write_workflow(COUNTER, TOOLS), write_workflow(OTHER, TOOLS)
    assert invoke("run", counter, "--quiet").exit_code == 0
    run_id = last_run_id()
    result = invoke("graph", other, "--run", run_id)
    assert result.exit_code == 2
    assert result.stderr == (f"error: --run {run_id} is a run of workflow '{counter.stem}' "
                             f"({counter.resolve()}), not of '{other.stem}' ({other})\n")
    assert invoke("graph", counter, "--run", run_id).exit_code == 0


def _is_utc_iso(text: object) -> bool:
    return (isinstance(text, str) and text.endswith("Z")
            and datetime.fromisoformat(text).utcoffset() == timedelta(0))


def test_json_documents_give_times_in_iso_8601_as_events_do(write_workflow):
    assert invoke("run", write_workflow(COUNTER, TOOLS), "--quiet").exit_code == 0
    [row] = json.loads(invoke("runs", "--json").stdout)
    assert _is_utc_iso(row["created_at"]) and _is_utc_iso(row["finished_at"])
    shown = json.loads(invoke("show", row["run_id"], "--json").stdout)
    times = [shown["created_at"], shown["updated_at"], shown["finished_at"],
             *(step["started_at"] for step in shown["steps"])]
    assert all(_is_utc_iso(t) for t in times)
    [started] = [json.loads(line) for line in invoke("logs", row["run_id"], "--json")
                 .stdout.splitlines() if '"run_started"' in line]
    assert shown["created_at"][:16] == started["ts"][:16]


def test_a_running_run_shows_its_time_so_far(write_workflow, monkeypatch):
    from wfe.cli import runs_command
    from wfe.store import Store, store_path
    from wfe.store.journal import new_run

    workflow = Workflow.load(write_workflow(COUNTER, TOOLS))
    with Store.open(store_path(None)) as store:
        state = workflow.initial_state()
        store.create_run(new_run(workflow.graph, "run-live", {}, state))
        created = store.get_run("run-live").created_at
        clock = SimpleNamespace(time=lambda: created + 42.0, sleep=time.sleep)
        monkeypatch.setattr(runs_command, "time", clock)
        listed = invoke("runs")
        shown = invoke("show", "run-live")
    assert re.search(r"run-live .* running .* 42\.00 s", listed.stdout), listed.stdout
    assert "42.00 s" in shown.stdout


APPROVAL = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  ok: bool
nodes:
  inc: {tool: inc, next: approve}
  approve: {interrupt: {message: Go on?, expects: {ok: bool}}}
"""


def test_cancel_of_a_waiting_run_ends_it_cancelled_at_once(write_workflow):
    assert invoke("run", write_workflow(APPROVAL, TOOLS), "--quiet").exit_code == 3
    run_id = last_run_id()
    result = invoke("cancel", run_id)
    assert (result.exit_code, result.stderr) == (0, f"run {run_id} cancelled\n")
    shown = json.loads(invoke("show", run_id, "--json").stdout)
    assert (shown["status"], shown["waiting"], shown["state"]) == ("cancelled", None, {"i": 1})
    assert _is_utc_iso(shown["finished_at"])
    events = [json.loads(line) for line in invoke("logs", run_id, "--json").stdout.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert (events[-1]["event"], events[-1]["status"]) == ("run_finished", "cancelled")
    resumed = invoke("resume", run_id)
    assert resumed.exit_code == 2 and "was cancelled" in resumed.stderr
    again = invoke("cancel", run_id)
    assert again.exit_code == 2 and "is not running (cancelled)" in again.stderr


def test_a_detached_run_writes_its_progress_and_final_state_to_its_log(write_workflow):
    detached = invoke("run", write_workflow(COUNTER, TOOLS), "-i", "n=3", "--detach")
    assert detached.exit_code == 0, detached.output
    run_id = detached.stdout.strip()
    log = Path(os.environ["WFE_STORE"]).parent / "logs" / f"{run_id}.log"
    deadline = time.monotonic() + 60
    while not log.read_text().rstrip().endswith("}") and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log.read_text()
    assert "inc started (step 1)" in text and "inc done in" in text
    assert "■ run succeeded" in text
    assert json.loads(text[text.index("{"):]) == {"i": 3, "n": 3}
