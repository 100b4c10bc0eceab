"""The Python API (SPEC section 4): `Workflow.load(...).run(...)`, `.arun(...)`, `.stream(...)`,
each recorded in a store when given one, and `Workflow.resume(run_id, inputs, store=...)`."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.engine.events import Event, Listener
from wfe.engine.journal import Cursor, Journal
from wfe.engine.result import RunResult
from wfe.errors import UsageError
from wfe.executors.cluster import open_executor, remote_tools
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_file
from wfe.graph.model import Graph
from wfe.ids import new_run_id
from wfe.state.schema import State
from wfe.telemetry import listeners as traced
from wfe.tools.discovery import build_registry
from wfe.tools.registry import Registry

if TYPE_CHECKING:
    from wfe.engine.cache import Cache
    from wfe.engine.loop import Asker
    from wfe.executors.executor import Executor
    from wfe.store import RunRecord, Store
    from wfe.store.journal import StoreJournal

__all__ = ["RunResult", "Workflow", "build_registry", "load_stored_workflow"]


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
        store: str | Path | Store | None = None,
    ) -> RunResult:
        """Run inside an event loop. Invalid inputs raise InputError before anything runs.

        `store` records the run as `wfe run` does (a path, or an open `wfe.store.Store`;
        default: not recorded), so that `wfe runs`, `wfe show` and `Workflow.resume` see it.
        `state`, `cursor` and `answers` continue a stored run (see `wfe resume`); `journal`
        commits every step durably; `ask` prompts a person at interrupt nodes; `cache` keeps
        the results of `cache:` nodes (`wfe.engine.cache.StoreCache(store)`; None: no caching).
        `executor` is where map items and parallel branches call their tools: an executor, or
        an executor URL (`"dask"`, `"dask://HOST:PORT"`) opened and closed around this run.
        """
        # deferred: asyncio (~15 ms) is for runs; a dry run loads this module and runs nothing
        import asyncio

        if store is not None and journal is not None:
            raise UsageError("give a run either a store or a journal, not both")
        inputs = dict(inputs or {})
        if state is None:
            state = self.initial_state(inputs)
        opened = None
        if isinstance(executor, str):
            opened = await asyncio.to_thread(open_executor, executor, "executor")
        chosen = opened if isinstance(executor, str) else executor
        try:
            if chosen is not None:
                await asyncio.to_thread(chosen.check, remote_tools(self.graph))
            with self._recorded(store, inputs, state, run_id) as recorded:
                if recorded is not None:
                    journal, run_id = recorded, recorded.lease.run_id
                    listeners = [*listeners, recorded]
                return await self._engine_run(
                    inputs, state, listeners=listeners, run_id=run_id or new_run_id(),
                    executor=chosen, journal=journal, ask=ask, cursor=cursor,
                    answers=answers, cache=cache)
        finally:
            if opened is not None:
                opened.close()

    async def _engine_run(
        self, inputs: dict[str, Any], state: State, *, listeners: Sequence[Listener],
        run_id: str, executor: Executor | None, journal: Journal | None, ask: Asker | None,
        cursor: Cursor | None, answers: Mapping[str, Any] | None, cache: Cache | None,
    ) -> RunResult:
        # deferred: the engine's run loop (~2 ms) loads when a run starts, not for a dry run
        from wfe.engine.loop import Engine
        from wfe.executors.executor import LocalExecutor  # the same: when a run starts

        prepare_run(self.graph)
        engine = Engine(self.graph, run_id=run_id, inputs=inputs,
                        listeners=[*listeners, *traced()], executor=LocalExecutor(),
                        fanout=executor, journal=journal, ask=ask, cache=cache)
        return await engine.run(state, cursor, answers)

    @contextmanager
    def _recorded(self, store: str | Path | Store | None, inputs: dict[str, Any], state: State,
                  run_id: str | None) -> Iterator[StoreJournal | None]:
        """The journal of a new run recorded in `store` (None: no store, nothing recorded)."""
        if store is None:
            yield None
            return
        # deferred: sqlite3 and the store (~15 ms) load only when a run is recorded
        from wfe.resuming import opened_store
        from wfe.store.journal import StoreJournal, new_run

        with opened_store(store) as opened:
            lease = opened.create_run(new_run(self.graph, run_id or new_run_id(), inputs, state))
            yield StoreJournal(opened, lease, self.graph)

    def run(
        self,
        inputs: Mapping[str, Any] | None = None,
        *,
        listeners: Sequence[Listener] = (),
        run_id: str | None = None,
        journal: Journal | None = None,
        cache: Cache | None = None,
        executor: Executor | str | None = None,
        store: str | Path | Store | None = None,
    ) -> RunResult:
        """Run to the end and return how it ended (a failed run returns, it does not raise);
        `store` records it as `wfe run` does (default: not recorded)."""
        # deferred as in arun: asyncio is for runs only
        import asyncio

        return asyncio.run(self.arun(inputs, listeners=listeners, run_id=run_id, journal=journal,
                                     cache=cache, executor=executor, store=store))

    @classmethod
    def resume(
        cls,
        run_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        store: str | Path | Store,
        force: bool = False,
        imports: Sequence[str] = (),
        listeners: Sequence[Listener] = (),
        cache: Cache | None = None,
        executor: Executor | str | None = None,
    ) -> RunResult:
        """Continue a stored `waiting`, `interrupted` or `failed` run as `wfe resume` does.

        `run_id` may be any unique prefix; `inputs` answer the interrupt the run waits at (and
        give secret keys, which the store never keeps). A workflow file changed since the run
        started is refused unless `force`."""
        # deferred as in arun: asyncio is for runs only
        import asyncio

        return asyncio.run(cls.aresume(run_id, inputs, store=store, force=force, imports=imports,
                                       listeners=listeners, cache=cache, executor=executor))

    @classmethod
    async def aresume(
        cls,
        run_id: str,
        inputs: Mapping[str, Any] | None = None,
        *,
        store: str | Path | Store,
        force: bool = False,
        imports: Sequence[str] = (),
        listeners: Sequence[Listener] = (),
        cache: Cache | None = None,
        executor: Executor | str | None = None,
    ) -> RunResult:
        """`resume` inside an event loop."""
        # deferred: sqlite3 and the store (~15 ms) load only when a stored run is resumed
        from wfe.resuming import opened_store, resume_point
        from wfe.store.journal import StoreJournal

        with opened_store(store) as opened:
            record = opened.get_run(opened.resolve(run_id))
            workflow = load_stored_workflow(record, list(imports), force)
            point = resume_point(workflow, record, dict(inputs or {}))
            journal = StoreJournal(opened, opened.claim(record.run_id), workflow.graph)
            return await workflow.arun(
                record.inputs, listeners=[*listeners, journal], run_id=record.run_id,
                executor=executor, journal=journal, state=point.state, cursor=point.cursor,
                answers=point.answers, cache=cache)

    def stream(self, inputs: Mapping[str, Any] | None = None, *,
               store: str | Path | Store | None = None) -> Iterator[Event]:
        """The run's events as they happen; the run goes on in a background thread (recorded
        in `store` when one is given)."""
        self.initial_state(inputs)  # fail here, in the caller's thread, on bad inputs
        events: queue.SimpleQueue[Event | BaseException | None] = queue.SimpleQueue()

        def work() -> None:
            try:
                self.run(inputs, listeners=[events.put], store=store)
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
    graph.schema.prepare()
    for node in graph.nodes.values():
        if node.kind in ("parallel", "map", "workflow"):
            import_module("wfe.engine.fanout")
        if node.isolation == "process" or any(b.isolation == "process" for b in node.branches):
            import_module("wfe.executors.isolation")
        if node.subgraph is not None:
            prepare_run(node.subgraph)
        for branch in node.branches:
            if branch.subgraph is not None:
                prepare_run(branch.subgraph)


def load_stored_workflow(record: RunRecord, imports: Sequence[str], force: bool) -> Workflow:
    """The workflow file a stored run started from; refused when it changed (unless `force`)."""
    # deferred: the journal imports sqlite3 and the store (~15 ms): only resumes come here
    from wfe.store.journal import check_unchanged

    path = Path(record.workflow_path)
    if not path.is_file():
        raise UsageError(f"run {record.run_id}: its workflow file {path} no longer exists")
    workflow = Workflow.load(path, imports=imports)
    check_unchanged(workflow.graph, record, force)
    return workflow
