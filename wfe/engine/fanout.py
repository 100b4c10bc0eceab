"""Compound steps: `parallel:` branches and `map:` items, run concurrently on the engine's loop,
and `workflow:` subgraphs (wfe.engine.subgraph).

Sync tools run in worker threads so that a blocking one never stalls its siblings. Updates are
applied after the join, in declaration (or input) order, so the state never depends on which
branch finished first; every write goes through its key's reducer exactly once. With a journal,
each item's result (a branch's updates) is committed as it finishes
(wfe.engine.journal.FinishedItems):
a resumed step reuses those and runs only the items that were in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

from wfe.engine.cached_call import call_item
from wfe.engine.cancel_watch import stop_on_cancel
from wfe.engine.journal import ItemDone
from wfe.engine.run_context import RunContext
from wfe.engine.subgraph import run_subgraph
from wfe.engine.tool_failure import ToolFailure, error_message
from wfe.errors import ExpressionError, StateError
from wfe.graph.model import GraphNode
from wfe.tools.binding import ItemScope, bind_arguments, updates_of

#: The body of a compound step (`run_parallel`, `run_map`, `run_workflow`).
Body = Callable[[RunContext, GraphNode], Coroutine[Any, Any, tuple[int, dict[str, Any]]]]


async def run_compound(engine: RunContext, node: GraphNode,
                       body: Body) -> tuple[int, dict[str, Any]]:
    """Run a parallel, map or workflow node's `body` as one step: (attempts, the updates
    written), reported as a node of its own and stopped at once by `wfe cancel`."""
    # Branches and items copy this: their ctx.step is this step and their idempotency key
    # this node's visit (the same after a resume), not those of the last tool node that ran.
    info = engine.info
    info.node, info.step, info.visit = node.name, engine.step, engine.visits[node.name]
    began = time.monotonic()
    engine.report_started(node.name)
    try:
        if engine.cancel_requested is not None:
            attempts, written = await stop_on_cancel(body(engine, node),
                                                     engine.cancel_requested)
        else:
            attempts, written = await body(engine, node)
    except ToolFailure as failure:
        engine.report_failed(node.name, failure.error, failure.item)
        raise
    engine.report_finished(node.name, written, began)
    return attempts, written


async def run_workflow(engine: RunContext, node: GraphNode) -> tuple[int, dict[str, Any]]:
    """A `workflow:` node's child run, its outputs applied to the state."""
    updates = await run_subgraph(engine, node, engine.scope, f"{node.name}/")
    return 1, engine.graph.schema.apply(engine.state, updates, node.name)


# --- parallel --------------------------------------------------------------------------------

async def _branch(engine: RunContext, node: GraphNode, position: int,
                  branch: GraphNode) -> tuple[int, dict[str, Any]]:
    began = time.monotonic()
    if branch.subgraph is not None:  # a sub-flow: its nodes are `node/branch/child`
        attempt = 1
        engine.report_started(branch.name)
        updates = await run_subgraph(engine, branch, engine.scope, f"{branch.name}/",
                                     in_item=True)
    else:
        info = engine.info.copy()
        info.node = branch.name
        kwargs = bind_arguments(branch, engine.state, engine.scope)
        attempt, result, _ = await engine.call(branch, branch.name, kwargs, info,
                                               inline=False, fanout=True)
        updates = updates_of(branch, kwargs, engine.state, result)
    engine.report_finished(branch.name, updates, began)
    if engine.finished.recording and engine.graph.schema.secret_keys.isdisjoint(updates):
        duration = round((time.monotonic() - began) * 1000, 3)
        engine.finished.record(engine.step, ItemDone(node.name, position, attempt, duration,
                                                     updates))
    return attempt, updates


async def run_parallel(engine: RunContext, node: GraphNode) -> tuple[int, dict[str, Any]]:
    earlier = engine.finished.earlier(engine.step, node.name)
    results = {b.name: (earlier[i].attempts, earlier[i].value)
               for i, b in enumerate(node.branches) if i in earlier and not earlier[i].failed}
    failures = [earlier[i].value for i in sorted(earlier) if earlier[i].failed]
    left = [(i, b) for i, b in enumerate(node.branches) if i not in earlier]
    tasks = [asyncio.ensure_future(_branch(engine, node, i, b)) for i, b in left]
    try:
        if node.tolerate is not None:
            results.update(await _settle(engine, node, left, tasks, failures))
        elif node.needed == len(node.branches):
            # join: all. One gather, not a wait() per completion (which is quadratic in the
            # number of branches): the first failure raises here and the rest are cancelled.
            results.update(zip((b.name for _, b in left), await asyncio.gather(*tasks),
                               strict=True))
        elif len(results) < node.needed:
            results.update(await _first(node.needed - len(results), [b for _, b in left],
                                        tasks, failures))
    finally:
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    ordered = [(b.name, results[b.name]) for b in node.branches if b.name in results]
    written = _apply_once(engine, node, [(name, updates) for name, (_, updates) in ordered])
    written |= write_errors(engine, node, failures)
    return max((attempt for _, (attempt, _) in ordered), default=1), written


