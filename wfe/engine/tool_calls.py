"""A tool's call: its retries, where it runs (inline, a thread, a process, a cluster) and the
updates it writes. The engine is a ToolCalls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from wfe.engine.cache import Cache
from wfe.engine.executor import Executor
from wfe.engine.journal import AttemptCutShort, Attempts
from wfe.engine.run_commits import RunCommits
from wfe.engine.run_context import Sleep
from wfe.engine.tool_failure import ToolFailure, retryable
from wfe.graph.model import Graph, GraphNode
from wfe.redact import remember
from wfe.state.schema import State
from wfe.tools.binding import Scope, updates_of
from wfe.tools.context import StepInfo, begin_output, current_step, stop_output
from wfe.tools.registry import CONTEXT_PARAM

__all__ = ["ToolCalls"]


class ToolCalls(RunCommits):
    """The tool-calling side of a run: what its engine has that a call needs."""

    __slots__ = ("_last_shown",)  # the engine declares the rest of its attributes

    graph: Graph
    state: State
    scope: Scope
    visits: dict[str, int]
    info: StepInfo
    executor: Executor
    fanout: Executor
    inline_sync: bool
    cache: Cache | None
    attempts: Attempts
    sleep: Sleep
    #: A number in [0, 1) for retry jitter (the engine's own source).
    random: Callable[[], float]
    _last_shown: tuple[dict[str, Any], dict[str, Any]]

    async def call(self, node: GraphNode, label: str, kwargs: dict[str, Any], info: StepInfo,
                   inline: bool, *, fanout: bool = False) -> tuple[int, Any, float]:
        """Call the node's tool with its retries: (attempts made, the result, when it began).

        `label` names the call in events: the node, a branch (`fan/lint`) or an item (`map[3]`).
        `fanout`: a branch's or an item's call, which goes to the fan-out executor.
        """
        tool = node.tool
        assert tool is not None
        active = self.bus.active
        attempt = 1 if fanout else self.attempts.first(info.step)
        if attempt > node.retry.attempts:
            raise ToolFailure(AttemptCutShort(attempt - 1), attempt - 1)
        while True:
            info.attempt = attempt
            if node.wants_context:
                kwargs[CONTEXT_PARAM] = info.context()
            if active:
                self._emit("node_started", {"node": label, "step": info.step,
                                            "attempt": attempt})
            began = time.monotonic() if active else 0.0
            try:
                if inline and info is current_step():  # the hot path: a flag, no frame
                    info.in_tool = True
                    try:
                        result = tool.fn(**kwargs)
                    finally:
                        info.in_tool = False
                        if info.partial:
                            info.end_output()
                elif inline:  # a map item's or a branch's own step
                    token = begin_output(info)
                    try:
                        result = tool.fn(**kwargs)
                    finally:
                        stop_output(token)
                        if info.partial:
                            info.end_output()
                else:
                    executor = self.fanout if fanout else self.executor
                    if node.isolation == "process":
                        executor = executor.isolated()
                    result = await executor.call(tool, kwargs, node.timeout, info)
            except Exception as error:  # tools may raise anything
                if isinstance(error, TimeoutError) and not str(error):
                    error = TimeoutError(f"timed out after {node.timeout:g} s")
                self._emit_failed(label, info.step, attempt, error)
                if attempt >= node.retry.attempts or not retryable(error, node.retry.on):
                    raise ToolFailure(error, attempt) from error
                attempt += 1
                await self.sleep(node.retry.delay_before(attempt, self.random()))
                if not fanout:
                    self.attempts.started(info.step, attempt)
                continue
            return attempt, result, began

    def _commit(
        self, node: GraphNode, kwargs: dict[str, Any], result: Any, step: int, began: float
    ) -> dict[str, Any]:
        updates = updates_of(node, kwargs, self.state, result)
        written = self.graph.schema.apply(self.state, updates, node.name) if updates else {}
        secret_keys = self.graph.schema.secret_keys
        if secret_keys and not secret_keys.isdisjoint(written):
            remember(written[key] for key in secret_keys if key in written)
        if self.bus.active:
            shown = self.graph.schema.mask(written)
            self._last_shown = (written, shown)
            self._emit("node_finished", {
                "node": node.name,
                "step": step,
                "duration_ms": round((time.monotonic() - began) * 1000, 3),
                "updates": shown,
            })
        return written

    def _shown(self, written: dict[str, Any]) -> dict[str, Any]:
        """The updates as events show them: the node_finished event's own dict when it has one
        (so that the store encodes them once, for the step and its event)."""
        last = self._last_shown
        return last[1] if last[0] is written else self.graph.schema.mask(written)
