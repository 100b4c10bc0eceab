"""What a running tool can know about its step: the `ctx` parameter and `wfe.log`."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

LogSink = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Passed to a tool that declares a `ctx` parameter."""

    run_id: str
    node: str
    step: int
    attempt: int
    idempotency_key: str
    _sink: LogSink | None = field(default=None, repr=False, compare=False)

    def log(self, message: str) -> None:
        """Emit a `log` event tied to this node."""
        if self._sink is not None:
            self._sink(self.node, str(message))


_current: ContextVar[ToolContext | None] = ContextVar("wfe_tool_context", default=None)


def current_context() -> ToolContext | None:
    """The context of the tool running in this task or thread, if any."""
    return _current.get()


def log(message: str) -> None:
    """Emit a `log` event from inside a tool; outside a run it does nothing."""
    ctx = _current.get()
    if ctx is not None:
        ctx.log(message)


def set_context(ctx: ToolContext | None) -> object:
    """Make ctx current; returns a token for `reset_context`."""
    return _current.set(ctx)


def reset_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
