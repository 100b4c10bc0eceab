"""Executors behind one Protocol: the engine asks them what they allow instead of knowing their
classes, and `isolation: process` is an executor of its own."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

import pytest

from wfe import Workflow
from wfe.context import StepInfo
from wfe.executor import Executor, LocalExecutor
from wfe.isolation import ProcessExecutor
from wfe.registry import ToolDef

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


def test_a_workflow_runs_the_same_with_the_executor_given_as_an_object(make_workflow):
    wf: Workflow = make_workflow(MAP, TOOLS)
    assert wf.run({}, executor=LocalExecutor()).state == wf.run({}).state
