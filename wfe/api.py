"""The Python API (SPEC section 4): `Workflow.load(...).run(...)`, `.arun(...)`, `.stream(...)`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.compiler import compile_graph
from wfe.discovery import build_registry
from wfe.events import Event, Listener
from wfe.graph import Graph
from wfe.ids import new_run_id
from wfe.journal import Cursor, Journal
from wfe.registry import Registry
from wfe.result import RunResult
from wfe.spec.load import load_spec_file
from wfe.state import State

if TYPE_CHECKING:
    from wfe.cache import Cache
    from wfe.engine import Asker
    from wfe.executor import Executor

__all__ = ["RunResult", "Workflow", "build_registry"]


class Workflow:
    """A loaded, compiled workflow, ready to run any number of times."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        imports: Sequence[str] = (),
        registry: Registry | None = None,
        entry_points: bool = True,
    ) -> Workflow:
        """Read, validate and compile a workflow file; raises SpecError with every problem."""
        loaded = load_spec_file(path)
        tools = build_registry(loaded, imports, registry=registry, entry_points=entry_points)
        return cls(compile_graph(loaded, tools))

    @property
    def name(self) -> str:
        return self.graph.name

    def initial_state(self, inputs: Mapping[str, Any] | None = None) -> State:
        """Defaults, environment and inputs, validated; raises InputError."""
        return self.graph.schema.initial(inputs or {})

    async def arun(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        listeners: Sequence[Listener] = (),
        run_id: str | None = None,
        executor: Executor | str | None = None,
        journal: Journal | None = None,
        ask: Asker | None = None,
        state: State | None = None,
        cursor: Cursor | None = None,
        answers: Mapping[str, Any] | None = None,
        cache: Cache | None = None,
    ) -> RunResult:
        """Run inside an event loop. Invalid inputs raise InputError before anything runs.

        `state`, `cursor` and `answers` continue a stored run (see `wfe resume`); `journal`
        commits every step durably; `ask` prompts a person at interrupt nodes; `cache` keeps
        the results of `cache:` nodes (`wfe.cache.StoreCache(store)`; None: no caching).
        `executor` is where map items and parallel branches call their tools: an executor, or
        an executor URL (`"dask"`, `"dask://HOST:PORT"`) opened and closed around this run.
        """
        import asyncio

        from wfe.cluster import open_executor, remote_tools
        from wfe.engine import Engine  # asyncio and the engine load only when a run starts

        inputs = dict(inputs or {})
        if state is None:
            state = self.initial_state(inputs)
        opened = None
        if isinstance(executor, str):
            opened = executor = await asyncio.to_thread(open_executor, executor, "executor")
        try:
            check = getattr(executor, "check", None)
            if check is not None:
                await asyncio.to_thread(check, remote_tools(self.graph))
            prepare_run(self.graph)
            engine = Engine(self.graph, run_id=run_id or new_run_id(), inputs=inputs,
                            listeners=list(listeners), fanout=executor, journal=journal,
                            ask=ask, cache=cache)
            return await engine.run(state, cursor, answers)
        finally:
            if opened is not None:
                opened.close()

    def run(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        listeners: Sequence[Listener] = (),
        run_id: str | None = None,
        journal: Journal | None = None,
        cache: Cache | None = None,
        executor: Executor | str | None = None,
    ) -> RunResult:
        """Run to the end and return how it ended (a failed run returns, it does not raise)."""
        import asyncio

        return asyncio.run(self.arun(inputs, listeners=listeners, run_id=run_id, journal=journal,
                                     cache=cache, executor=executor))

    def stream(self, inputs: Mapping[str, Any] | None = None) -> Iterator[Event]:
        """The run's events as they happen; the run goes on in a background thread."""
        self.initial_state(inputs)  # fail here, in the caller's thread, on bad inputs
        events: queue.SimpleQueue[Event | BaseException | None] = queue.SimpleQueue()

        def work() -> None:
            try:
                self.run(inputs, listeners=[events.put])
            except BaseException as error:
                events.put(error)
            finally:
                events.put(None)

        thread = threading.Thread(target=work, name=f"wfe-{self.name}", daemon=True)
        thread.start()
        while (item := events.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
        thread.join()


def prepare_run(graph: Graph) -> None:
    """Import and build now what the first steps would otherwise import and build while their
    time is measured (a trivial first step took 60-500 ms): the state's validators, the
    fan-out and process-isolation modules when nodes use them; subgraphs too."""
    from importlib import import_module

    graph.schema.prepare()
    for node in graph.nodes.values():
        if node.kind in ("parallel", "map", "workflow"):
            import_module("wfe.fanout")
        if node.isolation == "process" or any(b.isolation == "process" for b in node.branches):
            import_module("wfe.isolation")
        if node.subgraph is not None:
            prepare_run(node.subgraph)
        for branch in node.branches:
            if branch.subgraph is not None:
                prepare_run(branch.subgraph)
