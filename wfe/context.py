"""What a running tool can know about its step: the `ctx` parameter and `wfe.log`.

The engine keeps one mutable StepInfo per line of execution and updates it in place per step (no
allocation on the hot path); a tool that asks for `ctx` gets an immutable ToolContext snapshot.
"""

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


class StepInfo:
    """Where a line of execution stands: the run, the node, its step, visit and attempt."""

    __slots__ = ("attempt", "node", "run_id", "sink", "step", "visit")

    def __init__(self, run_id: str, sink: LogSink | None) -> None:
        self.run_id = run_id
        self.sink = sink
        self.node = ""
        self.step = 0
        self.visit = 0
        self.attempt = 0

    def copy(self) -> StepInfo:
        twin = StepInfo(self.run_id, self.sink)
        twin.node, twin.step, twin.visit, twin.attempt = (
            self.node, self.step, self.visit, self.attempt
        )
        return twin

    def context(self) -> ToolContext:
        key = f"{self.run_id}:{self.node}:{self.visit}"
        return ToolContext(self.run_id, self.node, self.step, self.attempt, key, self.sink)

    def log(self, message: str) -> None:
        if self.sink is not None:
            self.sink(self.node, str(message))


_current: ContextVar[StepInfo | None] = ContextVar("wfe_step", default=None)


def current_context() -> ToolContext | None:
    """The context of the tool running in this task or thread, if any."""
    info = _current.get()
    return info.context() if info is not None else None


def log(message: str) -> None:
    """Emit a `log` event from inside a tool; outside a run it does nothing."""
    info = _current.get()
    if info is not None:
        info.log(message)


def set_step(info: StepInfo | None) -> object:
    """Make info current in this task or thread; returns a token for `reset_step`."""
    return _current.set(info)


def reset_step(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
