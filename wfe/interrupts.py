"""Interrupt nodes: the run pauses until a person gives the values the node expects.

The values come from `wfe resume -i` (the engine's `answers`) or from a prompt on a terminal (its
`ask`); without either the run stops with status `waiting`.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from wfe.graph import GraphNode
from wfe.run_context import RunContext


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



def interrupt_values(engine: RunContext, node: GraphNode) -> dict[str, Any]:
    """The values a person gave for this interrupt node, or a pause (Stop)."""
    values = engine.answers.pop(node.name, None)
    if values is None and engine.ask is not None:
        values = engine.ask(node.name, node.message, node.expects)
    if values is None:
        waiting = {"node": node.name, "message": node.message, "expects": node.expects}
        raise Stop("waiting", waiting, before_step=True)
    return dict(values)


def answer(engine: RunContext, node: GraphNode, values: dict[str, Any]) -> dict[str, Any]:
    """Write the values as the node's updates, reported like any step."""
    began = time.monotonic()
    engine.report_started(node.name)
    written = engine.graph.schema.apply(engine.state, values, node.name)
    engine.report_finished(node.name, written, began)
    return written
