"""What a run says as it goes: the events of its steps (SPEC section 3), named under a subgraph's
node, and the `log` lines of its tools, from any thread. The engine is a RunEvents."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from wfe.engine.events import EventBus, EventKind
from wfe.engine.tool_failure import error_message
from wfe.graph.model import Graph
from wfe.redact import cut

if TYPE_CHECKING:
    from wfe.tools.annotations import Annotation

__all__ = ["RunEvents"]

_RUN_EVENTS: frozenset[EventKind] = frozenset({"run_started", "run_finished", "run_waiting"})


class RunEvents:
    """The event side of a run: what its engine has that the events need."""

    __slots__ = ()  # the engine declares its attributes

    graph: Graph
    bus: EventBus
    step: int
    #: A subgraph's nodes are named under the parent's node (`review/extract`).
    prefix: str
    _loop: asyncio.AbstractEventLoop | None
    _loop_thread: int

    def report_handler_failed(self, node: str, error: dict[str, Any]) -> None:
        if self.bus.active:
            self._emit("node_failed", {"node": node, "step": self.step, "attempt": 1,
                                       "error": error})

    def report_started(self, label: str) -> None:
        if self.bus.active:
            self._emit("node_started", {"node": label, "step": self.step, "attempt": 1})

    def report_finished(self, label: str, updates: dict[str, Any], began: float) -> None:
        """`node_finished` of a fan-out step, or of one of its branches or items."""
        if self.bus.active:
            self._emit("node_finished", {
                "node": label, "step": self.step,
                "duration_ms": round((time.monotonic() - began) * 1000, 3),
                "updates": self.graph.schema.mask(updates),
            })

    def report_failed(self, label: str, error: BaseException, item: str | None = None) -> None:
        """`node_failed` of a fan-out step; `item`: the map item that failed (`m[12]`)."""
        self._emit_failed(label, self.step, 1, error, item)

    def _emit(self, kind: EventKind, fields: dict[str, Any]) -> None:
        if self.prefix:
            if kind in _RUN_EVENTS:
                return
            for key in ("node", "from", "to"):
                if key in fields:
                    fields[key] = self.prefix + fields[key]
        self.bus.emit(kind, fields)

    def _emit_edge(self, source: str, target: str, condition: str | None) -> None:
        if self.bus.active:
            self._emit("edge", {"from": source, "to": target, "condition": condition})

    def _emit_failed(self, label: str, step: int, attempt: int, error: BaseException,
                     item: str | None = None) -> None:
        if self.bus.active:
            fields = {"type": type(error).__name__, "message": error_message(error)}
            if item is not None:
                fields["item"] = self.prefix + item
            self._emit("node_failed", {"node": label, "step": step, "attempt": attempt,
                                       "error": fields})

    def _log(self, node: str, message: str, annotation: Annotation | None = None) -> None:
        if not self.bus.logging:
            return
        fields: dict[str, Any] = {"node": node, "message": cut(message)}
        if annotation is not None:
            fields["annotation"] = annotation
        if threading.get_ident() == self._loop_thread or self._loop is None:
            self._emit("log", fields)
        else:
            self._loop.call_soon_threadsafe(self._emit, "log", fields)
