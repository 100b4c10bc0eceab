"""Interrupt nodes: the run pauses until a person gives the values the node expects.

The values come from `wfe resume -i` (the engine's `answers`) or from a prompt on a terminal (its
`ask`); without either the run stops with status `waiting`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Literal

from wfe.engine.journal import ItemDone
from wfe.engine.run_context import RunContext
from wfe.errors import AnswerTimeout
from wfe.graph.model import GraphNode


class Stop(Exception):
    """The run stops at a step boundary without failing: paused or cancelled."""

    def __init__(
        self, status: Literal["waiting", "cancelled"], waiting: dict[str, Any] | None,
        *, before_step: bool = False,
    ) -> None:
        super().__init__(status)
        self.status = status
        self.waiting = waiting
        #: Raised by a node before it began: its step is not counted.
        self.before_step = before_step


#: When the interrupt being asked about gives up (a time.time() value), for an Asker that can
#: stop waiting then (the terminal prompt); None: no timeout.
answer_by: ContextVar[float | None] = ContextVar("answer_by", default=None)


def interrupt_values(engine: RunContext, node: GraphNode) -> dict[str, Any] | None:
    """The values a person gave for this interrupt node; None once its timeout has passed
    without them; else a pause (Stop)."""
    values = engine.answers.pop(node.name, None)
    if values is not None:  # answered, even after the timeout: a person's answer wins
        return dict(values)
    deadline = _deadline(engine, node) if node.answer_timeout is not None else None
    if values is None and engine.ask is not None and not _due(engine, deadline):
        token = answer_by.set(deadline)
        try:
            values = engine.ask(node.name, node.message, node.expects)
        finally:
            answer_by.reset(token)
    if values is None and _due(engine, deadline):
        return None
    if values is None:
        waiting: dict[str, Any] = {"node": node.name, "message": node.message,
                                   "expects": node.expects}
        if deadline is not None:
            waiting["deadline"] = deadline
        raise Stop("waiting", waiting, before_step=True)
    return dict(values)


def _due(engine: RunContext, deadline: float | None) -> bool:
    return deadline is not None and engine.clock() >= deadline


def _deadline(engine: RunContext, node: GraphNode) -> float:
    """When the interrupt gives up: as committed when the run first reached it, or from now.

    It is committed as the step's one finished item (as `wait:` commits its deadline), which
    the store keeps while the run waits, and with the waiting entry (`deadline`).
    """
    timeout = node.answer_timeout
    assert timeout is not None
    return committed_deadline(engine, node, lambda: timeout)


def committed_deadline(engine: RunContext, node: GraphNode,
                       seconds: Callable[[], float]) -> float:
    """When a timer of the step in flight ends: as committed by an earlier process for this
    step, else `seconds()` from now, committed as the step's one finished item (which the
    journal keeps until the step commits) so that a resumed run waits only for what remains."""
    earlier = engine.finished.earlier(engine.step, node.name).get(0)
    if earlier is not None and isinstance(earlier.value, float | int):
        return float(earlier.value)
    deadline = engine.clock() + seconds()
    engine.finished.record(engine.step, ItemDone(node.name, 0, 1, 0.0, deadline))
    return deadline


def timed_out(engine: RunContext, node: GraphNode) -> dict[str, Any]:
    """No answer before the timeout: the run goes to `on_timeout`, or fails."""
    if node.on_timeout is None:
        assert node.answer_timeout is not None
        raise AnswerTimeout(f"no answer within the interrupt's timeout "
                            f"({node.answer_timeout:g} s); add `on_timeout:` to go on "
                            "elsewhere instead of failing", node=node.name)
    began = time.monotonic()
    engine.report_started(node.name)
    engine.detour = (node.on_timeout, "on_timeout")
    engine.report_finished(node.name, {}, began)
    return {}


def answer(engine: RunContext, node: GraphNode, values: dict[str, Any]) -> dict[str, Any]:
    """Write the values as the node's updates, reported like any step."""
    began = time.monotonic()
    engine.report_started(node.name)
    written = engine.graph.schema.apply(engine.state, values, node.name)
    engine.report_finished(node.name, written, began)
    return written
