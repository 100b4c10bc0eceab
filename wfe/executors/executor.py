"""How one tool call runs. The engine decides what to call; an executor decides where.

Every executor meets one Protocol, `Executor` (wfe.engine.executor, where the engine that calls
it declares it), and the engine knows none by name: it asks
`allows_inline` (may it call a sync tool itself, on its fast path?) and, for a node with
`isolation: process`, `isolated()` (the executor whose calls run in a process that can be killed).

- `LocalExecutor` runs async tools on the event loop (watched by wfe.engine.loop_guard, so that one
that
  never awaits still meets its timeout), and sync tools in a worker thread. The engine itself
  calls a sync tool inline, on its fast path, when the node has no timeout. A thread cannot be
  killed, so a sync tool's timeout is soft: wfe stops waiting and the thread runs on to its end.
- `ProcessExecutor` (wfe.executors.isolation) runs each call, sync or async, in a worker process of
its
  own: its timeout, and cancelling it, kill that process. It is `LocalExecutor.isolated()`.
- A cluster's executor (wfe.executors.dask: Dask) runs calls on other processes or machines. The
  engine gives it the calls of `map:` items and `parallel:` branches only; wfe.executors.cluster
  opens one
  from an executor URL (`--executor dask://HOST:PORT`), found by its scheme among the built-in
  ones and the `wfe.executors` entry points of installed packages.

The process executor and a cluster's carry a call with one codec (wfe.executors.remote.payload),
run it
with the same code (wfe.executors.remote.worker) and bring a tool's exception back as one
remote-error
type (wfe.engine.remote_error).
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from wfe.engine.executor import Executor as Executor
from wfe.engine.loop_guard import NO_TIMEOUT, calling, watch
from wfe.tools.context import StepInfo, begin_output, call_tool, end_output, reset_step, set_step
from wfe.tools.registry import ToolDef

if TYPE_CHECKING:
    from wfe.executors.isolation import ProcessExecutor


class LocalExecutor:
    """In this process: the event loop for async tools, a worker thread for sync ones."""

    allows_inline = True

    def isolated(self) -> ProcessExecutor:
        # Imported here: multiprocessing loads only when a node asks for a process.
        from wfe.executors.isolation import process_executor

        return process_executor()

    def check(self, tools: Collection[ToolDef]) -> None:
        return None  # this process imported them already

    def close(self) -> None:
        return None  # the tool threads are shared by every run: see release_tool_threads

    async def call(
        self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, step: StepInfo
    ) -> Any:
        if tool.is_async:
            # Watched: a tool that never awaits would hold the loop past any timeout.
            watched = watch(asyncio.get_running_loop())
            token = begin_output(step)
            call = calling.set(NO_TIMEOUT if timeout is None
                               else (timeout, time.monotonic() + timeout))
            try:
                if timeout is None:
                    return await tool.fn(**kwargs)
                async with asyncio.timeout(timeout):
                    return await tool.fn(**kwargs)
            finally:
                calling.reset(call)
                end_output(token, step)
                if watched is not None:
                    watched.in_flight -= 1
        # The thread gets its own copy of the step: the engine may move on after a soft timeout.
        snapshot = step.copy()
        thread_context = contextvars.copy_context()
        future = asyncio.get_running_loop().run_in_executor(
            tool_threads(), lambda: thread_context.run(_call_in_thread, snapshot, tool, kwargs)
        )
        return await (future if timeout is None else asyncio.wait_for(future, timeout))


_pool: ThreadPoolExecutor | None = None


def tool_threads() -> ThreadPoolExecutor:
    """The threads sync tools run in: wfe's own pool, not the event loop's default one, so that
    the end of a run (`asyncio.run`) never waits for a tool abandoned at its timeout."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(thread_name_prefix="wfe-tool")
    return _pool


def release_tool_threads() -> None:
    """Let idle tool threads end now; a tool still running finishes on its own (or the process
    exits without it: see wfe.cli.signals)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def _call_in_thread(step: StepInfo, tool: ToolDef, kwargs: dict[str, Any]) -> Any:
    token = set_step(step)
    try:
        return call_tool(tool.fn, kwargs, step)
    finally:
        reset_step(token)


if TYPE_CHECKING:  # mypy checks here that ProcessExecutor meets the whole Executor Protocol
    _meets_the_protocol: type[Executor] = ProcessExecutor
