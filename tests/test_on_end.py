"""`on_end:` run handlers: nodes that run once the run has ended, by its outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_support import started_run, wfe_process
from typer.testing import CliRunner

from wfe.cli import app

runner = CliRunner()

TOOLS = """
import os, signal
from pathlib import Path

@tool
def work(n: int) -> dict:
    if n < 0:
        raise ValueError("negative n")
    return {"n": n + 1}

@tool
def note(what: str) -> dict:
    return {"log": what}

@tool
def boom() -> dict:
    raise RuntimeError("the handler broke")

@tool
def seen(error: dict) -> dict:
    return {"log": f"{error['node']} {error['type']}: {error['message']}"}

@tool
def killed_once(what: str) -> dict:
    flag = Path(os.environ["WFE_TEST_FLAG"])
    with open(flag.with_suffix(".calls"), "a") as calls:
        calls.write(what + "\\n")
    if not flag.exists():
        flag.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return {"log": what}
"""

HEAD = """
imports: [TOOLS]
state:
  n: int
  log: {type: "list[str]", reduce: append, default: []}
  error: {type: any, default: null}
"""

HANDLERS = HEAD + """
on_end: {succeeded: ok, failed: bad, always: cleanup}
nodes:
  step: {tool: work, with: {n: "${ n }"}, next: end}
  ok: {tool: note, with: {what: ok}, next: end}
  bad: {tool: seen, with: {error: "${ error }"}, next: bad2}
  bad2: {tool: note, with: {what: bad2}, next: end}
  cleanup: {tool: note, with: {what: cleanup}}
"""


def run(path: Path, *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["run", str(path), *args])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(("n", "code", "log"), [
    (1, 0, ["ok", "cleanup"]),
    (-1, 1, ["step ValueError: negative n", "bad2", "cleanup"]),
])
def test_the_outcomes_handler_runs_its_own_chain_then_always(write_workflow, n, code, log):
    exit_code, state = run(write_workflow(HANDLERS, TOOLS), "-i", f"n={n}")
    assert (exit_code, state["log"]) == (code, log)


def test_a_failed_run_shows_its_error_to_handlers_in_the_state(write_workflow):
    _, state = run(write_workflow(HANDLERS, TOOLS), "-i", "n=-1")
    assert state["error"] == {"node": "step", "type": "ValueError", "message": "negative n"}


@pytest.mark.parametrize(("n", "status", "code"), [(1, "succeeded", 0), (-1, "failed", 1)])
def test_a_failing_handler_is_recorded_and_never_changes_the_outcome(write_workflow, n, status,
                                                                    code):
    yaml = HEAD + """
on_end: {always: broken}
nodes:
  step: {tool: work, with: {n: "${ n }"}, next: end}
  broken: {tool: boom}
"""
    result = runner.invoke(app, ["run", str(write_workflow(yaml, TOOLS)), "-i", f"n={n}",
                                 "--json"])
    assert result.exit_code == code
    events = [json.loads(line) for line in result.stdout.splitlines()]
    failed = [e for e in events if e["event"] == "node_failed" and e["node"] == "broken"]
    assert failed and failed[0]["error"]["message"] == "the handler broke"
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == status
    run_id = events[0]["run_id"]
    shown = json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)
    assert shown["status"] == status
    assert [(s["node"], s["outcome"]) for s in shown["steps"]][-1] == ("broken", "failed")


def test_a_run_stopped_by_its_step_limit_still_runs_its_handlers(write_workflow):
    yaml = HEAD + """
limits: {max_steps: 3}
on_end: {failed: bad}
nodes:
  step:
    tool: work
    with: {n: "${ n }"}
    next: [{when: "n > 100", then: end}, {then: step}]
  bad: {tool: note, with: {what: "${ error.type }"}}
"""
    exit_code, state = run(write_workflow(yaml, TOOLS), "-i", "n=1")
    assert (exit_code, state["log"]) == (1, ["StepLimitExceeded"])


def test_run_finished_comes_after_the_handlers_steps(write_workflow):
    result = runner.invoke(app, ["run", str(write_workflow(HANDLERS, TOOLS)), "-i", "n=1",
                                 "--json"])
    kinds = [(e["event"], e.get("node")) for e in map(json.loads, result.stdout.splitlines())]
    assert kinds.index(("node_finished", "cleanup")) < kinds.index(("run_finished", None))


def test_a_waiting_run_has_not_ended_and_runs_no_handler(write_workflow):
    yaml = HEAD + """