async def _first(needed: int, branches: list[GraphNode],
                 tasks: Sequence[asyncio.Future[tuple[int, dict[str, Any]]]],
                 failed: list[dict[str, Any]]) -> dict[str, tuple[int, dict[str, Any]]]:
    """join: any / at_least N: the first `needed` successes, or the failure that rules them out;
    the branches that failed before are added to `failed`."""
    names = {task: branch.name for task, branch in zip(tasks, branches, strict=True)}
    done: dict[str, tuple[int, dict[str, Any]]] = {}
    failures: list[ToolFailure] = []
    pending = set(tasks)
    while pending and len(done) < needed:
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            try:
                done[names[task]] = task.result()
            except ToolFailure as failure:
                failures.append(failure)
                failed.append(_branch_failure(names[task], failure))
        if len(tasks) - len(failures) < needed:
            raise failures[0]
    return done


async def _settle(engine: RunContext, node: GraphNode, left: list[tuple[int, GraphNode]],
                  tasks: Sequence[asyncio.Future[tuple[int, dict[str, Any]]]],
                  failed: list[dict[str, Any]]) -> dict[str, tuple[int, dict[str, Any]]]:
    """`tolerate:` every branch runs to its end; the node fails (naming the branch) at the
    first failure past the tolerance. A tolerated failure is committed as finished."""
    assert node.tolerate is not None
    allowed = node.tolerate.allowed(len(node.branches))
    of = {task: branch for task, branch in zip(tasks, left, strict=True)}
    done: dict[str, tuple[int, dict[str, Any]]] = {}
    pending = set(tasks)
    while pending:
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            position, branch = of[task]
            try:
                done[branch.name] = task.result()
            except ToolFailure as failure:
                failure.item = branch.name
                if len(failed) >= allowed:
                    raise
                failed.append(_branch_failure(branch.name, failure))
                _tolerated(engine, node, position, failure, failed[-1])
    return done


def _branch_failure(name: str, failure: ToolFailure) -> dict[str, Any]:
    return {"branch": name.rsplit("/", 1)[-1], **_error_of(failure)}


def _error_of(failure: ToolFailure) -> dict[str, Any]:
    return {"type": type(failure.error).__name__, "message": error_message(failure.error)}


def _tolerated(engine: RunContext, node: GraphNode, number: int, failure: ToolFailure,
               record: dict[str, Any]) -> None:
    """A failure within `tolerate:`, committed so that a resume keeps it (its `node_failed`
    event is the tool call's, or the sub-flow's own)."""
    engine.finished.record(engine.step, ItemDone(node.name, number, failure.attempts, 0.0,
                                                 record, failed=True))


def write_errors(engine: RunContext, node: GraphNode,
                 failures: list[dict[str, Any]]) -> dict[str, Any]:
    """`errors: KEY`: the failures appended to the key, through its reducer."""
    key = node.errors_key
    if key is None or not failures:
        return {}
    schema = engine.graph.schema
    reduce = schema.slots[key].reduce
    if reduce == "append":
        for failure in failures:
            schema.apply(engine.state, {key: failure}, node.name)
        return {key: failures}
    if reduce == "extend":
        return schema.apply(engine.state, {key: failures}, node.name)
    return schema.apply(engine.state, {key: [*(engine.state.get(key) or []), *failures]},
                        node.name)


