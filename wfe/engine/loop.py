"""The engine: run a compiled Graph step by step, emitting events and journaling steps.

One step is one node execution: bind its arguments, call its tool (with retries and a timeout),
validate and reduce its updates into the state, pick the next node (the first edge whose condition
holds), and commit the step to the journal when there is one. The engine knows nothing of
terminals or databases: front ends listen to events, the store is a Journal.
"""

from __future__ import annotations

import asyncio
import random as random_module
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from wfe.engine.cache import Cache
from wfe.engine.cached_call import execute_cached
from wfe.engine.events import EventBus, Listener, RunStatus
from wfe.engine.executor import Executor
from wfe.engine.interrupts import Stop
from wfe.engine.journal import Attempts, Cursor, FinishedItems, Journal, SlotSource, StepDone
from wfe.engine.loop_guard import run_deadline
from wfe.engine.pools import IN_PROCESS, take_slot
from wfe.engine.result import RunResult
from wfe.engine.run_context import Asker, ChildRun, Sleep
from wfe.engine.run_end import Ending, ended_mark, resume_handlers, run_handlers
from wfe.engine.step_services import StepServices
from wfe.engine.subgraph_pause import public_waiting
from wfe.engine.tool_calls import ToolCalls
from wfe.engine.tool_failure import ToolFailure, error_message, error_route
from wfe.errors import (
    ExpressionError,
    LoopLimitExceeded,
    NodeFailed,
    RunError,
    RunTimeout,
    StepLimitExceeded,
)
from wfe.expr.expression import Expression
from wfe.graph.model import END, Graph, GraphNode
from wfe.nodes import KINDS
from wfe.redact import cut, remember
from wfe.state.schema import State
from wfe.tools.binding import Scope, bind_arguments
from wfe.tools.context import StepInfo, reset_step, set_step

if TYPE_CHECKING:
    pass

__all__ = ["Asker", "Engine", "RunResult", "Scope", "ToolFailure"]


