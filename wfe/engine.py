"""The engine: run a compiled Graph step by step, emitting events.

One step is one node execution: bind its arguments, call its tool (with retries and a timeout),
validate and reduce its updates into the state, then pick the next node (first edge whose
condition holds). The engine knows nothing of terminals or databases: front ends listen to events.
"""

from __future__ import annotations

import asyncio
import copy
import random as random_module
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from wfe.context import StepInfo, reset_step, set_step
from wfe.errors import (
    ExpressionError,
    LoopLimitExceeded,
    NodeFailed,
    RunError,
    RunTimeout,
    StepLimitExceeded,
)
from wfe.events import EventBus, Listener, RunStatus
from wfe.executor import Executor, LocalExecutor
from wfe.graph import END, Binding, Graph, GraphNode, Source
from wfe.registry import CONTEXT_PARAM, STATE_PARAM
from wfe.state import State, describe_value

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class RunResult:
    """How a run ended."""

    run_id: str
    status: RunStatus
    state: dict[str, Any]
    error: RunError | None = None
    steps: int = 0
    duration_ms: float = 0.0
    visits: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class _ToolFailure(Exception):
    """A tool raised on its last attempt; on_error may still route it."""

    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


class Scope(Mapping[str, Any]):
    """The names an expression sees: state keys, `visits`, `step`, `inputs`."""

    __slots__ = ("_run",)

    def __init__(self, run: Engine) -> None:
        self._run = run

    def __getitem__(self, name: str) -> Any:
        run = self._run
        if name in run.state:
            return run.state[name]
        if name == "visits":
            return run.visits
        if name == "step":
            return run.step
        if name == "inputs":
            return run.inputs
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._run.state
        yield from ("visits", "step", "inputs")

    def __len__(self) -> int:
        return len(self._run.state) + 3


def _type_names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


