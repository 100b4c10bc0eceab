"""`wfe resume RUN_ID`: continue a waiting, interrupted or failed run from its last committed step,
or (`--from NODE`) start a new run, linked to the old one, from that node with its state there.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.api import Workflow, load_stored_workflow
from wfe.cli.inputs import parse_assignments
from wfe.cli.run_command import RunOptions, execute, open_store, store_cache
from wfe.executors.cluster import chosen_executor, cluster_for
from wfe.ids import new_run_id
from wfe.resuming import (
    RestartPoint,
    fork_point,
    restart_point,
    resume_point,
)
from wfe.state.types import TypeTree, parse_type
from wfe.store.journal import StoreJournal, new_run

if TYPE_CHECKING:
    from wfe.store import RunRecord, Store


@dataclass(kw_only=True)
class StoredRunOptions:
    """What `wfe resume` and `wfe fork` are both told: the stored run and how to go on."""

    run: str
    assignments: list[str] = field(default_factory=list)
    force: bool = False
    imports: list[str] = field(default_factory=list)
    json_lines: bool = False
    quiet: bool = False
    output: Path | None = None
    store: Path | None = None
    durability: str | None = None
    no_cache: bool = False
    executor: str | None = None


@dataclass(kw_only=True)
class ResumeOptions(StoredRunOptions):
    start_from: str | None = None


def resume_run(options: ResumeOptions) -> int:
    executor = chosen_executor(options.executor)
    with open_store(options.store, options.durability) as store:
        record = store.get_run(store.resolve(options.run))
        workflow = load_stored_workflow(record, options.imports, options.force)
        given = parse_assignments(options.assignments, _key_types(workflow, record))
        run_options = RunOptions(file=Path(record.workflow_path), json_lines=options.json_lines,
                                 quiet=options.quiet, output=options.output,
                                 no_cache=options.no_cache)
        if options.start_from is not None:
            return _restart_from(store, workflow, record, options.start_from, run_options, given,
                                 executor)
        point = resume_point(workflow, record, given)
        with cluster_for(*executor, workflow.graph) as fanout:
            lease = store.claim(record.run_id)
            journal = StoreJournal(store, lease, workflow.graph)
            return execute(workflow, run_options, record.inputs, point.state, journal=journal,
                           run_id=record.run_id, cursor=point.cursor, answers=point.answers,
                           cache=store_cache(store, options.no_cache), fanout=fanout)


def _restart_from(
    store: Store,
    workflow: Workflow,
    record: RunRecord,
    node: str,
    run_options: RunOptions,
    given: dict[str, Any],
    executor: tuple[str, str],
) -> int:
    point = restart_point(workflow, store, record, node, given)
    return start_linked(store, workflow, record.run_id, point, run_options, executor)


def start_linked(
    store: Store,
    workflow: Workflow,
    old_run: str,
    point: RestartPoint,
    run_options: RunOptions,
    executor: tuple[str, str],
) -> int:
    """A new run linked to `old_run` from `point` (`resume --from` and `fork`); its id is
    printed on stderr, and it runs here."""
    graph = workflow.graph
    run_id = new_run_id()
    with cluster_for(*executor, graph) as fanout:
        lease = store.create_run(new_run(graph, run_id, point.inputs, point.state,
                                         parent=old_run, start=point.cursor.node,
                                         cursor=point.cursor))
        sys.stderr.write(f"run {run_id}: from run {old_run} after step {point.cursor.step}\n")
        journal = StoreJournal(store, lease, graph)
        return execute(workflow, run_options, point.inputs, point.state, journal=journal,
                       run_id=run_id, cursor=point.cursor,
                       cache=store_cache(store, run_options.no_cache), fanout=fanout)


@dataclass(kw_only=True)
class ForkOptions(StoredRunOptions):
    at: int


def fork_run(options: ForkOptions) -> int:
    """`wfe fork RUN --at STEP`: a new linked run from the state after STEP, at the node that
    followed it."""
    executor = chosen_executor(options.executor)
    with open_store(options.store, options.durability) as store:
        record = store.get_run(store.resolve(options.run))
        workflow = load_stored_workflow(record, options.imports, options.force)
        given = parse_assignments(options.assignments, workflow.graph.schema.trees)
        run_options = RunOptions(file=Path(record.workflow_path), json_lines=options.json_lines,
                                 quiet=options.quiet, output=options.output,
                                 no_cache=options.no_cache)
        point = fork_point(workflow, store, record, options.at, given)
        return start_linked(store, workflow, record.run_id, point, run_options, executor)


def _key_types(workflow: Workflow, record: RunRecord) -> dict[str, TypeTree]:
    """How each `-i` text is read: for the type a waiting run expects, else the state's."""
    trees = workflow.graph.schema.trees
    expects: dict[str, str] = dict((record.waiting or {}).get("expects") or {})
    return {**trees, **{key: parse_type(text) for key, text in expects.items()}}
