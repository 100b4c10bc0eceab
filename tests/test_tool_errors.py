"""A tool's failure as it happened, wherever it ran: its exception keeps its type's name (for
`on_error` and `retry`) in a thread, a worker process or a cluster's worker; its traceback is
stored (masked, capped) and shown; and nothing the tool started outlives its call."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe import Workflow
from wfe.cli import app

runner = CliRunner()


ROUTED = """
imports: [TOOLS]
state:
  error: any
  handled: str
nodes:
  f:
    parallel:                 # a branch: what a cluster runs
      b: {tool: stubborn, ISOLATION}
    on_error: [{errors: [ERRORS], then: handle}]
  handle: {tool: handle}
"""

STUBBORN = """
import threading

class Stubborn(ValueError):
    def __init__(self, why):
        super().__init__(why)
        self.lock = threading.Lock()  # cannot be pickled

@tool
def stubborn() -> dict:
    raise Stubborn("never")

@tool
def handle(error: dict) -> dict:
    return {"handled": error["type"]}
"""


class WorkerPath:
    """What a cluster's worker does for a call (wfe.executors.remote: packed, run, answered), run
    here."""

    allows_inline = False

    def isolated(self) -> WorkerPath:
        return self

    def check(self, tools: Any) -> None:
        return None

    def close(self) -> None:
        return None

    async def call(self, tool: Any, kwargs: dict[str, Any], timeout: float | None,
                   step: Any) -> Any:
        from wfe.executors.remote.payload import pack_call, pickled_function, unpack_outcome
        from wfe.executors.remote.worker import run_call

        function = pickled_function(tool, "the cluster", main_by_value=True)
        packed = pack_call(tool, function, kwargs, step, "the cluster")
        return unpack_outcome(run_call(packed), kwargs, step)


@pytest.mark.parametrize("errors", ["Stubborn", "ValueError"])
@pytest.mark.parametrize("where", ["thread", "process", "worker"])
def test_an_exception_that_cannot_be_pickled_routes_by_type_wherever_it_ran(
        write_workflow, where, errors):
    isolation = f"isolation: {'process' if where == 'process' else 'thread'}"
    path = write_workflow(ROUTED.replace("ISOLATION", isolation).replace("ERRORS", errors),
                          STUBBORN)
    executor = WorkerPath() if where == "worker" else None
    result = Workflow.load(path, entry_points=False).run({}, executor=executor)
    assert result.status == "succeeded", result.error
    assert result.state["handled"] == "Stubborn"
    assert result.state["error"]["message"] == "never"


SPAWNS = """
import pathlib, subprocess, sys, time

CHILD = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"

@tool
def spawn(pids: str, then: str) -> dict:
    child = subprocess.Popen([sys.executable, "-c", CHILD])
    pathlib.Path(pids).write_text(str(child.pid))
    if then == "hang":
        time.sleep(60)
    return {"done": True}
"""

GROUP = """
imports: [TOOLS]
state:
  done: bool
  pids: str
  then: str
nodes:
  f: {tool: spawn, isolation: process, timeout: TIMEOUT}
"""


def _running(pid: int) -> bool:
    """Whether the process runs (a zombie, left for init to reap, has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize(("then", "timeout"), [("return", 30), ("hang", 2)])
def test_what_an_isolated_tool_started_ends_with_its_call(write_workflow, tmp_path, then,
                                                         timeout):
    # The tool's child ignores SIGTERM: only the group's SIGKILL ends it.
    path = write_workflow(GROUP.replace("TIMEOUT", str(timeout)), SPAWNS)
    pids = tmp_path / "pids"
    result = Workflow.load(path, entry_points=False).run({"pids": str(pids), "then": then})
    assert result.status == ("succeeded" if then == "return" else "failed"), result.error
    child = int(pids.read_text())
    try:
        assert not _running(child)
    finally:
        if _running(child):
            os.kill(child, 9)


TRACED = """
imports: [TOOLS]
state:
  token: {type: str, secret: true, default: "hunter2-secret"}
  size: {type: int, default: 10}
  error: any
nodes:
  f: {tool: broken, ISOLATION}
"""

BROKEN = """
def helper(token, size):
    raise KeyError("missing " + token + "!" * size)

@tool
def broken(token: str, size: int) -> dict:
    return helper(token, size)
"""


def _only_run() -> dict[str, Any]:
    listed = runner.invoke(app, ["runs", "--json"])
    [run] = json.loads(listed.stdout)
    shown = runner.invoke(app, ["show", run["run_id"], "--json"])
    return dict(json.loads(shown.stdout))


@pytest.mark.parametrize("isolation", ["isolation: thread", "timeout: 30", "isolation: process"],
                         ids=["inline", "thread", "process"])
def test_a_tools_traceback_is_stored_masked_and_shown(write_workflow, isolation):
    path = write_workflow(TRACED.replace("ISOLATION", isolation), BROKEN)
    ran = runner.invoke(app, ["--debug", "run", str(path)])
    assert ran.exit_code == 1
    trace = _only_run()["error"]["traceback"]
    assert trace.splitlines()[1].endswith(", in broken")  # from the tool's own frame
    assert 'line 4, in helper\n    raise KeyError("missing " + token + "!" * size)' in trace
    assert trace.endswith("KeyError: 'missing ***!!!!!!!!!!'\n")
    assert "hunter2" not in trace
    assert trace in ran.stderr
    shown = runner.invoke(app, ["show", _only_run()["run_id"]]).stdout
    assert "line 4, in helper" in shown and "hunter2" not in trace


def test_a_routed_steps_traceback_is_stored_with_the_step(write_workflow):
    yaml = TRACED.replace("ISOLATION", "on_error: end")
    assert runner.invoke(app, ["run", str(write_workflow(yaml, BROKEN))]).exit_code == 0
    [step] = _only_run()["steps"]
    assert step["outcome"] == "routed"
    assert step["error"]["traceback"].endswith("KeyError: 'missing ***!!!!!!!!!!'\n")


def test_a_long_traceback_keeps_its_end_within_the_cap(write_workflow):
    from wfe.engine.tool_trace import MAX_CHARS

    path = write_workflow(TRACED.replace("ISOLATION", "isolation: thread"), BROKEN)
    assert runner.invoke(app, ["run", str(path), "-i", "size=50000"]).exit_code == 1
    trace = _only_run()["error"]["traceback"]
    assert len(trace) < MAX_CHARS + 100
    assert trace.startswith("... (") and trace.endswith("!!!'\n")
