"""`isolation: process`: a tool call in a worker process that a timeout or a cancel kills."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from wfe import NodeFailed
from wfe.executors.isolation import ProcessExecutor
from wfe.tools.context import StepInfo

TOOLS = """
import asyncio, os, pathlib, subprocess, threading, time

def record(pid_file: str) -> None:
    pathlib.Path(pid_file).write_text(str(os.getpid()))

@tool
def spin(pid_file: str) -> None:
    record(pid_file)
    while True:
        pass

@tool
def shell_out(pid_file: str) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    pathlib.Path(pid_file).write_text(str(sleeper.pid))
    sleeper.wait()

@tool
def nap(pid_file: str, seconds: float) -> dict:
    record(pid_file)
    time.sleep(seconds)
    pathlib.Path(pid_file + ".done").write_text("")
    return {"where": os.getpid()}

@tool
async def wait(pid_file: str) -> None:
    record(pid_file)
    await asyncio.sleep(60)

@tool
def add(a: int, b: int, ctx) -> dict:
    log("adding")
    ctx.log(f"attempt {ctx.attempt}")
    return {"total": a + b, "where": os.getpid(), "node": ctx.node}

@tool
async def add_later(a: int, b: int) -> dict:
    await asyncio.sleep(0)
    return {"total": a + b, "where": os.getpid()}

class Picky(Exception):
    def __init__(self, code: int, why: str) -> None:
        super().__init__(f"{code}: {why}")

@tool
def flaky(count_file: str, fail_times: int, kind: str) -> dict:
    path = pathlib.Path(count_file)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    if calls <= fail_times:
        raise {"ValueError": ValueError, "KeyError": KeyError, "Picky": Picky}[kind](3, "no")
    return {"total": calls}

@tool
def lock() -> dict:
    return {"where": threading.Lock()}

@tool
def bump(state) -> None:
    state["total"] = state.get("total", 0) + 5

@tool
def vanish() -> None:
    os._exit(3)

@tool
def after(pid_file: str) -> dict:
    while not pathlib.Path(pid_file).exists():
        time.sleep(0.01)
    return {"total": 1}

@tool
def fail_after(pid_file: str) -> None:
    after(pid_file)
    raise ValueError("a sibling failed")

@tool
def hang_or_fail(item: str, pid_file: str) -> None:
    if item == "hang":
        spin(pid_file)
    fail_after(pid_file)
"""

STATE = """
state:
  total: int
  where: any
  node: str
  error: any
  pid_file: str
