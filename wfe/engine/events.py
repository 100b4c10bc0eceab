"""The event stream of a run (SPEC section 3): one JSON object per event.

The engine emits events through an EventBus; front ends (renderers, the store, `Workflow.stream`)
are listeners. An event is a plain dict: `event`, `run_id`, `ts`, `seq`, then its own fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from wfe.redact import KNOWN

Event = dict[str, Any]
Listener = Callable[[Event], None]
Clock = Callable[[], float]

EventKind = Literal[
    "run_started",
    "node_started",
    "log",
    "node_finished",
    "node_failed",
    "node_skipped",
    "edge",
    "run_waiting",
    "run_finished",
]

RunStatus = Literal["running", "succeeded", "failed", "waiting", "interrupted", "cancelled"]


_last_second: list[Any] = [None, ""]  # (whole second, its formatted text): events come in bursts


def iso_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-11-21T10:00:00.123Z."""
    second, micros = divmod(round(epoch_seconds * 1_000_000), 1_000_000)
    cached_second, prefix = _last_second
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _last_second[:] = [second, prefix]
    return f"{prefix}{micros // 1000:03d}Z"


class LogListener:
    """A listener that wants `log` events only (their annotations, say): with no other listener
    the engine builds no other event at all."""

    __slots__ = ("listener",)

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def __call__(self, event: Event) -> None:
        if event["event"] == "log":
            self.listener(event)


class EventBus:
    """Numbers events without gaps and hands them to every listener, in order."""

    __slots__ = ("_clock", "_seq", "active", "listeners", "logging", "run_id")

    def __init__(self, run_id: str, listeners: list[Listener], clock: Clock, seq: int = 0) -> None:
        self.run_id = run_id
        self.listeners = listeners
        self._clock = clock
        self._seq = seq
        #: False when nobody listens to every event: the engine then skips building them.
        self.active = any(not isinstance(listener, LogListener) for listener in listeners)
        #: Whether `log` events are wanted (by every listener, or a LogListener).
        self.logging = bool(listeners)

    @property
    def seq(self) -> int:
        return self._seq

    def emit(self, kind: EventKind, fields: dict[str, Any]) -> None:
        if not self.listeners:
            return
        self._seq += 1
        event: Event = {
            "event": kind,
            "run_id": self.run_id,
            "ts": iso_timestamp(self._clock()),
            "seq": self._seq,
        }
        event.update(fields)
        if KNOWN:  # a secret's value, wherever a tool or an error put it
            event = KNOWN.value(event)
        for listener in self.listeners:
            listener(event)
