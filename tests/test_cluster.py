"""Choosing where fan-out runs (`--executor`, WFE_EXECUTOR, `[tool.wfe] executor`), which calls
go to a cluster executor, and `wfe cancel` reaching a fan-out step in flight. No Dask needed: a
recording executor stands in for a cluster."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe import UsageError, Workflow
from wfe.cli import app
from wfe.engine.cancel_watch import stop_on_cancel
from wfe.engine.interrupts import Stop
from wfe.executors.cluster import ExecutorURL, chosen_executor, parse_executor, remote_tools
from wfe.executors.executor import LocalExecutor
from wfe.spec.project_config import executor_setting
from wfe.store import Store
from wfe.store.journal import StoreJournal, new_run
from wfe.tools.context import StepInfo
from wfe.tools.registry import ToolDef

runner = CliRunner()


@pytest.mark.parametrize(("text", "parsed"), [
    ("local", None),
    (" local ", None),
    ("dask", ExecutorURL("dask", None)),
    ("dask://127.0.0.1:8786", ExecutorURL("dask", "127.0.0.1:8786")),
    ("dask://scheduler.example:9000", ExecutorURL("dask", "scheduler.example:9000")),
    ("dask?workers=2&threads=1", ExecutorURL("dask", None, {"workers": "2", "threads": "1"})),
    ("dask://h:1?no_workers_timeout=5", ExecutorURL("dask", "h:1", {"no_workers_timeout": "5"})),
])
def test_executor_urls_parse(text, parsed):
    assert parse_executor(text) == parsed


@pytest.mark.parametrize(("text", "says"), [
    ("ray://h:1", "unknown executor 'ray://h:1'"),
    ("", "unknown executor ''"),
    ("dask://", "unknown executor 'dask://'"),
    ("local?workers=2", "unknown executor"),
    ("dask://host", "the address must be HOST:PORT"),
    ("dask://host:port", "the address must be HOST:PORT"),
    ("dask://h:1/path", "the address must be HOST:PORT"),
    ("dask?bogus=1", "unknown or empty option 'bogus'"),
    ("dask?workers=", "unknown or empty option 'workers'"),
])
def test_bad_executor_urls_are_usage_errors_naming_their_origin(text, says):
    with pytest.raises(UsageError) as caught:
        parse_executor(text, "[tool.wfe] executor")
    assert str(caught.value).startswith("[tool.wfe] executor: ")
    assert says in str(caught.value)


def test_the_flag_wins_over_the_environment_which_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.wfe]\nexecutor = "dask://p:1"\n')
    env = {"WFE_EXECUTOR": "dask://e:1"}
    assert executor_setting("dask://f:1", cwd=tmp_path, environ=env) == ("dask://f:1",
                                                                         "--executor")
    assert executor_setting(None, cwd=tmp_path, environ=env) == ("dask://e:1", "WFE_EXECUTOR")
    value, origin = executor_setting(None, cwd=tmp_path, environ={})
    assert value == "dask://p:1"
    assert origin.endswith("pyproject.toml: [tool.wfe] executor")
    assert executor_setting(None, cwd=tmp_path / "..", environ={})[0] in ("local", "dask://p:1")


def test_the_default_executor_is_local(tmp_path):
    assert executor_setting(None, cwd=tmp_path, environ={}) == ("local", "the default")


def test_a_non_string_executor_in_pyproject_is_a_usage_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.wfe]\nexecutor = 3\n")
    with pytest.raises(UsageError, match=r"\[tool.wfe\] executor must be a string"):
        executor_setting(None, cwd=tmp_path, environ={})


def test_a_missing_extra_tells_how_to_install_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(UsageError, match=r"--executor: .*pip install 'wfe\[dask\]'"):
        chosen_executor("dask://127.0.0.1:8786")


FLOW = """
imports: [TOOLS]
state:
  xs: {type: list, default: [1, 2, 3]}
  ys: list
nodes:
  twice: {map: xs, as: x, tool: double, collect: ys}
