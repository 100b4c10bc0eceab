"""An `interrupt` inside a subgraph: the parent run waits for it, and `wfe resume` answers it.

The child pauses as any run does (wfe.engine.interrupts); its `workflow:` node then pauses the
parent.
The parent's `waiting` entry names the interrupt under the parent's node (`check/approve`) with
the child's message and expects, and keeps, under `within`, where the child stopped: its node,
counters and state (secrets left out, as the store always does). The subgraph step is not
committed, so a resume starts again at the `workflow:` node; the answers, handed to it as a
PausedChild, make it continue its child from where the child stopped instead of from its start.
Subgraphs nest: `within` holds the grandchild's own `within`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wfe.engine.journal import Cursor
from wfe.engine.result import RunResult
from wfe.graph.model import Graph, GraphNode

#: The key of a `waiting` entry that says where a paused subgraph stopped.
WITHIN = "within"


@dataclass(frozen=True)
class PausedChild:
    """What a resumed `workflow:` node continues its child with."""

    cursor: Cursor
    state: dict[str, Any]
    answers: dict[str, Any]


def parent_waiting(node: GraphNode, child: Graph, result: RunResult) -> dict[str, Any]:
    """The parent's `waiting` entry for a child run that paused."""
    waiting = result.waiting or {}
    inner = waiting.get(WITHIN)
    within: dict[str, Any] = {
        "node": node.name,
        "at": inner["node"] if inner is not None else waiting["node"],
        "visits": dict(result.visits),
        "step": result.steps,
        "state": {k: v for k, v in result.state.items() if k not in child.schema.secret_keys},
    }
    if inner is not None:
        within[WITHIN] = inner
    return {"node": f"{node.name}/{waiting['node']}", "message": waiting.get("message", ""),
            "expects": dict(waiting.get("expects") or {}), WITHIN: within}


def public_waiting(waiting: dict[str, Any]) -> dict[str, Any]:
    """A `waiting` entry as events show it: where and what, without a child's state."""
    return {key: value for key, value in waiting.items() if key != WITHIN}


def resume_answers(waiting: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The engine's answers for a run waiting as `waiting` says: {interrupt node: values}, or
    {workflow node: PausedChild} when the interrupt is inside a subgraph."""
    within = waiting.get(WITHIN)
    if within is None:
        return {str(waiting["node"]): answers}
    inner: dict[str, Any] = {"node": str(waiting["node"]).split("/", 1)[1]}
    if WITHIN in within:
        inner[WITHIN] = within[WITHIN]
    cursor = Cursor(str(within["at"]), dict(within["visits"]), int(within["step"]))
    paused = PausedChild(cursor, dict(within["state"]), resume_answers(inner, answers))
    return {str(within["node"]): paused}