"""


def workflow(make_workflow, node: str, state: str = STATE):
    return make_workflow(f"imports: [TOOLS]\n{state}nodes:\n{node}", TOOLS)


def gone(pid: int) -> bool:
    """No such process, or one that has died and waits only to be reaped (a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def pid_in(pid_file: Path) -> int:
    return int(pid_file.read_text())


def test_a_stuck_tool_is_killed_when_its_timeout_passes(make_workflow, tmp_path):
    wf = workflow(make_workflow, "  f: {tool: spin, timeout: 0.5, isolation: process, "
                                 "on_error: end}\n")
    began = time.monotonic()
    result = wf.run({"pid_file": str(tmp_path / "pid")})
    assert time.monotonic() - began < 4
    assert result.ok, result.error
    assert result.state["error"] == {
        "node": "f", "type": "TimeoutError",
        "message": "timed out after 0.5 s; the worker process was killed"}
    pid = pid_in(tmp_path / "pid")
    assert pid != os.getpid()
    assert gone(pid)


def test_a_stuck_async_tool_is_killed_too(make_workflow, tmp_path):
    wf = workflow(make_workflow, "  f: {tool: wait, timeout: 0.3, isolation: process}\n")
    result = wf.run({"pid_file": str(tmp_path / "pid")})
    assert isinstance(result.error, NodeFailed)
    assert "the worker process was killed" in result.error.message
    assert gone(pid_in(tmp_path / "pid"))


def test_a_kill_reaches_the_subprocesses_the_tool_started(make_workflow, tmp_path):
    wf = workflow(make_workflow, "  f: {tool: shell_out, timeout: 0.3, isolation: process}\n")
    result = wf.run({"pid_file": str(tmp_path / "pid")})
    assert isinstance(result.error, NodeFailed)
    assert "the worker process was killed" in result.error.message
    deadline = time.monotonic() + 30  # a hang guard: the kill is at once, a busy machine is slow
    while not gone(pid_in(tmp_path / "pid")):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_with_isolation_thread_the_same_timeout_stays_soft(make_workflow, tmp_path):
    wf = workflow(make_workflow, "  f: {tool: nap, with: {seconds: 0.5}, timeout: 0.1, "
                                 "isolation: thread}\n")
    pid_file = tmp_path / "pid"
    result = wf.run({"pid_file": str(pid_file)})
    assert isinstance(result.error, NodeFailed)
    assert result.error.error_type == "TimeoutError"
    assert "killed" not in result.error.message
    assert pid_in(pid_file) == os.getpid()
    deadline = time.monotonic() + 5
    while not Path(f"{pid_file}.done").exists():  # the thread ran on to its end
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_call_in_a_process_returns_its_result_and_its_logs(make_workflow):
    wf = workflow(make_workflow, "  f: {tool: add, with: {a: 2, b: 3}, isolation: process}\n")
    events: list[dict] = []
    result = wf.run(listeners=[events.append])
    assert result.ok, result.error
    assert result.state["total"] == 5 and result.state["node"] == "f"
    assert result.state["where"] != os.getpid()
    logs = [(e["node"], e["message"]) for e in events if e["event"] == "log"]
    assert logs == [("f", "adding"), ("f", "attempt 1")]


def test_changes_to_the_state_copy_in_a_process_come_back_as_updates(make_workflow):
    wf = workflow(make_workflow, "  f: {tool: bump, isolation: process}\n")
    result = wf.run({"total": 1})
    assert result.ok, result.error
    assert result.state["total"] == 6


def test_an_async_tool_runs_in_the_process_too(make_workflow):
    wf = workflow(make_workflow, "  f: {tool: add_later, with: {a: 1, b: 1}, "
                                 "isolation: process}\n")
    result = wf.run()
    assert result.ok, result.error
    assert result.state["total"] == 2 and result.state["where"] != os.getpid()


def test_an_exception_keeps_its_type_so_retry_on_matches_it(make_workflow, tmp_path):
    wf = workflow(make_workflow, """  f:
    tool: flaky
    with: {fail_times: 2, kind: ValueError}
    retry: {attempts: 3, delay: 0, on: [ValueError]}
    isolation: process
""", STATE + "  count_file: str\n")
    result = wf.run({"count_file": str(tmp_path / "count")})
    assert result.ok, result.error
    assert result.state["total"] == 3


def test_on_error_routes_by_the_type_raised_in_the_process(make_workflow, tmp_path):
    wf = workflow(make_workflow, """  f:
    tool: flaky
    with: {fail_times: 9, kind: KeyError}
    isolation: process
    on_error: [{errors: [ValueError], then: end}, {errors: [KeyError], then: g}]
  g: {tool: add, with: {a: 0, b: 0}}
""", STATE + "  count_file: str\n")
    result = wf.run({"count_file": str(tmp_path / "count")})
    assert result.ok, result.error
    assert result.visits["g"] == 1
    assert result.state["error"]["type"] == "KeyError"


def test_an_exception_that_cannot_travel_back_keeps_its_type_name(make_workflow, tmp_path):
    wf = workflow(make_workflow, "  f: {tool: flaky, with: {fail_times: 1, kind: Picky}, "
                                 "isolation: process}\n", STATE + "  count_file: str\n")
    result = wf.run({"count_file": str(tmp_path / "count")})
    assert isinstance(result.error, NodeFailed)
    assert result.error.error_type == "Picky"
    assert result.error.message == "Picky: 3: no"


def test_an_argument_that_cannot_be_pickled_is_a_clear_error(make_workflow):
    # State holds JSON values only, so such an argument comes from the Python API.
    wf = workflow(make_workflow, "  f: {tool: add, with: {a: 1, b: 2}, isolation: process}\n")
    tool = wf.graph.nodes["f"].tool
    assert tool is not None
    call = ProcessExecutor().call(tool, {"a": threading.Lock(), "b": 1}, None,
                                  StepInfo("r", None))
    with pytest.raises(TypeError, match=r"^node '': argument 'a' of tool 'add' "
                                        r"cannot be serialised for a worker process: .*lock"):
        asyncio.run(call)


def test_a_result_that_cannot_be_pickled_is_a_clear_error(make_workflow):
    result = workflow(make_workflow, "  f: {tool: lock, isolation: process}\n").run()
    assert isinstance(result.error, NodeFailed)
    assert result.error.error_type == "SerialisationError"  # a TypeError, as on a cluster
    assert ("node 'f': the result key 'where' of tool 'lock' cannot be serialised to send it "
            "back from the worker process (pid ") in result.error.message


def test_a_process_that_dies_without_a_result_is_an_error(make_workflow):
    result = workflow(make_workflow, "  f: {tool: vanish, isolation: process}\n").run()
    assert isinstance(result.error, NodeFailed)
    assert "exited with code 3 without a result" in result.error.message


def test_a_failing_map_item_kills_the_process_of_its_sibling(make_workflow, tmp_path):
    wf = workflow(make_workflow, """  fan:
    map: "['hang', 'fail']"
    as: item
    tool: hang_or_fail
    concurrency: 2
    isolation: process
""")
    began = time.monotonic()
    result = wf.run({"pid_file": str(tmp_path / "pid")})
    assert time.monotonic() - began < 5
    assert isinstance(result.error, NodeFailed)
    assert gone(pid_in(tmp_path / "pid"))


def test_cancelling_a_call_kills_its_process(make_workflow, tmp_path):
    wf = workflow(make_workflow, "  f: {tool: spin, isolation: process}\n")
    tool = wf.graph.nodes["f"].tool
    assert tool is not None
    pid_file = tmp_path / "pid"

    async def cancel_once_running() -> None:
        call = asyncio.ensure_future(ProcessExecutor().call(
            tool, {"pid_file": str(pid_file)}, None, StepInfo("r", None)))
        while not (pid_file.exists() and pid_file.read_text()):  # written, not just created
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(cancel_once_running())
    assert gone(pid_in(pid_file))


def test_join_any_kills_the_process_of_the_branch_it_no_longer_needs(make_workflow, tmp_path):
    wf = workflow(make_workflow, """  fan:
    parallel:
      slow: {tool: nap, with: {seconds: 0.5}}
      fast: {tool: after}
    join: any
    isolation: process
""")
    result = wf.run({"pid_file": str(tmp_path / "pid")})
    assert result.ok, result.error
    pid = pid_in(tmp_path / "pid")
    assert pid != os.getpid() and gone(pid)