"""
DOUBLE = """
@tool
def double(x: int) -> int:
    return 2 * x
"""


@pytest.mark.parametrize(("where", "args", "origin"), [
    ("flag", ["--executor", "spark://h:1"], "--executor"),
    ("environment", [], "WFE_EXECUTOR"),
    ("pyproject", [], "[tool.wfe] executor"),
])
def test_wfe_run_refuses_an_unknown_executor_with_exit_2(write_workflow, tmp_path, monkeypatch,
                                                         where, args, origin):
    path = write_workflow(FLOW, DOUBLE)
    if where == "environment":
        monkeypatch.setenv("WFE_EXECUTOR", "spark://h:1")
    if where == "pyproject":
        (tmp_path / "pyproject.toml").write_text('[tool.wfe]\nexecutor = "spark://h:1"\n')
        monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--no-store", *args])
    assert result.exit_code == 2
    assert origin in result.stderr
    assert "unknown executor 'spark://h:1'" in result.stderr
    assert "Traceback" not in result.output


def test_wfe_resume_refuses_an_unknown_executor_with_exit_2():
    result = runner.invoke(app, ["resume", "nosuchrun", "--executor", "nope"])
    assert result.exit_code == 2
    assert "--executor: unknown executor 'nope'" in result.stderr


def test_executor_local_runs_as_before(write_workflow):
    path = write_workflow(FLOW, DOUBLE)
    result = runner.invoke(app, ["run", str(path), "--no-store", "--executor", "local"])
    assert result.exit_code == 0, result.output
    assert '"ys": [\n    2,\n    4,\n    6\n  ]' in result.stdout


# --- which calls go to the cluster ---------------------------------------------------------

class Recording:
    """A stand-in for a cluster executor: runs calls locally and records their tools."""

    def __init__(self) -> None:
        self.local = LocalExecutor()
        self.calls: list[str] = []
        self.checked: list[str] = []
        self.closed = False

    allows_inline = False

    def isolated(self) -> Recording:
        return self

    async def call(self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None,
                   step: StepInfo) -> Any:
        self.calls.append(tool.name)
        return await self.local.call(tool, kwargs, timeout, step)

    def check(self, tools: Collection[ToolDef]) -> None:
        self.checked = sorted(tool.name for tool in tools)

    def close(self) -> None:
        self.closed = True


TOOLS = """
@tool
def plain(n: int) -> dict:
    return {"n": n + 1}

@tool
def left(n: int) -> dict:
    return {"a": n}

@tool
def right(n: int) -> dict:
    return {"b": n}

@tool
def inner(x: int) -> dict:
    return {"y": x * 10}

@tool
def inner_branch(x: int) -> dict:
    return {"z": x}

@tool
def item(x: int) -> int:
    return x + 100

@tool
async def slow(x: int, release: str) -> int:
    import asyncio, pathlib
    while not pathlib.Path(release).exists():
        await asyncio.sleep(0.02)
    return x
"""

CHILD = """
imports: [TOOLS]
state:
  x: {type: int, required: true}
  y: int
  z: int
nodes:
  first: {tool: inner, next: fan}
  fan:
    parallel: {side: {tool: inner_branch}}
