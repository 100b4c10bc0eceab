"""The measurable targets of reliability.md §6 on the running side (11, 12, 14 and 15) that no
other test checks in full: retry delays and attempt bounds, timeouts that really cancel, resuming
from every checkpoint, and JSON-only state. SECURITY.md tables every target and where it is
checked; targets 7-10 (crashes, concurrent writers, exclusive resume, signals) have their own
tests (test_crash.py, test_store.py, test_ownership.py, test_signals.py, test_durable.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wfe import NodeFailed, RunTimeout, StateError, Workflow
from wfe.engine.journal import Cursor
from wfe.engine.loop import Engine
from wfe.executors import LocalExecutor
from wfe.graph.model import RetryPolicy
from wfe.store import Store


def wfe(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wfe", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def strict_json(text: str) -> Any:
    """json.loads that refuses NaN and Infinity, which Python's json would otherwise accept."""
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def json_texts(path: Path) -> list[str]:
    """Every JSON text the store holds, in any table and column (states, updates, events...)."""
    texts: list[str] = []
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                               "'table'")]
        for table in tables:
            for column in [row[1] for row in db.execute(f"PRAGMA table_info({table})")]:
                for (value,) in db.execute(f"SELECT {column} FROM {table}"):
                    if isinstance(value, str) and value[:1] in ("{", "["):
                        texts.append(value)
    return texts


# --- target 11: retries ------------------------------------------------------------------------

ALWAYS_FAILS = """
calls = []

@tool
def fails() -> None:
    calls.append(1)
    raise ValueError("always")
"""


@pytest.fixture(scope="module")
def failing_workflow(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    folder = tmp_path_factory.mktemp("retry")
    (folder / "retry_tools.py").write_text("from wfe import tool\n" + ALWAYS_FAILS)
    (folder / "wf.yaml").write_text("imports: [retry_tools]\nnodes:\n  f: {tool: fails}\n")
    return Workflow.load(folder / "wf.yaml", entry_points=False)


policies = st.builds(
    RetryPolicy,
    attempts=st.integers(1, 8),
    delay=st.floats(0, 100),
    backoff=st.floats(1, 100),
    max_delay=st.floats(0.001, 7 * 24 * 3600),
    jitter=st.booleans(),
)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, draws=st.lists(st.floats(0, 1, exclude_max=True), min_size=8,
                                       max_size=8))
def test_retry_delays_stay_within_the_capped_exponential_and_attempts_within_the_policy(
    failing_workflow: Workflow, policy: RetryPolicy, draws: list[float],
):
    graph = failing_workflow.graph
    graph.nodes["f"].retry = policy
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # the injected clock: nothing really waits
        slept.append(seconds)

    engine = Engine(graph, run_id="r", sleep=sleep,
                    executor=LocalExecutor(), random=iter(draws).__next__)
    result = asyncio.run(engine.run(failing_workflow.initial_state()))
    assert isinstance(result.error, NodeFailed) and result.error.attempts == policy.attempts
    assert len(slept) == policy.attempts - 1
    for attempt, delay in enumerate(slept, start=2):
        ceiling = min(policy.max_delay, policy.delay * policy.backoff ** (attempt - 2))
        assert 0 <= delay <= ceiling
        if not policy.jitter:
            assert math.isclose(delay, ceiling)


def test_an_error_of_wfe_itself_is_never_retried(write_workflow):
    path = write_workflow("""
        imports: [TOOLS]
        state: {count: int}
        nodes:
          f: {tool: bad, retry: {attempts: 5, delay: 0}}
    """, "calls = []\n@tool\ndef bad() -> dict:\n    calls.append(1)\n    return {'cuont': 1}\n")
    workflow = Workflow.load(path, entry_points=False)
    result = workflow.run()
    assert isinstance(result.error, StateError)
    assert sys.modules[workflow.graph.nodes["f"].tool.fn.__module__].calls == [1]


