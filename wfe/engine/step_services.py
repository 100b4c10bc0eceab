"""What a node kind's run step may ask of the run besides a tool call (`execute`): the run's
compound steps, a person's answer, and durable timers. The engine is a StepServices.

The kinds (wfe.nodes) see the run only through RunContext, which declares these; the work itself
is the engine's (wfe.engine.fanout, wfe.engine.subgraph, wfe.engine.interrupts,
wfe.engine.cancel_watch), so that compiling a graph, which reaches the kinds, imports no engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from wfe.engine.cancel_watch import sleep_until
from wfe.engine.fanout import run_compound, run_map, run_parallel, run_workflow
from wfe.engine.interrupts import answer, committed_deadline, interrupt_values, timed_out
from wfe.engine.run_context import RunContext
from wfe.graph.model import GraphNode

__all__ = ["StepServices"]

Outcome = tuple[int, dict[str, Any]]


class StepServices:
    """The services of RunContext that run a step's work in the engine."""

    __slots__ = ()  # the engine declares its attributes

    def run_branches(self: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run_compound(self, node, run_parallel)

    def run_items(self: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run_compound(self, node, run_map)

    def run_subgraph(self: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run_compound(self, node, run_workflow)

    def interrupt(self: RunContext, node: GraphNode) -> Outcome:
        values = interrupt_values(self, node)
        if values is None:
            return 1, timed_out(self, node)
        return 1, answer(self, node, values)

    def deadline(self: RunContext, node: GraphNode, seconds: Callable[[], float]) -> float:
        return committed_deadline(self, node, seconds)

    def sleep_until(self: RunContext, deadline: float) -> Awaitable[None]:
        return sleep_until(self, deadline)
