"""Executors behind one Protocol: the engine asks them what they allow instead of knowing their
classes, `isolation: process` is an executor of its own, and executors come from installed
packages' `wfe.executors` entry points, picked by the scheme of `--executor`."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe import UsageError, Workflow
from wfe.cli import app
from wfe.executors import cluster
from wfe.executors.executor import Executor, LocalExecutor
from wfe.executors.isolation import ProcessExecutor
from wfe.tools.context import StepInfo
from wfe.tools.registry import ToolDef

runner = CliRunner()

TOOLS = """
import os, threading

@tool
def where(item: int) -> dict:
    return {"thread": threading.current_thread().name, "pid": os.getpid()}
"""

MAP = """
imports: [TOOLS]
state:
  xs: {type: list, default: [1, 2]}
  out: list
nodes:
  each: {map: xs, tool: where, concurrency: 1, collect: out}
"""


class Counting(LocalExecutor):
    """Runs calls here and counts the calls made through it; `allows_inline` as told."""

    def __init__(self, allows_inline: bool, isolated_to: Executor | None = None) -> None:
        self.allows_inline = allows_inline  # type: ignore[misc]
        self.isolated_to = isolated_to
        self.calls: list[str] = []

    def isolated(self) -> Any:
        return self.isolated_to if self.isolated_to is not None else self

    async def call(self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None,
                   step: StepInfo) -> Any:
        self.calls.append(tool.name)
        return await super().call(tool, kwargs, timeout, step)

    def check(self, tools: Collection[ToolDef]) -> None:
        return None


@pytest.mark.parametrize(("allows_inline", "calls"), [(True, 0), (False, 2)])
def test_the_engine_calls_a_sync_tool_inline_only_where_the_executor_allows(
        make_workflow, allows_inline, calls):
    executor = Counting(allows_inline)
    result = make_workflow(MAP, TOOLS).run({}, executor=executor)
    assert result.status == "succeeded", result.error
    assert len(executor.calls) == calls
    on_engine_thread = {entry["thread"] == threading.current_thread().name
                        for entry in result.state["out"]}
    assert on_engine_thread == {allows_inline}


def test_a_node_with_process_isolation_goes_to_the_executors_isolated_one(make_workflow):
    isolated = Counting(False)
    executor = Counting(False, isolated_to=isolated)
    result = make_workflow(MAP.replace("collect: out}", "collect: out, isolation: process}"),
                           TOOLS).run({}, executor=executor)
    assert result.status == "succeeded", result.error
    assert (executor.calls, isolated.calls) == ([], ["where", "where"])


def test_process_isolation_is_the_local_executors_isolated_executor():
    process = LocalExecutor().isolated()
    assert isinstance(process, ProcessExecutor)
    assert process.isolated() is process
    assert not process.allows_inline


# --- executors from installed packages ---------------------------------------------------------

PLUGIN = """
from wfe.executors.executor import LocalExecutor

OPENED = []

class Remote(LocalExecutor):
    allows_inline = False
    def __init__(self, address, options):
        self.address, self.options, self.closed = address, options, False
    def close(self):
        self.closed = True

def open_executor(address, options, origin):
    opened = Remote(address, options)
    OPENED.append(opened)
    return opened

broken = 42

def refuses(address, options, origin):
    raise ConnectionError("no head node at " + str(address))
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An installed distribution declaring the `far` and `odd` executors."""
    (tmp_path / "far_executor.py").write_text(PLUGIN)
    info = tmp_path / "far-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: far\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[wfe.executors]\nfar = far_executor:open_executor\nodd = far_executor:broken\n"
        "dask = far_executor:open_executor\nshy = far_executor:refuses\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "far_executor", raising=False)
    cluster.plugin_schemes.cache_clear()
    import far_executor  # type: ignore[import-not-found]

    yield far_executor
    cluster.plugin_schemes.cache_clear()


def test_the_scheme_of_an_executor_url_picks_an_installed_executor(plugin):
    opened = cluster.open_executor("far://anything/at:all?region=eu&size=2", "--executor")
    assert opened is plugin.OPENED[0]
    assert (opened.address, opened.options) == ("anything/at:all", {"region": "eu", "size": "2"})


def test_a_run_sends_its_fan_out_to_an_installed_executor_and_closes_it(plugin, write_workflow):
    path = write_workflow(MAP, TOOLS)
    result = runner.invoke(app, ["run", str(path), "--no-store", "--executor", "far"])
    assert result.exit_code == 0, result.output
    assert plugin.OPENED[0].address is None and plugin.OPENED[0].closed


def test_a_built_in_scheme_cannot_be_taken_over(plugin):
    assert "dask" not in cluster.plugin_schemes()
    assert not cluster.parse_executor("dask").plugin  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "says"), [
    ("odd", "entry point odd = far_executor:broken is not a function"),
    ("nowhere://x", "unknown executor 'nowhere://x'; use local, dask, dask://HOST:PORT, "
                    "far://..., odd://..., shy://..."),
    ("shy://h:1", "the shy executor cannot open 'shy://h:1': ConnectionError: no head node at h:1"),
    ("far://", "nothing after 'far://'"),
    ("far?flag", "unknown or empty option 'flag'"),
])
def test_a_bad_installed_executor_is_a_usage_error(plugin, text, says):
    with pytest.raises(UsageError, match="^--executor: .*" + says.replace("?", r"\?")
                       .replace(".", r"\.").replace("/", "/")):
        cluster.open_executor(text, "--executor")


def test_built_in_schemes_read_no_entry_points(monkeypatch: pytest.MonkeyPatch):
    def scan() -> dict[str, str]:
        raise AssertionError("entry points read for a built-in scheme")

    monkeypatch.setattr(cluster, "plugin_schemes", scan)
    assert cluster.parse_executor("local") is None
    assert cluster.parse_executor("dask://h:1") == cluster.ExecutorURL("dask", "h:1")


def test_a_workflow_runs_the_same_with_the_executor_given_as_an_object(make_workflow):
    wf: Workflow = make_workflow(MAP, TOOLS)
    assert wf.run({}, executor=LocalExecutor()).state == wf.run({}).state


# --- one codec for every call run elsewhere ----------------------------------------------------

def _through_a_cluster_worker(tool: ToolDef, kwargs: dict[str, Any], step: StepInfo) -> Any:
    from wfe.executors.remote.payload import pack_call, pickled_function, unpack_outcome
    from wfe.executors.remote.worker import run_call

    function = pickled_function(tool, "the cluster", main_by_value=True)
    return unpack_outcome(run_call(pack_call(tool, function, kwargs, step, "the cluster")),
                          kwargs, step)


@pytest.mark.parametrize("where", ["a worker process", "the cluster"])
def test_an_argument_that_cannot_travel_is_the_same_error_wherever_it_goes(make_workflow, where):
    from wfe.executors.remote.payload import SerialisationError

    tool = make_workflow(MAP, TOOLS).graph.nodes["each"].tool
    step = StepInfo("r", None)
    step.node = "each[0]"
    kwargs = {"item": threading.Lock()}
    with pytest.raises(SerialisationError, match=(
            rf"^node 'each\[0\]': argument 'item' of tool 'where' cannot be serialised for "
            rf"{where}: TypeError: cannot pickle '_thread.lock' object$")):
        if where == "the cluster":
            _through_a_cluster_worker(tool, kwargs, step)
        else:
            asyncio.run(ProcessExecutor().call(tool, kwargs, None, step))
