"""Runs started over HTTP: asyncio tasks on the server's event loop, journaled to the store
exactly as `wfe run` journals its runs (same rows, events, lease and heartbeat), so `wfe runs`,
`wfe show`, `wfe logs --follow` and `wfe resume` work on them from any terminal.

Sync tools never run on the loop: the server's executor is not the engine's LocalExecutor, so
the engine's inline fast path is off and every sync call goes to a worker thread.

Stopping: `cancel` cancels the task of a run this server executes (it ends `cancelled`) and asks
any other owner through the store, as `wfe cancel` does. `shutdown` cancels every task: each
run's last step is already committed, and it is stored as `interrupted`, resumable through the
API or `wfe resume`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wfe.api import Workflow
from wfe.engine.cache import StoreCache
from wfe.engine.events import Event, RunStatus
from wfe.engine.journal import Cursor
from wfe.engine.loop import Engine
from wfe.errors import UsageError, WfeError
from wfe.executors.executor import LocalExecutor
from wfe.graph.model import Graph
from wfe.ids import new_run_id
from wfe.resuming import RestartPoint, fork_point, restart_point
from wfe.serve.catalog import Catalog
from wfe.serve.errors import ChangedWorkflow, ShuttingDown, WorkflowNotServed
from wfe.serve.hub import RunHub
from wfe.serve.reader import StoreReader
from wfe.state.schema import State
from wfe.store import Lease, RunRecord, Store
from wfe.store.journal import (
    StoreJournal,
    check_unchanged,
    cursor_of,
    new_run,
    resumed_state,
    split_resume_inputs,
)
from wfe.telemetry import listeners as traced

log = logging.getLogger("wfe.serve")

#: How long shutdown waits for cancelled runs to store themselves as interrupted.
SHUTDOWN_WAIT_SECONDS = 10.0


class ThreadedExecutor(LocalExecutor):
    """LocalExecutor's calls without the engine's inline fast path (see the module doc)."""

    allows_inline = False


class ServerJournal(StoreJournal):
    """The store journal and the run's live fan-out, as one listener. A run cancelled over
    HTTP ends `cancelled` (its task was cancelled, which the engine reports as interrupted)."""

    def __init__(self, store: Store, lease: Lease, graph: Graph, hub: RunHub) -> None:
        super().__init__(store, lease, graph)
        self.hub = hub
        self.cancelled = False
        self.ended = False

    def __call__(self, event: Event) -> None:
        if self.cancelled and event["event"] == "run_finished" \
                and event.get("status") == "interrupted":
            event["status"] = "cancelled"
        super().__call__(event)
        self.hub(event)

    def run_ended(self, status: RunStatus, state: State, error: dict[str, Any] | None,
                  waiting: dict[str, Any] | None) -> None:
        if self.cancelled and status == "interrupted":
            status = "cancelled"
        self.ended = True
        super().run_ended(status, state, error, waiting)


@dataclass
class _Active:
    task: asyncio.Task[None]
    journal: ServerJournal


@dataclass(frozen=True)
class _Launch:
    workflow: Workflow
    lease: Lease
    inputs: dict[str, Any]
    state: State
    cursor: Cursor | None = None
    answers: Mapping[str, Any] | None = None
    last_seq: int = 0


class RunManager:
    """The runs this server executes. Use from the event loop's thread only."""

    def __init__(self, store: Store, catalog: Catalog, reader: StoreReader) -> None:
        self.store = store
        self.catalog = catalog
        self.reader = reader
        self.executor = ThreadedExecutor()
        self.cache = StoreCache(store)
        self.active: dict[str, _Active] = {}
        self.closing = False

    def hub(self, run_id: str) -> RunHub | None:
        active = self.active.get(run_id)
        return active.journal.hub if active is not None else None

    async def start(self, name: str, inputs: dict[str, Any]) -> str:
        """Start a run of a served workflow; returns its id at once (InputError: a bad input)."""
        self._refuse_when_closing()
        entry = await self.reader.call(lambda: self.catalog.get(name))
        workflow = entry.compiled()
        state = workflow.initial_state(inputs)
        lease = self.store.create_run(new_run(workflow.graph, new_run_id(), inputs, state))
        self._launch(_Launch(workflow, lease, dict(inputs), state))
        return lease.run_id

    async def resume(self, run: str, given: dict[str, Any], force: bool) -> str:
        """Continue a waiting, interrupted or failed run of a served workflow."""
        record, workflow = await self._stored(run, force)
        state = resumed_state(workflow.graph, record.state, given, os.environ)
        answers = split_resume_inputs(workflow.graph, record, given)
        lease = self.store.claim(record.run_id)
        self._launch(_Launch(workflow, lease, record.inputs, state, cursor_of(record), answers,
                             record.last_seq))
        return record.run_id

    async def rerun(self, run: str, node: str, given: dict[str, Any], force: bool) -> str:
        """A new run, linked to `run`, from `node` with its state there edited by `given`
        (as `wfe resume --from NODE -i ...`)."""
        return await self._start_linked(
            run, force, lambda workflow, store, record: restart_point(
                workflow, store, record, node, given))

    async def fork(self, run: str, at: int, given: dict[str, Any], force: bool) -> str:
        """A new run, linked to `run`, from the state after step `at` edited by `given`, at the
        node that followed it (as `wfe fork RUN --at STEP -i ...`)."""
        return await self._start_linked(
            run, force, lambda workflow, store, record: fork_point(
                workflow, store, record, at, given))

    async def cancel(self, run: str) -> str:
        """Stop a running run: at once when this server runs it, else at its next step."""
        run_id = run if run in self.active else await self.reader.run(
            lambda store: store.resolve(run))
        active = self.active.get(run_id)
        if active is not None:
            active.journal.cancelled = True
            active.task.cancel()
            return run_id
        await self.reader.run(lambda store: store.request_cancel(run_id))
        return run_id

    async def shutdown(self) -> None:
        """Cancel every run; each is stored as interrupted (its last step already committed)."""
        self.closing = True
        tasks = [active.task for active in self.active.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_WAIT_SECONDS)

    # --- internals -------------------------------------------------------------------------

    def _refuse_when_closing(self) -> None:
        if self.closing:
            raise ShuttingDown("the server is shutting down; no new runs start")

    async def _stored(self, run: str, force: bool) -> tuple[RunRecord, Workflow]:
        """A stored run and its served workflow, refused if the file changed (unless `force`)."""
        self._refuse_when_closing()
        record = await self.reader.run(lambda store: store.get_run(store.resolve(run)))
        workflow = await self.reader.call(lambda: self._resumable_workflow(record))
        try:
            check_unchanged(workflow.graph, record, force)
        except UsageError as error:
            raise ChangedWorkflow(str(error).replace("--force", '"force": true')) from None
        return record, workflow

    async def _start_linked(
        self, run: str, force: bool,
        point_of: Callable[[Workflow, Store, RunRecord], RestartPoint],
    ) -> str:
        """A new run linked to `run`, from the point `point_of` finds in the old one."""
        record, workflow = await self._stored(run, force)
        point = await self.reader.run(lambda store: point_of(workflow, store, record))
        lease = self.store.create_run(new_run(workflow.graph, new_run_id(), point.inputs,
                                              point.state, parent=record.run_id,
                                              start=point.cursor.node, cursor=point.cursor))
        self._launch(_Launch(workflow, lease, point.inputs, point.state, point.cursor))
        return lease.run_id

    def _resumable_workflow(self, record: RunRecord) -> Workflow:
        path = Path(record.workflow_path)
        if not self.catalog.serves(path):
            raise WorkflowNotServed(record.run_id, record.workflow_path)
        if not path.is_file():
            raise UsageError(f"run {record.run_id}: its workflow file {path} no longer exists")
        return Workflow.load(path, imports=self.catalog.imports)

    def _launch(self, launch: _Launch) -> None:
        run_id = launch.lease.run_id
        hub = RunHub(run_id, last_seq=launch.last_seq)
        journal = ServerJournal(self.store, launch.lease, launch.workflow.graph, hub)
        task = asyncio.create_task(self._execute(launch, journal), name=f"wfe-run-{run_id}")
        task.add_done_callback(lambda _: self._finished(run_id, journal, launch.state))
        self.active[run_id] = _Active(task, journal)

    async def _execute(self, launch: _Launch, journal: ServerJournal) -> None:
        run_id = launch.lease.run_id
        # The engine itself, not Workflow.arun: its `executor` is where every tool call goes.
        engine = Engine(launch.workflow.graph, run_id=run_id, inputs=launch.inputs,
                        listeners=[journal, *traced()], executor=self.executor, journal=journal,
                        cache=self.cache)
        try:
            await engine.run(launch.state, launch.cursor, launch.answers)
        except asyncio.CancelledError:
            pass  # the engine stored the run as interrupted (or cancelled) on its way out
        except Exception:
            log.exception("run %s stopped on an error the engine could not store", run_id)

    def _finished(self, run_id: str, journal: ServerJournal, state: State) -> None:
        """After the task, even one cancelled before its engine began (whose code never ran)."""
        if not journal.ended:
            try:
                journal.run_ended("cancelled" if journal.cancelled else "interrupted", state,
                                  None, None)
            except WfeError as error:
                log.error("run %s could not be stored as stopped: %s", run_id, error)
        journal.hub.end()
        self.active.pop(run_id, None)