"""


def _routing_workflow(write_workflow, tmp_path: Path) -> Workflow:
    child = write_workflow(CHILD, TOOLS, module="routing_tools")
    (tmp_path / "child.yaml").write_text(child.read_text())
    parent = write_workflow("""
        imports: [routing_tools]
        state:
          n: {type: int, default: 1}
          a: int
          b: int
          xs: {type: list, default: [1, 2]}
          ys: list
          zs: list
          y: int
          z: int
        nodes:
          start: {tool: plain, next: fan}
          fan:
            parallel: {l: {tool: left}, r: {tool: right}}
            next: items
          items: {map: xs, as: x, tool: item, collect: ys, next: subs}
          subs:
            map: xs
            as: x
            workflow: child.yaml
            inputs: {x: x}
            outputs: {y: y}
            collect: zs
            next: once
          once:
            workflow: child.yaml
            inputs: {x: n}
            outputs: {y: y, z: z}
        """, module="routing_tools")
    return Workflow.load(parent, entry_points=False)


def test_fan_out_calls_go_to_the_fan_out_executor_and_plain_nodes_stay_here(write_workflow,
                                                                            tmp_path):
    workflow = _routing_workflow(write_workflow, tmp_path)
    cluster = Recording()
    result = workflow.run(executor=cluster)
    assert result.status == "succeeded", result.error
    assert sorted(cluster.calls) == sorted([
        "left", "right",                                    # parallel branches
        "item", "item",                                     # map items
        "inner", "inner_branch", "inner", "inner_branch",   # every call of a map item's subgraph
        "inner_branch",                                     # a subgraph's own parallel branch
    ])  # not: `plain`, nor `inner` of the plain `once` subgraph
    assert cluster.checked == ["inner", "inner_branch", "item", "left", "right"]
    assert not cluster.closed  # the caller's executor: the caller closes it


def test_results_are_the_same_on_the_fan_out_executor_as_locally(write_workflow, tmp_path):
    workflow = _routing_workflow(write_workflow, tmp_path)
    assert workflow.run(executor=Recording()).state == workflow.run().state


def test_remote_tools_are_those_a_cluster_may_be_asked_to_call(write_workflow, tmp_path):
    graph = _routing_workflow(write_workflow, tmp_path).graph
    assert sorted(t.name for t in remote_tools(graph)) == [
        "inner", "inner_branch", "item", "left", "right"]


# --- `wfe cancel` during a fan-out step on a cluster -----------------------------------------

def test_stop_on_cancel_cancels_the_step_and_stops_the_run_as_cancelled():
    cancelled = []

    async def work() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        flag = []
        asyncio.get_running_loop().call_later(0.1, flag.append, True)
        await stop_on_cancel(work(), lambda: bool(flag), every=0.02)

    with pytest.raises(Stop) as caught:
        asyncio.run(asyncio.wait_for(main(), 10))
    assert caught.value.status == "cancelled"
    assert cancelled == [True]


def test_stop_on_cancel_returns_the_result_when_nobody_cancels():
    async def work() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert asyncio.run(stop_on_cancel(work(), lambda: False, every=0.005)) == 7


def test_wfe_cancel_reaches_a_map_in_flight_on_a_cluster_executor(write_workflow, tmp_path):
    release = tmp_path / "release"
    path = write_workflow("""
        imports: [TOOLS]
        state:
          xs: {type: list, default: [1, 2, 3]}
          ys: list
          release: str
        nodes:
          wait: {map: xs, as: x, tool: slow, collect: ys}
        """, TOOLS)
    workflow = Workflow.load(path, entry_points=False)
    inputs = {"release": str(release)}
    state = workflow.initial_state(inputs)
    outcome: list[Any] = []
    with Store.open(tmp_path / "wfe.db") as store:
        lease = store.create_run(new_run(workflow.graph, "r1", inputs, state))
        journal = StoreJournal(store, lease, workflow.graph)
        thread = threading.Thread(target=lambda: outcome.append(workflow.run(
            inputs, run_id="r1", journal=journal, executor=Recording())))
        thread.start()
        time.sleep(0.3)
        with Store.open(tmp_path / "wfe.db") as other:
            other.request_cancel("r1")
        thread.join(20)
        alive = thread.is_alive()
        release.write_text("")
        assert not alive
    assert outcome[0].status == "cancelled"


def test_a_workflow_with_nothing_to_fan_out_never_reaches_the_cluster(write_workflow):
    pytest.importorskip("distributed")
    path = write_workflow("""
        imports: [TOOLS]
        state:
          n: {type: int, default: 1}
        nodes:
          start: {tool: plain}
        """, TOOLS)
    result = runner.invoke(app, ["run", str(path), "--no-store", "--executor",
                                 "dask://127.0.0.1:1"])  # nobody listens there
    assert result.exit_code == 0, result.output
    assert '"n": 2' in result.stdout
