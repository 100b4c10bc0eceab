"""A `cache:` node's call as a step of a run: the result looked up first, kept once applied
(the cache itself is wfe.engine.cache)."""

from __future__ import annotations

import time
from typing import Any

from wfe.engine.cache import Cache
from wfe.engine.run_context import RunContext
from wfe.graph.model import GraphNode
from wfe.tools.binding import updates_of
from wfe.tools.context import StepInfo

__all__ = ["call_item", "execute_cached"]

HIT_MESSAGE = "cache hit"

async def execute_cached(engine: RunContext, node: GraphNode, cache: Cache, kwargs: dict[str, Any],
                         inline: bool) -> tuple[int, dict[str, Any]]:
    """A `tool:` step of a node with `cache:`: (attempts, the updates written).

    A hit still reports `node_started` and `node_finished` (with a `log` "cache hit" between),
    so every start has its finish. A result is kept only once its updates were applied.
    """
    info = engine.info
    found = cache.lookup(node, kwargs)
    if found.hit:
        engine.report_started(node.name)
        info.log(HIT_MESSAGE)
        return 1, _apply(engine, node, kwargs, found.value, time.monotonic())[1]
    attempt, result, began = await engine.call(node, node.name, kwargs, info, inline)
    updates, written = _apply(engine, node, kwargs, result, began)
    if found.key is not None and not (engine.graph.schema.secret_keys & updates.keys()):
        # A tool that changes its copy of `state` has updates its return value lacks.
        kept = updates if node.wants_state and node.out is None else result
        cache.remember(node, found.key, kept)
    return attempt, written


def _apply(engine: RunContext, node: GraphNode, kwargs: dict[str, Any], result: Any,
           began: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the updates of `result`, those written) once applied and reported."""
    updates = updates_of(node, kwargs, engine.state, result)
    written = engine.graph.schema.apply(engine.state, updates, node.name) if updates else {}
    engine.report_finished(node.name, written, began)
    return updates, written


async def call_item(engine: RunContext, node: GraphNode, label: str, kwargs: dict[str, Any],
                    info: StepInfo, inline: bool) -> tuple[int, Any]:
    """One item of a `map:` node with `cache:`: (attempts, the tool's result)."""
    assert engine.cache is not None
    found = engine.cache.lookup(node, kwargs)
    if found.hit:
        engine.report_started(label)
        info.log(HIT_MESSAGE)
        return 1, found.value
    attempt, result, _ = await engine.call(node, label, kwargs, info, inline, fanout=True)
    if found.key is not None and node.collect not in engine.graph.schema.secret_keys:
        engine.cache.remember(node, found.key, result)
    return attempt, result
