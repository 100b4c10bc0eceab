"""Where a tool call runs, as the engine sees it: the one Protocol every executor meets.

The engine decides what to call; an executor decides where. The engine knows no executor by name
and builds none: whoever starts a run gives it one (`Workflow.run` and `wfe serve` give
wfe.executors.LocalExecutor, this process), and a cluster's for fan-out when one is chosen. The
executors themselves (this process, a child process, a Dask cluster, a plug-in found by its URL
scheme in the `wfe.executors` entry-point group) live in wfe.executors, above the engine.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from wfe.tools.context import StepInfo
from wfe.tools.registry import ToolDef

__all__ = ["Executor"]


class Executor(Protocol):
    """Where tool calls run. `call` returns what the tool returned (or raises what it raised).

    `allows_inline`: the engine may call a sync tool of a node without a timeout itself, on its
    own thread, instead of through `call` (only an executor that would run it in this process
    anyway says yes). `isolated()`: the executor for a node with `isolation: process`; itself
    when its calls already run apart from wfe. `check` is called before a run with the tools its
    fan-out nodes call: it raises ExecutorError (naming the tool, its module and the worker) when
    one cannot be imported where calls run. `close` releases what the executor holds (and stops a
    cluster it started); calls still in flight end.

    Cancelling the task that awaits `call` is how the engine asks the executor to drop the call
    (a failed sibling, a `join: any` already met, `wfe cancel` during a fan-out step): the
    executor then stops it where it runs if it can (a cluster cancels its future, the process
    executor kills the process) and lets the cancellation through.
    """

    @property
    def allows_inline(self) -> bool: ...

    def isolated(self) -> Executor: ...

    async def call(
        self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, step: StepInfo
    ) -> Any: ...

    def check(self, tools: Collection[ToolDef]) -> None: ...

    def close(self) -> None: ...