on_end: {always: cleanup}
nodes:
  ask: {interrupt: {message: go?, expects: {n: int}}, next: end}
  cleanup: {tool: note, with: {what: cleanup}}
"""
    result = runner.invoke(app, ["run", str(write_workflow(yaml, TOOLS)), "-i", "n=1",
                                 "--json"])
    assert result.exit_code == 3
    assert '"cleanup"' not in result.stdout


def test_a_cancelled_run_runs_its_cancelled_handler(write_workflow):
    yaml = HEAD + """
on_end: {cancelled: tidy, succeeded: ok}
nodes:
  nap: {wait: 3600, next: end}
  tidy: {tool: note, with: {what: tidy}}
  ok: {tool: note, with: {what: ok}}
"""
    process = wfe_process("run", write_workflow(yaml, TOOLS), "-i", "n=1", "--quiet")
    run_id = started_run()
    assert runner.invoke(app, ["cancel", run_id]).exit_code == 0
    assert process.wait(timeout=60) == 1
    shown = json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)
    assert shown["status"] == "cancelled" and shown["state"]["log"] == ["tidy"]


def test_a_run_killed_in_its_handlers_runs_the_rest_once_when_resumed(write_workflow, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("WFE_TEST_FLAG", str(tmp_path / "flag"))
    yaml = HEAD + """
on_end: {failed: first, always: last}
nodes:
  step: {tool: work, with: {n: "${ n }"}, next: end}
  first: {tool: note, with: {what: first}, next: second}
  second: {tool: killed_once, with: {what: second}, next: end}
  last: {tool: note, with: {what: last}}
"""
    process = wfe_process("run", write_workflow(yaml, TOOLS), "-i", "n=-1", "--quiet")
    assert process.wait(timeout=60) == -9
    run_id = started_run()
    resumed = runner.invoke(app, ["resume", run_id])
    assert resumed.exit_code == 1, resumed.output  # the run's outcome, known again
    state = json.loads(resumed.stdout)
    assert state["log"] == ["first", "second", "last"]
    assert state["error"]["message"] == "negative n"
    calls = (tmp_path / "flag.calls").read_text().split()
    assert calls == ["second", "second"]  # the step in flight, and nothing else, again


@pytest.mark.parametrize(("on_end", "message"), [
    ("{failed: notfy}", "unknown node 'notfy'"),
    ("{always: end}", "on_end.always must name a node"),
    ("{finished: step}", "unknown key 'finished'"),
])
def test_validate_places_a_wrong_handler_at_its_key(write_workflow, on_end, message):
    path = write_workflow(HEAD + f"on_end: {on_end}\nnodes:\n  step: {{tool: work}}\n", TOOLS)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:7:" in result.output and message in result.output


def test_handler_nodes_count_as_reachable(write_workflow):
    path = write_workflow(HANDLERS, TOOLS)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "never reached" not in result.output


def test_a_handler_that_loops_forever_is_refused(write_workflow):
    yaml = HEAD + """
on_end: {always: spin}
nodes:
  step: {tool: work, with: {n: "${ n }"}, next: end}
  spin: {tool: note, with: {what: x}, next: spin}
"""
    result = runner.invoke(app, ["validate", str(write_workflow(yaml, TOOLS))])
    assert result.exit_code == 2 and "no path from 'spin' reaches end" in result.output


def test_graph_and_dry_run_show_the_handlers_as_reached(write_workflow):
    path = write_workflow(HANDLERS, TOOLS)
    tree = runner.invoke(app, ["graph", str(path)]).stdout
    assert "on_end failed → bad" in tree and "unreachable" not in tree
    plan = runner.invoke(app, ["run", str(path), "-i", "n=1", "--dry-run"]).stdout
    assert "on_end always: cleanup" in plan


def test_a_sub_flows_own_handlers_run_when_it_ends_inside_the_parents_step(write_workflow,
                                                                          tmp_path):
    child = write_workflow(HEAD + """
on_end: {always: bye}
nodes:
  hi: {tool: note, with: {what: hi}}
  bye: {tool: note, with: {what: bye}}
""", TOOLS)
    parent = tmp_path / "parent.yaml"
    parent.write_text(f"state:\n  out: {{type: 'list[str]', default: []}}\nnodes:\n  sub: "
                      f"{{workflow: {child.name}, inputs: {{n: 1}}, outputs: {{out: log}}}}\n")
    exit_code, state = run(parent)
    assert (exit_code, state["out"]) == (0, ["hi", "bye"])