KILLED_BETWEEN_ATTEMPTS = """
import os, signal
from wfe import tool

@tool
def flaky() -> None:
    with open("attempts.log", "a") as log:
        log.write("attempt\\n")
    with open("attempts.log") as log:
        made = len(log.readlines())
    if made == 2:  # the process dies as its second attempt begins
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError(f"attempt {made} failed")
"""


def test_attempts_stay_within_the_policy_even_with_a_kill_between_them(tmp_path: Path):
    (tmp_path / "kill_tools.py").write_text(KILLED_BETWEEN_ATTEMPTS)
    (tmp_path / "wf.yaml").write_text("imports: [kill_tools]\nnodes:\n"
                                      "  f: {tool: flaky, retry: {attempts: 2, delay: 0}}\n")
    store = str(tmp_path / "wfe.db")
    assert wfe("run", "wf.yaml", "--quiet", "--store", store, cwd=tmp_path).returncode == -9
    with Store.open(store) as opened:
        run_id = opened.list_runs()[0].run_id
    resumed = wfe("resume", run_id, "--quiet", "--store", store, cwd=tmp_path)
    assert resumed.returncode == 1, resumed.stderr
    assert "attempt 2 began before the process stopped" in resumed.stderr
    assert len((tmp_path / "attempts.log").read_text().splitlines()) <= 2


def test_a_resumed_step_goes_on_from_the_attempt_a_kill_cut_short(tmp_path: Path):
    (tmp_path / "kill_tools.py").write_text(KILLED_BETWEEN_ATTEMPTS.replace(
        'raise RuntimeError(f"attempt {made} failed")',
        'if made == 1:\n        raise RuntimeError("attempt 1 failed")\n    return {"made": made}'))
    (tmp_path / "wf.yaml").write_text("imports: [kill_tools]\nstate: {made: int}\nnodes:\n"
                                      "  f: {tool: flaky, retry: {attempts: 3, delay: 0}}\n")
    store = str(tmp_path / "wfe.db")
    assert wfe("run", "wf.yaml", "--quiet", "--store", store, cwd=tmp_path).returncode == -9
    with Store.open(store) as opened:
        run_id = opened.list_runs()[0].run_id
    resumed = wfe("resume", run_id, "--quiet", "--store", store, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    with Store.open(store) as opened:
        [step] = opened.steps(run_id)
        assert (step.attempt, step.updates) == (3, {"made": 3})


# --- target 12: timeouts ---------------------------------------------------------------------

def test_an_async_tool_past_its_timeout_is_cancelled(write_workflow):
    path = write_workflow("""
        imports: [TOOLS]
        nodes:
          wait: {tool: wait, timeout: 0.1}
    """, """
        import asyncio
        seen = []
        @tool
        async def wait() -> None:
            try:
                await asyncio.sleep(600)
            except asyncio.CancelledError:
                seen.append("cancelled")
                raise
    """)
    workflow = Workflow.load(path, entry_points=False)
    result = workflow.run()
    assert isinstance(result.error, NodeFailed) and result.error.error_type == "TimeoutError"
    assert sys.modules[workflow.graph.nodes["wait"].tool.fn.__module__].seen == ["cancelled"]


def test_a_sync_tool_past_its_timeout_is_recorded_as_a_timeout_in_the_store(write_workflow):
    path = write_workflow("""
        imports: [TOOLS]
        nodes:
          wait: {tool: wait, timeout: 0.1}
    """, "import time\n@tool\ndef wait() -> None:\n    time.sleep(1)\n")
    store = str(path.parent / "timeouts.db")
    done = wfe("run", path.name, "--quiet", "--store", store, cwd=path.parent)
    assert done.returncode == 1, done.stderr
    with Store.open(store) as opened:
        [run] = opened.list_runs()
        assert run.status == "failed"
        assert run.error is not None and "TimeoutError" in json.dumps(run.error)


ABANDONED = """
import threading
release = threading.Event()

@tool
def stuck() -> None:
    release.wait(60)
"""


def test_workflow_run_returns_without_waiting_for_a_tool_abandoned_at_its_timeout(
    write_workflow,
):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  stuck: {tool: stuck, timeout: 0.1}\n",
                          ABANDONED)
    workflow = Workflow.load(path, entry_points=False)
    results: list = []
    caller = threading.Thread(target=lambda: results.append(workflow.run()), daemon=True)
    caller.start()
    caller.join(timeout=30)  # a hang guard: the tool itself would wait 60 s
    module = sys.modules[workflow.graph.nodes["stuck"].tool.fn.__module__]
    module.release.set()
    assert results, "Workflow.run() waited for the abandoned tool"
    assert isinstance(results[0].error, NodeFailed)
    assert results[0].error.error_type == "TimeoutError"


