"""What a node kind may use of the run it is a step of: the one interface between the engine
and the kinds (wfe.nodes), the fan-out runner, subgraphs and the cache.

The engine (wfe.engine.loop.Engine) is the one implementation; nothing here imports it. The kinds
import this module for type checking only: their run steps reach the engine's work (a tool call,
fan-out, a subgraph, an interrupt, a timer) through these members, so that the kinds, which the
compiler reaches, import no engine at run time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from wfe.engine.cache import Cache
from wfe.engine.events import EventBus
from wfe.engine.executor import Executor
from wfe.engine.journal import Cursor, FinishedItems, Journal, SlotSource
from wfe.engine.result import RunResult
from wfe.graph.model import Graph, GraphNode
from wfe.state.schema import State
from wfe.tools.binding import Scope
from wfe.tools.context import StepInfo

__all__ = ["Asker", "ChildRun", "RunContext", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]
#: Asks a person for an interrupt node's values (node, message, expects) -> values, or None.
Asker = Callable[[str, str, dict[str, str]], dict[str, Any] | None]
#: Where a run's retries draw their jitter from (random.random by default).
Random = Callable[[], float]


class ChildRun(Protocol):
    """A subgraph's run inside its parent's step."""

    async def run(self, state: State, cursor: Cursor | None = None,
                  answers: Mapping[str, Any] | None = None) -> RunResult: ...


class RunContext(Protocol):
    """The run a node is a step of: its state and reducers (`graph.schema`), its events, journal,
    executors, visits, cancellation and a person's answers."""

    graph: Graph
    run_id: str
    state: State
    #: The names expressions see (state keys, `visits`, `step`, `inputs`).
    scope: Scope
    step: int
    visits: dict[str, int]
    #: What a tool's `ctx` says of the call in flight.
    info: StepInfo
    bus: EventBus
    journal: Journal | None
    #: Where `pool:` slots are held: the run's journal (a sub-flow's: its parent's), or this
    #: process for a run without one.
    slots: SlotSource
    executor: Executor
    #: Where map items and parallel branches call tools; `inline_fanout`: in this thread.
    fanout: Executor
    inline_fanout: bool
    cache: Cache | None
    #: Items of a fan-out step committed as they finish; `items`: a map step's item records.
    finished: FinishedItems
    items: list[dict[str, Any]] | None
    #: `wfe cancel` asked, when a step may run long elsewhere (a cluster); None: not watched.
    cancel_requested: Callable[[], bool] | None
    #: Values given for interrupt nodes (`wfe resume -i`), and a way to ask a person.
    answers: dict[str, Any]
    ask: Asker | None
    #: (node, why): where the step in flight goes instead of its `next` (an interrupt's
    #: `on_timeout`); None: its `next`.
    detour: tuple[str, str] | None
    #: A prefix naming this run's nodes in events (`review/`); empty for the top run.
    prefix: str
    clock: Callable[[], float]
    sleep: Sleep
    random: Random

    async def execute(self, node: GraphNode) -> tuple[int, dict[str, Any]]:
        """A `tool:` node's call with its retries: (attempts, the updates written)."""
        ...

    async def call(self, node: GraphNode, label: str, kwargs: dict[str, Any], info: StepInfo,
                   inline: bool, *, fanout: bool = False) -> tuple[int, Any, float]:
        """Call the node's tool with its retries: (attempts, the result, when it began)."""
        ...

    def report_started(self, label: str) -> None: ...

    def report_finished(self, label: str, updates: dict[str, Any], began: float) -> None: ...

    def report_failed(self, label: str, error: BaseException, item: str | None = None
                      ) -> None: ...

    def child(self, graph: Graph, *, inputs: Mapping[str, Any], prefix: str,
              in_item: bool, ask: Asker | None) -> ChildRun:
        """A run of a subgraph as part of this step, speaking on this run's events."""
        ...

    # The step's work that the engine does for a kind (wfe.engine.step_services).

    def run_branches(self, node: GraphNode) -> Awaitable[tuple[int, dict[str, Any]]]:
        """The node's `branches` at once, joined as `join:` says, as one step: (attempts,
        the updates written)."""
        ...

    def run_items(self, node: GraphNode) -> Awaitable[tuple[int, dict[str, Any]]]:
        """The node's tool or subgraph once per item of its `items`, as one step."""
        ...

    def run_subgraph(self, node: GraphNode) -> Awaitable[tuple[int, dict[str, Any]]]:
        """The node's `subgraph` as a child run, its outputs applied, as one step."""
        ...

    def interrupt(self, node: GraphNode) -> tuple[int, dict[str, Any]]:
        """A person's values for the node's `expects`, written as its updates; the run pauses
        (Stop) while there are none, and takes `on_timeout` once its timeout has passed."""
        ...

    def deadline(self, node: GraphNode, seconds: Callable[[], float]) -> float:
        """When a timer of the step in flight ends: as committed by an earlier process, else
        `seconds()` from now, committed so that a resumed run waits only for what remains."""
        ...

    def sleep_until(self, deadline: float) -> Awaitable[None]:
        """Sleep until `deadline` (by `clock`); the run stops as cancelled if `wfe cancel`
        asks meanwhile."""
        ...