class Engine(ToolCalls, StepServices):
    """One run of a graph. Create, then `await engine.run(state)`."""

    # Slots: the hot path reads a dozen of these per step, and past 30 attributes an
    # instance's dict is no longer shared, which makes every read slower.
    __slots__ = (
        "_loop", "_loop_thread", "_own_bus", "answers", "ask", "attempts", "bus", "cache",
        "cancel_requested", "clock", "detour", "ending", "executor", "fanout", "finished",
        "graph", "info", "inline_fanout", "inline_sync", "inputs", "items", "journal", "prefix",
        "random", "run_id", "scope", "sleep", "slots", "step_limit",
    )

    def __init__(
        self,
        graph: Graph,
        *,
        run_id: str,
        inputs: Mapping[str, Any] | None = None,
        listeners: list[Listener] | None = None,
        executor: Executor,
        fanout: Executor | None = None,
        journal: Journal | None = None,
        ask: Asker | None = None,
        cache: Cache | None = None,
        parent: Engine | None = None,
        prefix: str = "",
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        self.graph = graph
        self.run_id = run_id
        # As the store records them (secret ones masked): a resumed run sees the same `inputs`.
        self.inputs = graph.schema.mask(inputs or {})
        self.bus = EventBus(run_id, list(listeners or []), clock)
        self.executor: Executor = executor
        # Sync tools without a timeout run inline (no thread hop) where the executor allows it.
        self.inline_sync = self.executor.allows_inline
        #: Where map items and parallel branches call tools (a cluster, say; see
        #: wfe.executors.cluster).
        self.fanout: Executor = fanout or self.executor
        self.inline_fanout = self.inline_sync and self.fanout.allows_inline
        self.cancel_requested: Callable[[], bool] | None = (
            journal.cancel_requested
            if journal is not None and self.fanout is not self.executor else None)
        self.journal = journal
        self.slots: SlotSource = (journal if journal is not None else
                                  parent.slots if parent is not None else IN_PROCESS)
        self.ask = ask
        #: Results of `cache:` nodes; None: no caching. A subgraph shares its parent's.
        self.cache: Cache | None = cache if cache is not None or parent is None else parent.cache
        # A subgraph's engine speaks on its parent's event stream, its nodes named under the
        # parent's node (`review/extract`); the run-level events are the parent's alone.
        self.prefix = prefix
        if parent is not None:
            self.bus = parent.bus
        self._own_bus = parent is None
        self.clock = clock
        self.info = StepInfo(run_id, self._log)
        self.sleep = sleep
        self.random = random
        self._stand_at_the_start()

    def _stand_at_the_start(self) -> None:
        """Where a new run stands: nothing done yet (`run` moves it to a resumed position)."""
        self.state: State = {}
        self.visits: dict[str, int] = {}
        self.step = 0
        self.scope = Scope(self)
        self.answers: dict[str, Any] = {}
        #: The per-item records of the last `map:` step, for the journal.
        self.items: list[dict[str, Any]] | None = None
        self._last_shown: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
        self.attempts = Attempts(None, None)
        #: Map items and branches committed as they finish (wfe.engine.fanout).
        self.finished = FinishedItems(None, None)
        #: A step began changing the state and the journal has not committed it yet.
        self._uncommitted = False
        self._loop_thread = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The `on_end:` handler phase (wfe.engine.run_end) once the run has ended; None before.
        self.ending: Ending | None = None
        self.detour: tuple[str, str] | None = None
        #: Steps end at this number: limits.max_steps, and as many more for on_end handlers.
        self.step_limit = self.graph.max_steps
        #: State updates made between steps (the run's error shown to on_end handlers): the
        #: store records steps' updates, so the next committed step carries them.
        self.carried: dict[str, Any] = {}

    async def run(
        self, state: State, cursor: Cursor | None = None, answers: Mapping[str, Any] | None = None
    ) -> RunResult:
        """Run with `state` from `cursor` (default: the start) until `end`, a pause or failure.

        `answers` are the values for the interrupt node a resumed run is waiting at.
        """
        self.state = state
        secret_keys = self.graph.schema.secret_keys
        if secret_keys:
            remember(state[key] for key in secret_keys if key in state)
        self.answers = dict(answers or {})
        self.attempts = Attempts(self.journal, cursor)
        self.finished = FinishedItems(self.journal, cursor)
        if cursor is not None:
            self.visits, self.step = dict(cursor.visits), cursor.step
            if self._own_bus:  # a resumed subgraph goes on speaking on its parent's
                self.bus = EventBus(self.run_id, self.bus.listeners, self.clock, cursor.seq)
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        began = time.monotonic()
        if self.bus.active:
            self._emit("run_started", {"workflow": self.graph.name,
                                       "inputs": self.graph.schema.mask(self.inputs)})
        start = cursor.node if cursor else self.graph.start
        token = set_step(self.info)
        try:
            ended = ended_mark(start)
            if ended is not None:  # resumed while its on_end handlers ran
                status, error, waiting = *await resume_handlers(self, ended), None
            else:
                status, error, waiting = await self._outcome(start, began)
                if self.graph.on_end and waiting is None:
                    await run_handlers(self, status, error)
        except (KeyboardInterrupt, asyncio.CancelledError):
            self.back_to_committed()
            self._finish("interrupted", None, None, began)
            raise
        finally:
            reset_step(token)
        return self._finish(status, error, waiting, began)

    async def _outcome(
        self, start: str, began: float
    ) -> tuple[RunStatus, RunError | None, dict[str, Any] | None]:
        """Walk from `start`: the run's status, its error, and what it waits for."""
        try:
            await self._run_with_deadline(start, began)
        except RunError as failure:
            self.back_to_committed()
            return "failed", failure, None
        except Stop as stop:
            return stop.status, None, stop.waiting
        return "succeeded", None, None

    async def walk(self, start: str) -> None:
        """Walk from `start` to `end` with a run timeout of its own (an on_end handler)."""
        await self._run_with_deadline(start, time.monotonic())

    def _finish(
        self,
        status: RunStatus,
        error: RunError | None,
        waiting: dict[str, Any] | None,
        began: float,
    ) -> RunResult:
        duration_ms = round((time.monotonic() - began) * 1000, 3)
        error_fields = _error_fields(error) if error is not None else None
        if waiting is not None and self.bus.active:
            self._emit("run_waiting", public_waiting(waiting))
        if self.bus.active:
            fields: dict[str, Any] = {
                "status": status,
                "state": self.graph.schema.mask(self.state),
                "duration_ms": duration_ms,
            }
            if error_fields is not None:
                fields["error"] = error_fields
            self._emit("run_finished", fields)
        if self.journal is not None:
            trace = error.traceback if isinstance(error, NodeFailed) else None
            if error_fields is not None and trace:
                error_fields = {**error_fields, "traceback": trace}  # stored, not in the event
            self.journal.run_ended(status, self.state, error_fields, waiting)
        return RunResult(self.run_id, status, self.state, error, self.step, duration_ms,
                         dict(self.visits), waiting)

    async def _run_with_deadline(self, start: str, began: float) -> None:
        timeout = self.graph.timeout
        # For wfe.engine.loop_guard: an async tool that blocks the loop past it is stopped.
        outer = run_deadline.set(began + timeout)
        try:
            async with asyncio.timeout(timeout):
                await self._walk(start, began + timeout)
        except TimeoutError:
            raise RunTimeout(f"the run took longer than limits.timeout ({timeout:g} s)") from None
        finally:
            run_deadline.reset(outer)

    async def _walk(self, name: str, deadline: float) -> None:
        nodes = self.graph.nodes
        kinds = KINDS
        max_steps, step_limit = self.graph.max_steps, self.step_limit
        detours = 0  # on_exhausted routes taken since the last step
        while name != END:
            node = nodes[name]
            if node.guard is not None and not self._holds(node, node.guard):
                name = self._skip(node)
                continue
            visits = self.visits.get(name, 0)
            if node.max_visits is not None and visits >= node.max_visits:
                detours += 1
                if detours > len(nodes):
                    raise LoopLimitExceeded("on_exhausted routes go round in a circle of "
                                            "exhausted nodes; none can run", node=name)
                name = self._exhausted(node)
                continue
            detours = 0
            if self.step >= step_limit:
                raise StepLimitExceeded(f"the run took more than limits.max_steps ({max_steps})")
            if time.monotonic() > deadline:
                raise TimeoutError
            self.items = None
            self.step += 1
            self.visits[name] = visits + 1
            journal = self.journal
            self._uncommitted = journal is not None
            began = self.clock() if journal is not None else 0.0
            release = await take_slot(self, node) if node.pool is not None else None
            try:
                attempt, written = await (self.execute(node) if node.is_call
                                          else kinds[node.kind].run(self, node))
            except ToolFailure as failure:
                name = self._recover(node, failure, began)
                continue
            except Stop as stop:
                if stop.before_step:  # nothing ran: the step is not counted
                    self.step -= 1
                    self.visits[name] = visits
                    self._uncommitted = False
                raise
            finally:
                if release is not None:
                    release()
            if self.detour is None:
                name = self._next(node)
            else:
                (name, why), self.detour = self.detour, None
                self._emit_edge(node.name, name, why)
            if journal is not None:
                done = StepDone(self.step, node.name, attempt, began,
                                round((self.clock() - began) * 1000, 3), "succeeded",
                                self._shown(written), None, name, self.items)
                self._journal(done)

    def _holds(self, node: GraphNode, guard: Expression) -> bool:
        try:
            return guard.evaluate_condition(self.scope)
        except ExpressionError as error:
            raise ExpressionError(f"if `{guard.source}`: {error}", node=node.name) from None

    def _skip(self, node: GraphNode) -> str:
        """A node whose `if:` is false: a step (it counts towards max_steps and is committed)
        but not a visit; its `next` is followed as usual."""
        if self.step >= self.step_limit:
            raise StepLimitExceeded(
                f"the run took more than limits.max_steps ({self.graph.max_steps})")
        self.step += 1
        began = self.clock()
        if self.bus.active:
            self._emit("node_skipped", {"node": node.name, "step": self.step})
        target = self._next(node)
        if self.journal is not None:
            self._uncommitted = True
            self._journal(StepDone(self.step, node.name, 0, began, 0.0, "skipped", {}, None,
                                   target))
        return target

    def _exhausted(self, node: GraphNode) -> str:
        if node.on_exhausted is None:
            raise LoopLimitExceeded(
                f"max_visits ({node.max_visits}) exceeded; add `on_exhausted:` to route "
                "elsewhere instead of failing",
                node=node.name,
            )
        self._emit_edge(node.name, node.on_exhausted, "exhausted")
        return node.on_exhausted

    def _recover(self, node: GraphNode, failure: ToolFailure, began: float) -> str:
        """Route a failed node through on_error (recording the error), or fail the run."""
        target = error_route(node, failure, self.graph.schema, self.state)
        value = {"node": node.name, "type": type(failure.error).__name__,
                 "message": error_message(failure.error)}
        self.graph.schema.apply(self.state, {"error": value}, node.name)
        self._emit_edge(node.name, target, "on_error")
        if self.journal is not None:
            done = StepDone(self.step, node.name, failure.attempts, began,
                            round((self.clock() - began) * 1000, 3), "routed", {"error": value},
                            {"type": value["type"], "message": value["message"],
                             "traceback": failure.traceback(self.graph.schema, self.state)},
                            target)
            self._journal(done)
        return target

    def _next(self, node: GraphNode) -> str:
        for edge in node.edges:
            condition = edge.condition
            if condition is None:
                if self.bus.active:
                    self._emit_edge(node.name, edge.target, None)
                return edge.target
            try:
                holds = condition.evaluate_condition(self.scope)
            except ExpressionError as error:
                raise ExpressionError(f"condition `{condition.source}`: {error}",
                                      node=node.name) from None
            if holds:
                self._emit_edge(node.name, edge.target, condition.source)
                return edge.target
        return END

    async def execute(self, node: GraphNode) -> tuple[int, dict[str, Any]]:
        """Run a `tool:` node's call: (attempts made, the updates written)."""
        kwargs = bind_arguments(node, self.state, self.scope)
        info = self.info
        info.node, info.step, info.visit = node.name, self.step, self.visits[node.name]
        if node.cache_ttl is not None and self.cache is not None:
            return await execute_cached(self, node, self.cache, kwargs,
                                        node.runs_inline and self.inline_sync)
        attempt, result, began = await self.call(node, node.name, kwargs, info,
                                                 node.runs_inline and self.inline_sync)
        return attempt, self._commit(node, kwargs, result, info.step, began)

    def child(self, graph: Graph, *, inputs: Mapping[str, Any], prefix: str,
              in_item: bool, ask: Asker | None) -> ChildRun:
        """A subgraph's run in this step: a map item's makes every call on the fan-out
        executor."""
        return Engine(graph, run_id=self.run_id, inputs=inputs,
                      executor=self.fanout if in_item else self.executor, fanout=self.fanout,
                      parent=self, prefix=prefix, sleep=self.sleep, random=self.random, ask=ask)


def _error_fields(error: RunError) -> dict[str, Any]:
    return {"node": error.node, "type": type(error).__name__, "message": cut(error.message)}