def test_wfe_run_exits_after_a_grace_period_when_a_tool_abandoned_at_its_timeout_runs_on(
    write_workflow,
):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  stuck: {tool: stuck, timeout: 0.1}\n",
                          ABANDONED)
    done = wfe("run", path.name, "--quiet", "--no-store", cwd=path.parent, timeout=40)
    assert done.returncode == 1, done.stderr
    assert "timed out" in done.stderr and "waiting up to 5 s" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_run_deadline_stops_a_loop_that_never_ends(write_workflow):
    path = write_workflow("""
        imports: [TOOLS]
        state: {i: {type: int, default: 0}}
        limits: {timeout: 0.3, max_steps: 100000000}
        nodes:
          spin:
            tool: spin
            next:
              - {when: i >= 0, then: spin}
              - then: end
    """, "@tool\ndef spin(i: int) -> dict:\n    return {'i': i + 1}\n")
    result = Workflow.load(path, entry_points=False).run()
    assert isinstance(result.error, RunTimeout)
    assert result.steps > 1


# --- target 14: resuming from every checkpoint gives the reference run -------------------------

REFERENCE_TOOLS = """
from wfe import tool

@tool
def count(i: int, ctx) -> dict:
    return {"i": i + 1, "trail": f"{ctx.node}@{ctx.step}"}

@tool
def square(item: int) -> int:
    return item * item

@tool
def left(i: int) -> dict:
    return {"sides": ["left", i]}

@tool
def right(i: int) -> dict:
    return {"sides": ["right", i * 2]}
"""

REFERENCE_WORKFLOW = """
imports: [reference_tools]
state:
  i: {type: int, default: 0}
  trail: {type: "list[str]", reduce: append}
  sides: {type: list, reduce: append}
  squares: list
nodes:
  count:
    tool: count
    next:
      - {when: "i % 3 == 0", then: fan}
      - {when: "i < 7", then: count}
      - then: squares
  fan:
    parallel:
      l: {tool: left}
      r: {tool: right}
    next: count
  squares:
    map: "[i, i + 1, visits.count]"
    tool: square
    collect: squares
"""


