"""`workflow: FILE` nodes: another workflow run as one step of this one.

Running gives the child the evaluated `inputs`, runs it on the parent's event stream (its nodes
named `parent_node/child_node`, inside a map `node[3]/child`), and writes the child's `outputs`
back as the step's updates (compiling it is wfe.graph.subgraph_compile's). A subgraph is one step
of the
parent: after a crash the whole subgraph runs again. An interrupt in the child pauses the parent,
and a resume continues the child where it stopped (wfe.engine.subgraph_pause).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wfe.engine.interrupts import Stop
from wfe.engine.run_context import Asker, RunContext
from wfe.engine.subgraph_pause import PausedChild, parent_waiting
from wfe.engine.tool_failure import ToolFailure
from wfe.errors import ExpressionError, InputError, RunError
from wfe.graph.model import GraphNode


async def run_subgraph(engine: RunContext, node: GraphNode, scope: Mapping[str, Any],
                       prefix: str, *, in_item: bool = False) -> dict[str, Any]:
    """Run the child to its end; its outputs, keyed by the parent's keys.

    A map item's child (`in_item`) makes every call on the parent's fan-out executor.
    """
    child = node.subgraph
    assert child is not None
    inputs = _evaluate_inputs(node, scope)
    try:
        state = child.schema.initial(inputs)
    except InputError as error:
        raise RunError(f"subgraph input: {error}", node=node.name) from None
    paused = None if in_item else engine.answers.pop(node.name, None)
    cursor, answers = None, None
    if isinstance(paused, PausedChild):  # a resumed run: the child goes on where it stopped
        if paused.cursor.node not in child.nodes:
            raise RunError(f"{child.file} changed since the run paused: it has no "
                           f"node '{paused.cursor.node}' to go on from", node=node.name)
        state.update(paused.state)
        cursor, answers = paused.cursor, paused.answers
    run = engine.child(child, inputs=inputs, prefix=prefix, in_item=in_item,
                       ask=_prefixed(engine, prefix) if not in_item else None)
    result = await run.run(state, cursor, answers)
    if result.status == "waiting":
        if in_item:  # refused when the file is loaded; a map's items cannot wait one by one
            raise RunError("a map item's workflow cannot wait for input", node=node.name)
        raise Stop("waiting", parent_waiting(node, child, result))
    if result.error is not None:
        raise ToolFailure(result.error, 1)
    missing = [c for c in node.sub_outputs.values() if c not in result.state]
    if missing:
        raise RunError(f"the subgraph ended without setting '{missing[0]}'", node=node.name)
    return {parent: result.state[child_key] for parent, child_key in node.sub_outputs.items()}


def _prefixed(engine: RunContext, prefix: str) -> Asker | None:
    """The parent's way of asking a person, for the child's interrupts (named as events are)."""
    ask = engine.ask
    if ask is None:
        return None
    return lambda name, message, expects: ask(prefix + name, message, expects)


def _evaluate_inputs(node: GraphNode, scope: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, expression, constant in node.sub_inputs:
        if expression is None:
            values[key] = constant
            continue
        try:
            values[key] = expression.evaluate(scope)
        except ExpressionError as error:
            raise ExpressionError(f"inputs.{key}: {error}", node=node.name) from None
    return values
