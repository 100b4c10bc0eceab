"""`wfe resume RUN_ID`: continue a waiting, interrupted or failed run from its last committed step,
or (`--from NODE`) start a new run, linked to the old one, from that node with its state there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe.api import Workflow, load_stored_workflow
from wfe.cli.inputs import parse_assignments
from wfe.cli.run_command import RunOptions, execute, open_store, store_cache
from wfe.cluster import chosen_executor, cluster_for
from wfe.durable import StoreJournal, new_run, resumed_state
from wfe.errors import UsageError
from wfe.ids import new_run_id
from wfe.journal import Cursor
from wfe.resuming import resume_point

if TYPE_CHECKING:
    from wfe.store import RunRecord, Store
    from wfe.types import TypeTree


@dataclass
class ResumeOptions:
    run: str
    assignments: list[str] = field(default_factory=list)
    start_from: str | None = None
    force: bool = False
    imports: list[str] = field(default_factory=list)
    json_lines: bool = False
    quiet: bool = False
    output: Path | None = None
    store: Path | None = None
    durability: str | None = None
    no_cache: bool = False
    executor: str | None = None


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
            return _restart_from(store, workflow, record.run_id, options.start_from, run_options,
                                 record.inputs, given, executor)
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
    old_run: str,
    node: str,
    run_options: RunOptions,
    inputs: dict[str, Any],
    given: dict[str, Any],
    executor: tuple[str, str],
) -> int:
    graph = workflow.graph
    if node not in graph.nodes:
        raise UsageError(f"--from {node}: no such node in {graph.file}")
    stored, visits, step = store.state_before(old_run, node)
    state = graph.schema.edited(resumed_state(graph, stored, given, os.environ), given)
    inputs = {**inputs, **given}
    run_id, cursor = new_run_id(), Cursor(node, visits, step, 0)
    with cluster_for(*executor, graph) as fanout:
        lease = store.create_run(new_run(graph, run_id, inputs, state, parent=old_run,
                                         start=node, cursor=cursor))
        journal = StoreJournal(store, lease, graph)
        return execute(workflow, run_options, inputs, state, journal=journal, run_id=run_id,
                       cursor=cursor, cache=store_cache(store, run_options.no_cache),
                       fanout=fanout)


def _key_types(workflow: Workflow, record: RunRecord) -> dict[str, TypeTree]:
    """How each `-i` text is read: for the type a waiting run expects, else the state's."""
    from wfe.types import parse_type

    trees = workflow.graph.schema.trees
    expects: dict[str, str] = dict((record.waiting or {}).get("expects") or {})
    return {**trees, **{key: parse_type(text) for key, text in expects.items()}}