def _apply_once(engine: RunContext, node: GraphNode,
                results: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Apply each branch's updates; two branches replacing one key is an error naming both."""
    schema = engine.graph.schema
    writer: dict[str, str] = {}
    written: dict[str, Any] = {}
    appends: dict[str, list[Any]] = {}  # the items of `append` keys that several branches wrote
    for name, updates in results:
        for key in updates:
            slot = schema.slots.get(key)
            if slot is not None and slot.reduce == "replace" and key in writer:
                raise StateError(
                    f"branches '{writer[key]}' and '{name}' both wrote state key '{key}', which "
                    "has no reducer to combine them (give it one, e.g. reduce: append)",
                    key=key, node=node.name)
            writer[key] = name
        for key, value in schema.apply(engine.state, updates, name).items():
            if key not in written:
                written[key] = value
                continue
            appended = appends.setdefault(key, [written[key]]) \
                if schema.slots[key].reduce == "append" else None
            written[key] = _combined(schema.slots[key].reduce, engine.state[key], written[key],
                                     value, appended)
    return written


def _combined(reduce: str, now: Any, before: Any, value: Any, appended: list[Any] | None) -> Any:
    """What two or more branches' writes of one key changed together: every branch's items for
    `append` (the list of them) and `extend`, the keys of each for `merge`, the sum for `add`,
    the value after a custom reducer."""
    if appended is not None:
        appended.append(value)
        return appended
    if reduce == "extend":
        return [*before, *value]
    if reduce == "merge":
        return {**before, **value}
    if reduce == "add":
        return before + value
    return now


# --- map -------------------------------------------------------------------------------------

def _items_of(engine: RunContext, node: GraphNode) -> list[Any]:
    assert node.items is not None
    try:
        items = node.items.evaluate(engine.scope)
    except ExpressionError as error:
        raise ExpressionError(f"map `{node.items.source}`: {error}", node=node.name) from None
    if not isinstance(items, list):
        raise ExpressionError(f"map `{node.items.source}` must give a list, got "
                              f"{type(items).__name__}", node=node.name)
    return items


async def run_map(engine: RunContext, node: GraphNode) -> tuple[int, dict[str, Any]]:
    items = _items_of(engine, node)
    results: list[Any] = [None] * len(items)
    records: list[dict[str, Any]] = [{"index": i, "status": "pending"} for i in range(len(items))]
    failures: dict[int, dict[str, Any]] = {}
    attempts = [_reuse(engine, node, results, records, failures)]
    left = [i for i, record in enumerate(records) if record["status"] == "pending"]
    indexes: Iterator[int] = iter(left)
    keep = engine.finished.recording and node.collect not in engine.graph.schema.secret_keys
    allowed = node.tolerate.allowed(len(items)) if node.tolerate is not None else -1

    async def worker() -> None:
        for index in indexes:
            try:
                results[index], used = await _item(engine, node, index, items[index],
                                                   records[index])
            except ToolFailure as failure:
                if len(failures) >= allowed:
                    raise
                failures[index] = {"index": index, "item": items[index], **_error_of(failure)}
                _tolerated(engine, node, index, failure, failures[index])
                continue
            attempts[0] = max(attempts[0], used)
            if keep:
                engine.finished.record(engine.step, ItemDone(
                    node.name, index, used, records[index]["duration_ms"],
                    results[index] if node.collect is not None else None))

    workers = [asyncio.ensure_future(worker()) for _ in range(min(node.concurrency, len(left)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        engine.items = records
    written = (engine.graph.schema.apply(engine.state, {node.collect: results}, node.name)
               if node.collect is not None else {})
    written |= write_errors(engine, node, [failures[i] for i in sorted(failures)])
    return max(attempts[0], 1), written


def _reuse(engine: RunContext, node: GraphNode, results: list[Any],
           records: list[dict[str, Any]], failures: dict[int, dict[str, Any]]) -> int:
    """Take the items an earlier process finished of this step (a tolerated failure as failed);
    the most attempts they took."""
    most = 0
    for number, done in engine.finished.earlier(engine.step, node.name).items():
        if number >= len(results):
            continue
        records[number] = {"index": number, "status": "succeeded", "attempts": done.attempts,
                           "duration_ms": done.duration_ms, "reused": True}
        if done.failed:
            failures[number] = done.value
            records[number].update(status="failed", error={
                "type": done.value["type"], "message": done.value["message"]})
        else:
            results[number] = done.value
        most = max(most, done.attempts)
    return most


async def _item(engine: RunContext, node: GraphNode, index: int, item: Any,
                record: dict[str, Any]) -> tuple[Any, int]:
    label = f"{node.name}[{index}]"
    info = engine.info.copy()
    info.node = label
    began = time.monotonic()
    record["status"] = "running"
    try:
        scope = ItemScope(engine.scope, node.item_name, item)
        if node.subgraph is not None:
            attempt, result = 1, await run_subgraph(engine, node, scope, f"{label}/",
                                                    in_item=True)
        else:
            kwargs = bind_arguments(node, engine.state, scope, item)
            inline = node.runs_inline and node.concurrency == 1 and engine.inline_fanout
            if node.cache_ttl is not None and engine.cache is not None:
                attempt, result = await call_item(engine, node, label, kwargs, info, inline)
            else:
                attempt, result, _ = await engine.call(node, label, kwargs, info, inline,
                                                       fanout=True)
    except ToolFailure as failure:
        failure.item = label
        record.update(status="failed", attempts=failure.attempts,
                      error={"type": type(failure.error).__name__, "message": str(failure.error)})
        raise
    except asyncio.CancelledError:
        record["status"] = "cancelled"
        raise
    finally:
        record["duration_ms"] = round((time.monotonic() - began) * 1000, 3)
    record.update(status="succeeded", attempts=attempt)
    engine.report_finished(label, {"result": result} if engine.bus.active else {}, began)
    return result, attempt
