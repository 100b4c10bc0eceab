"""Runs recorded in a store, as `wfe run`, `wfe resume` and the Python API start and resume them:
one way to open a store given as a path, to load a stored run's workflow and to find where and
with what state it goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wfe.engine.journal import Cursor
from wfe.errors import UsageError
from wfe.store import RunNotResumable, Store, durability_setting, store_path
from wfe.store.journal import cursor_of, resumed_state, split_resume_inputs
from wfe.store.store import RESUMABLE

if TYPE_CHECKING:
    from wfe.graph.model import Graph
    from wfe.state.schema import State
    from wfe.store import RunRecord

__all__ = [
    "NoSuchStep",
    "RestartPoint",
    "ResumePoint",
    "edited_point",
    "fork_point",
    "opened_store",
    "restart_point",
    "resume_point",
]


class Compiled(Protocol):
    """A loaded workflow, as far as resuming needs it (`wfe.api.Workflow`)."""

    @property
    def graph(self) -> Graph: ...


@contextmanager
def opened_store(store: str | Path | Store) -> Iterator[Store]:
    """A Store as it is (left open), or the store at a path (closed after)."""
    if isinstance(store, Store):
        yield store
        return
    with Store.open(store_path(Path(store)), durability=durability_setting(None)) as opened:
        yield opened


@dataclass(frozen=True)
class ResumePoint:
    """Where a stored run goes on, with what state and with which answers to its interrupt."""

    state: State
    cursor: Cursor
    answers: dict[str, dict[str, Any]]


def resume_point(workflow: Compiled, record: RunRecord, given: Mapping[str, Any]) -> ResumePoint:
    """`given`: the answers a waiting run expects and secret keys (checked here, once the run is
    known to be resumable: a finished run says so rather than refusing the inputs)."""
    if record.status != "running" and record.status not in RESUMABLE:
        raise RunNotResumable(record.run_id, record.status)

    state = resumed_state(workflow.graph, record.state, given, os.environ)
    answers = split_resume_inputs(workflow.graph, record, given)
    return ResumePoint(state, cursor_of(record), answers)


@dataclass(frozen=True)
class RestartPoint:
    """A new run from a node of an old one (`wfe resume --from NODE`): its state there with the
    edits applied, its inputs and where it begins."""

    state: State
    inputs: dict[str, Any]
    cursor: Cursor


def restart_point(workflow: Compiled, store: Store, record: RunRecord, node: str,
                  given: Mapping[str, Any]) -> RestartPoint:
    """The state the old run had before `node`, edited by `given` (state keys or inputs)."""
    graph = workflow.graph
    if node not in graph.nodes:
        raise UsageError(f"--from {node}: no such node in {graph.file}")
    stored, visits, step = store.state_before(record.run_id, node)
    return edited_point(workflow, record, (stored, visits, step, node), given)


class NoSuchStep(UsageError):
    """`wfe fork --at STEP` (or `POST /runs/{id}/fork`) with a step the run does not have."""


def fork_point(workflow: Compiled, store: Store, record: RunRecord, at: int,
               given: Mapping[str, Any]) -> RestartPoint:
    """The state after step `at` of the old run, edited by `given`, at the node that followed."""
    # a step past the run's last is not looked up (nor one past SQLite's integers)
    position = store.state_after(record.run_id, at) if 0 <= at <= record.step else None
    if position is None:
        steps = store.steps(record.run_id)
        lowest = steps[0].step - 1 if steps else record.step
        raise NoSuchStep(f"--at {at}: run {record.run_id} has no step {at} (its steps are "
                         f"{lowest} to {record.step})")
    return edited_point(workflow, record, position, given)


def edited_point(workflow: Compiled, record: RunRecord,
                 position: tuple[dict[str, Any], dict[str, int], int, str],
                 given: Mapping[str, Any]) -> RestartPoint:
    """The old run's stored state at `position` (state, visits, steps done, the next node),
    edited by `given` (state keys or inputs): where `resume --from` and `fork` start."""
    stored, visits, step, node = position
    graph = workflow.graph
    state = graph.schema.edited(resumed_state(graph, stored, given, os.environ), given)
    return RestartPoint(state, {**record.inputs, **given}, Cursor(node, visits, step, 0))