class Engine:
    """One run of a graph. Create, then `await engine.run(state)`."""

    def __init__(
        self,
        graph: Graph,
        *,
        run_id: str,
        inputs: Mapping[str, Any] | None = None,
        listeners: list[Listener] | None = None,
        executor: Executor | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        self.graph = graph
        self.run_id = run_id
        self.inputs = dict(inputs or {})
        self.bus = EventBus(run_id, list(listeners or []), clock)
        self.executor: Executor = executor or LocalExecutor()
        # Sync tools without a timeout run inline (no thread hop) unless another executor
        # was asked for.
        self.inline_sync = executor is None or isinstance(executor, LocalExecutor)
        self.info = StepInfo(run_id, self._log)
        self.sleep = sleep
        self.random = random
        self.state: State = {}
        self.visits: dict[str, int] = {}
        self.step = 0
        self.scope = Scope(self)
        self._loop_thread = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, state: State, start: str | None = None) -> RunResult:
        """Run from `start` (default: the graph's start) with `state` until `end` or failure."""
        self.state = state
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        schema = self.graph.schema
        began = time.monotonic()
        self._emit("run_started", {"workflow": self.graph.name, "inputs": schema.mask(self.inputs)})
        status: RunStatus = "succeeded"
        error: RunError | None = None
        token = set_step(self.info)
        try:
            await self._run_with_deadline(start or self.graph.start, began)
        except RunError as failure:
            status, error = "failed", failure
        except (KeyboardInterrupt, asyncio.CancelledError):
            self._finish("interrupted", None, began)
            raise
        finally:
            reset_step(token)
        return self._finish(status, error, began)

    def _finish(self, status: RunStatus, error: RunError | None, began: float) -> RunResult:
        duration_ms = round((time.monotonic() - began) * 1000, 3)
        if self.bus.active:
            fields: dict[str, Any] = {
                "status": status,
                "state": self.graph.schema.mask(self.state),
                "duration_ms": duration_ms,
            }
            if error is not None:
                fields["error"] = _error_fields(error)
            self._emit("run_finished", fields)
        return RunResult(
            self.run_id, status, self.state, error, self.step, duration_ms, dict(self.visits)
        )

    async def _run_with_deadline(self, start: str, began: float) -> None:
        timeout = self.graph.timeout
        try:
            async with asyncio.timeout(timeout):
                await self._walk(start, began + timeout)
        except TimeoutError:
            raise RunTimeout(f"the run took longer than limits.timeout ({timeout:g} s)") from None

    async def _walk(self, name: str, deadline: float) -> None:
        nodes = self.graph.nodes
        max_steps = self.graph.max_steps
        while name != END:
            node = nodes[name]
            visits = self.visits.get(name, 0)
            if node.max_visits is not None and visits >= node.max_visits:
                name = self._exhausted(node)
                continue
            if self.step >= max_steps:
                raise StepLimitExceeded(f"the run took more than limits.max_steps ({max_steps})")
            if time.monotonic() > deadline:
                raise TimeoutError
            self.step += 1
            self.visits[name] = visits + 1
            try:
                await self._execute(node)
            except _ToolFailure as failure:
                name = self._recover(node, failure)
                continue
            name = self._next(node)

    def _exhausted(self, node: GraphNode) -> str:
        if node.on_exhausted is None:
            raise LoopLimitExceeded(
                f"max_visits ({node.max_visits}) exceeded; add `on_exhausted:` to route "
                "elsewhere instead of failing",
                node=node.name,
            )
        self._emit_edge(node.name, node.on_exhausted, "exhausted")
        return node.on_exhausted

    def _recover(self, node: GraphNode, failure: _ToolFailure) -> str:
        """Route a failed node through on_error (recording the error), or fail the run."""
        target = self._route_error(node, failure)
        self.graph.schema.apply(self.state, {"error": _error_value(node, failure)}, node.name)
        self._emit_edge(node.name, target, "on_error")
        return target

    def _route_error(self, node: GraphNode, failure: _ToolFailure) -> str:
        names = _type_names(failure.error)
        for route in node.on_error:
            if route.errors is None or route.errors & names:
                return route.target
        raise NodeFailed(node.name, type(failure.error).__name__, _message(failure.error),
                         failure.attempts)

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

    # --- one node execution ---------------------------------------------------------------

    async def _execute(self, node: GraphNode) -> dict[str, Any]:
        tool = node.tool
        assert tool is not None
        kwargs = self._bind(node)
        info = self.info
        info.node, info.step, info.visit = node.name, self.step, self.visits[node.name]
        inline = node.runs_inline and self.inline_sync
        active = self.bus.active
        attempt = 1
        while True:
            info.attempt = attempt
            if node.wants_context:
                kwargs[CONTEXT_PARAM] = info.context()
            if active:
                self._emit("node_started", {"node": node.name, "step": info.step,
                                            "attempt": attempt})
            began = time.monotonic() if active else 0.0
            try:
                if inline:
                    result = tool.fn(**kwargs)
                else:
                    result = await self.executor.call(tool, kwargs, node.timeout, info)
            except Exception as error:
                if isinstance(error, TimeoutError) and not str(error):
                    error = TimeoutError(f"timed out after {node.timeout:g} s")
                self._emit_failed(node, info.step, attempt, error)
                if attempt >= node.retry.attempts or not _retryable(error, node.retry.on):
                    raise _ToolFailure(error, attempt) from error
                attempt += 1
                await self.sleep(node.retry.delay_before(attempt, self.random()))
                continue
            return self._commit(node, kwargs, result, info.step, began)

    def _commit(
        self, node: GraphNode, kwargs: dict[str, Any], result: Any, step: int, began: float
    ) -> dict[str, Any]:
        updates = self._updates(node, kwargs, result)
        written = self.graph.schema.apply(self.state, updates, node.name) if updates else {}
        if self.bus.active:
            self._emit("node_finished", {
                "node": node.name,
                "step": step,
                "duration_ms": round((time.monotonic() - began) * 1000, 3),
                "updates": self.graph.schema.mask(written),
            })
        return written

    def _updates(self, node: GraphNode, kwargs: dict[str, Any], result: Any) -> dict[str, Any]:
        if node.out is not None:
            return {node.out: result}
        if type(result) is dict and not node.wants_state:
            return result
        whole = kwargs.get(STATE_PARAM) if node.wants_state else None
        changes = _changes(self.state, whole) if isinstance(whole, dict) else {}
        if result is None:
            return changes
        if isinstance(result, dict):
            return {**changes, **result} if changes else result
        raise RunError(
            f"tool returned {describe_value(result)}; return a dict of state updates, None, "
            "or set `out:` to store the value under one key",
            node=node.name,
        )

    def _bind(self, node: GraphNode) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        state = self.state
        for binding in node.bindings:
            source = binding.source
            if source is Source.STATE:
                if binding.value in state:
                    kwargs[binding.param] = state[binding.value]
                elif not _has_default(node, binding):
                    raise RunError(f"tool parameter '{binding.param}' reads state key "
                                   f"'{binding.value}', which is not set yet", node=node.name)
            elif source is Source.CONSTANT:
                kwargs[binding.param] = binding.value
            elif source is Source.TEMPLATE:
                try:
                    kwargs[binding.param] = binding.value.render(self.scope)
                except ExpressionError as error:
                    raise ExpressionError(f"with.{binding.param}: {error}",
                                          node=node.name) from None
            elif source is Source.WHOLE_STATE:
                kwargs[binding.param] = copy.deepcopy(state)
        return kwargs

    # --- events ---------------------------------------------------------------------------

    def _emit(self, kind: Any, fields: dict[str, Any]) -> None:
        self.bus.emit(kind, fields)

    def _emit_edge(self, source: str, target: str, condition: str | None) -> None:
        if self.bus.active:
            self._emit("edge", {"from": source, "to": target, "condition": condition})

    def _emit_failed(self, node: GraphNode, step: int, attempt: int, error: BaseException) -> None:
        if self.bus.active:
            self._emit("node_failed", {
                "node": node.name, "step": step, "attempt": attempt,
                "error": {"type": type(error).__name__, "message": _message(error)},
            })

    def _log(self, node: str, message: str) -> None:
        fields = {"node": node, "message": message}
        if threading.get_ident() == self._loop_thread or self._loop is None:
            self._emit("log", fields)
        else:
            self._loop.call_soon_threadsafe(self._emit, "log", fields)


def _has_default(node: GraphNode, binding: Binding) -> bool:
    assert node.tool is not None
    return any(p.name == binding.param and p.has_default for p in node.tool.params)


def _retryable(error: BaseException, on: frozenset[str] | None) -> bool:
    return on is None or bool(on & _type_names(error))


def _message(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _error_value(node: GraphNode, failure: _ToolFailure) -> dict[str, Any]:
    return {"node": node.name, "type": type(failure.error).__name__,
            "message": _message(failure.error)}


def _error_fields(error: RunError) -> dict[str, Any]:
    return {"node": error.node, "type": type(error).__name__, "message": error.message}


def _changes(before: State, after: dict[str, Any]) -> dict[str, Any]:
    """The keys a tool changed in its copy of the whole state."""
    return {k: v for k, v in after.items() if k not in before or before[k] != v}
