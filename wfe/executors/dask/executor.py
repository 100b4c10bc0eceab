"""DaskExecutor: each fan-out tool call is a Dask task (`pure=False`), or one of a chunk of calls
run as one task; the calls made in one turn of the run's loop are sent together, in chunks when
they are many (wfe.executors.dask.submit); a small answer comes back as an event with the task's
completion, a large one is fetched (wfe.executors.dask.gather).

The engine, its state, its events and its store stay in the wfe process; only the call travels.
Waiting happens on the engine's loop: the answer arrives on Dask's own loop and is handed over
through a concurrent future, so a thousand calls in flight cost no threads. Leaving a wait early
(the node's timeout, a failed sibling, `join: any` met, Ctrl-C, `wfe cancel`) cancels the task on
the cluster: one not yet started never starts; one already running runs on to its end on its
worker (Dask cannot stop a running thread) and its result is dropped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import sys
import uuid
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from distributed import Client
from tornado.platform.asyncio import BaseAsyncIOLoop

from wfe.errors import ExecutorError
from wfe.executors.dask.connect import Health, wait_for_workers
from wfe.executors.dask.gather import BatchedGather
from wfe.executors.dask.plugin import SysPath
from wfe.executors.dask.submit import BatchedSubmit
from wfe.executors.dask.task import check_on_worker
from wfe.executors.executor import Executor
from wfe.executors.remote.payload import pack_call, pickled_function, unpack_outcome
from wfe.tools.context import StepInfo
from wfe.tools.registry import ToolDef

#: Default seconds a cluster may have no workers (or no reachable scheduler) before calls fail.
NO_WORKERS_TIMEOUT = 60.0
#: How often a waiting call looks at the cluster's health (only while it waits that long).
HEALTH_CHECK_SECONDS = 1.0


class ClusterUnavailable(RuntimeError):
    """The cluster lost every worker (or its scheduler) for longer than no_workers_timeout."""


class DaskExecutor:
    """Runs tool calls as tasks on a Dask cluster; see the module docstring.

    `share_sys_path`: put this process's sys.path on the workers (for a LocalCluster on this
    machine, so that tools found beside a workflow file import there too). `stop`: what
    `close()` does after closing the client (stop the LocalCluster wfe started).
    """

    def __init__(self, client: Client, *, address: str, share_sys_path: bool = False,
                 no_workers_timeout: float = NO_WORKERS_TIMEOUT,
                 stop: Callable[[], None] | None = None) -> None:
        self.client = client
        self.address = address
        self.share_sys_path = share_sys_path
        self.no_workers_timeout = no_workers_timeout
        self._stop = stop
        assert isinstance(client.loop, BaseAsyncIOLoop)  # what Dask runs on
        self._dask_loop = client.loop.asyncio_loop
        self._functions: dict[ToolDef, bytes] = {}
        self._checked: set[tuple[str, str]] = set()
        self._shared_path: list[str] = []
        self._health = Health(client, address, no_workers_timeout)
        self._gather = BatchedGather(client, self._dask_loop)
        self._gather.listen()
        self._submit = BatchedSubmit(client, self._gather, lambda: self._health.threads)

    # --- before runs ---------------------------------------------------------------------------

    def check(self, tools: Collection[ToolDef]) -> None:
        """ExecutorError naming the tool, its module and the worker when a worker cannot import
        one of `tools`. Tools defined in a script (`__main__`) travel by value: not checked."""
        if self.share_sys_path:
            self._share_sys_path()
        wanted = {(tool.name, tool.module, _qualname(tool)) for tool in tools
                  if _by_reference(tool)}
        wanted = {entry for entry in wanted if entry[:2] not in self._checked}
        if not wanted:
            return
        wait_for_workers(self.client, self.address, self.no_workers_timeout)
        replies = self.client.run(check_on_worker, sorted(wanted), on_error="return")
        for worker, reply in sorted(replies.items()):
            if isinstance(reply, BaseException):
                raise ExecutorError(
                    f"Dask worker {worker} cannot run wfe's import check (is wfe installed "
                    f"there?): {type(reply).__name__}: {reply}")
            if reply:
                tool, module, why = reply[0]
                raise ExecutorError(
                    f"tool '{tool}' (module {module}) cannot be imported on Dask worker {worker}: "
                    f"{why}; install it there or put its folder on the workers' PYTHONPATH")
        self._checked.update(entry[:2] for entry in wanted)

    def _share_sys_path(self) -> None:
        folders = [os.path.abspath(entry or os.curdir) for entry in sys.path]
        if folders != self._shared_path:
            self.client.register_plugin(SysPath(folders), name=SysPath.name)
            self._shared_path = folders

    # --- one call ------------------------------------------------------------------------------

    #: Every call goes to the cluster, a sync tool's too.
    allows_inline = False

    def isolated(self) -> DaskExecutor:
        """Itself: a call already runs in a worker process, apart from wfe."""
        return self

    async def call(
        self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, step: StepInfo
    ) -> Any:
        """Run the call as a Dask task."""
        function = self._functions.get(tool)
        if function is None:
            function = pickled_function(tool, "the cluster", main_by_value=True)
            self._functions[tool] = function
        payload = pack_call(tool, function, kwargs, step, "the cluster")
        sent = self._submit.add(f"wfe-{tool.name}-{uuid.uuid4().hex}", payload,
                                alone=timeout is not None)
        try:
            packed = await self._result(sent.answer, timeout)
        except BaseException:
            self._submit.abandon(sent)
            raise
        # An answered task's future is released by wfe.executors.dask.gather once Dask has
        # reported it finished (not by this frame, which a tool's exception keeps alive).
        return unpack_outcome(packed, kwargs, step)

    async def _result(self, answer: concurrent.futures.Future[bytes],
                      timeout: float | None) -> bytes:
        done = asyncio.wrap_future(answer)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                wait = HEALTH_CHECK_SECONDS
                if deadline is not None:
                    wait = min(wait, max(deadline - loop.time(), 0.0))
                finished, _ = await asyncio.wait({done}, timeout=wait)
                if finished:
                    return done.result()
                if deadline is not None and loop.time() >= deadline:
                    raise TimeoutError(f"timed out after {timeout:g} s; its Dask task was "
                                       "cancelled")
                trouble = self._health.trouble()
                if trouble is not None:
                    raise ClusterUnavailable(trouble)
        finally:
            done.cancel()

    # --- after runs ----------------------------------------------------------------------------

    def close(self) -> None:
        """Disconnect (the scheduler forgets this client's tasks) and stop what wfe started."""
        self._health.stop()
        with contextlib.suppress(Exception):
            self._gather.stop_listening()
        with contextlib.suppress(Exception):
            self.client.close()
        if self._stop is not None:
            with contextlib.suppress(Exception):
                self._stop()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _qualname(tool: ToolDef) -> str:
    return str(getattr(tool.fn, "__qualname__", ""))


def _by_reference(tool: ToolDef) -> bool:
    """Whether cloudpickle sends the tool as a reference that a worker must import (a plain
    function of an importable module); anything else travels by value."""
    qualname = _qualname(tool)
    return tool.module not in ("__main__", "?") and bool(qualname) and "<" not in qualname


if TYPE_CHECKING:  # mypy checks here that DaskExecutor meets the whole Executor Protocol
    _meets_the_protocol: type[Executor] = DaskExecutor