def test_resuming_from_every_checkpoint_ends_in_the_reference_state_and_trace(tmp_path: Path):
    (tmp_path / "reference_tools.py").write_text(REFERENCE_TOOLS)
    (tmp_path / "wf.yaml").write_text(REFERENCE_WORKFLOW)
    store_path = str(tmp_path / "wfe.db")
    done = wfe("run", "wf.yaml", "--quiet", "--store", store_path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Store.open(store_path) as store:
        [run] = store.list_runs()
        steps = store.steps(run.run_id, states=True)
        reference = store.get_run(run.run_id).state
    trail = [s.node for s in steps]
    assert len(steps) == 10 and {"count", "fan", "squares"} <= set(trail)
    workflow = Workflow.load(tmp_path / "wf.yaml", entry_points=False)
    for index, checkpoint in enumerate(steps[:-1]):
        events: list[dict[str, Any]] = []
        cursor = Cursor(checkpoint.next_node, dict(checkpoint.visits), checkpoint.step)
        result = asyncio.run(workflow.arun(state=json.loads(json.dumps(checkpoint.state)),
                                           cursor=cursor, listeners=[events.append]))
        resumed = [e["node"] for e in events
                   if e["event"] == "node_finished" and "/" not in e["node"]
                   and "[" not in e["node"]]
        assert result.state == reference, f"resumed after step {checkpoint.step}"
        assert resumed == trail[index + 1:], f"resumed after step {checkpoint.step}"


# --- target 15: JSON-only state --------------------------------------------------------------

NON_JSON_TOOLS = """
import datetime
from wfe import tool

def deep(levels):
    value = {}
    for _ in range(levels):
        value = {"a": value}
    return value

cyclic = {}
cyclic["self"] = cyclic
VALUES = {
    "set": lambda: {1, 2}, "bytes": lambda: b"x", "nan": lambda: float("nan"),
    "inf": lambda: float("-inf"), "tuple": lambda: (1, 2), "object": object,
    "date": lambda: datetime.date(2024, 1, 1), "int keys": lambda: {1: 2},
    "cyclic": lambda: cyclic, "deep": lambda: deep(5000), "generator": lambda: iter([1]),
    "nested nan": lambda: {"a": [1.0, float("nan")]}, "huge int": lambda: 10 ** 5000,
    "nested huge int": lambda: {"a": [1, -10 ** 5000]},
}

@tool
def give(kind: str) -> dict:
    return {"x": VALUES[kind]()}
"""

NON_JSON_WORKFLOW = """
imports: [non_json_tools]
state:
  kind: {type: str, required: true}
  x: any
nodes:
  give: {tool: give}
"""
NON_JSON = ["set", "bytes", "nan", "inf", "tuple", "object", "date", "int keys", "cyclic",
            "deep", "generator", "nested nan"]


def run_each(tmp_path: Path, kinds: list[str]) -> dict[str, tuple[int, str, Path]]:
    """One `wfe run` per kind of value, all at once, each with its own store: for each, the exit
    code, stderr and the store."""
    (tmp_path / "non_json_tools.py").write_text(NON_JSON_TOOLS)
    (tmp_path / "wf.yaml").write_text(NON_JSON_WORKFLOW)
    started = {}
    for number, kind in enumerate(kinds):
        store = tmp_path / f"wfe{number}.db"
        command = [sys.executable, "-m", "wfe", "run", "wf.yaml", "--quiet", "-i", f"kind={kind}",
                   "--store", str(store)]
        started[kind] = (subprocess.Popen(command, cwd=tmp_path, stderr=subprocess.PIPE,
                                          stdout=subprocess.DEVNULL, text=True), store)
    return {kind: (process.wait(timeout=300), process.stderr.read(), store)  # type: ignore[union-attr]
            for kind, (process, store) in started.items()}


def test_a_tool_returning_a_value_that_is_not_json_fails_its_node_and_the_store_stays_json(
    tmp_path: Path,
):
    for kind, (code, stderr, store) in run_each(tmp_path, NON_JSON).items():
        assert code == 1, (kind, stderr)
        assert stderr.startswith("error: node 'give': state key 'x' must be any, got "), kind
        assert "Traceback" not in stderr
        with Store.open(store) as opened:
            [run] = opened.list_runs()
            assert run.status == "failed", kind
        for text in json_texts(store):
            strict_json(text)


def test_an_integer_too_long_for_json_fails_its_node(tmp_path: Path):
    for kind, (code, stderr, store) in run_each(tmp_path, ["huge int", "nested huge int"]).items():
        assert code == 1, (kind, stderr)
        assert stderr.startswith("error: node 'give': state key 'x' "), stderr
        assert "4300 digits" in stderr and "Traceback" not in stderr
        with Store.open(store) as opened:
            assert opened.list_runs()[0].status == "failed", kind
