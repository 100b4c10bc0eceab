"""How one tool call runs. The engine decides what to call; an executor decides where.

`LocalExecutor` runs async tools on the event loop and sync tools inline (no timeout: the fast
path) or in a worker thread (with a timeout, or whenever concurrency needs it). A thread cannot be
killed, so a sync tool's timeout is soft: wfe stops waiting, the thread runs on to its end.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any, Protocol

from wfe.context import ToolContext, reset_context, set_context
from wfe.registry import ToolDef


class Executor(Protocol):
    """Runs one tool call and returns what the tool returned (or raises what it raised)."""

    async def call(
        self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, context: ToolContext
    ) -> Any: ...


class LocalExecutor:
    """In this process: the event loop for async tools, inline or a thread for sync ones."""

    def __init__(self, *, threads_for_sync: bool = False) -> None:
        self.threads_for_sync = threads_for_sync

    async def call(
        self, tool: ToolDef, kwargs: dict[str, Any], timeout: float | None, context: ToolContext
    ) -> Any:
        token = set_context(context)
        try:
            if tool.is_async:
                coroutine = tool.fn(**kwargs)
                return await (coroutine if timeout is None else asyncio.wait_for(coroutine, timeout))
            if timeout is None and not self.threads_for_sync:
                return tool.fn(**kwargs)
            thread_context = contextvars.copy_context()
            future = asyncio.get_running_loop().run_in_executor(
                None, lambda: thread_context.run(tool.fn, **kwargs)
            )
            return await (future if timeout is None else asyncio.wait_for(future, timeout))
        finally:
            reset_context(token)
