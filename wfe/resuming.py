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

if TYPE_CHECKING:
    from wfe.graph import Graph
    from wfe.journal import Cursor
    from wfe.state import State
    from wfe.store import RunRecord, Store

__all__ = ["ResumePoint", "opened_store", "resume_point"]


class Compiled(Protocol):
    """A loaded workflow, as far as resuming needs it (`wfe.api.Workflow`)."""

    @property
    def graph(self) -> Graph: ...


@contextmanager
def opened_store(store: str | Path | Store) -> Iterator[Store]:
    """A Store as it is (left open), or the store at a path (closed after)."""
    # sqlite3 loads only when a store is opened (`wfe --help` stays fast).
    from wfe.store import Store, durability_setting, store_path

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
    # The store's journal loads only when a stored run is resumed.
    from wfe.durable import cursor_of, resumed_state, split_resume_inputs
    from wfe.store import RunNotResumable
    from wfe.store.store import RESUMABLE

    if record.status != "running" and record.status not in RESUMABLE:
        raise RunNotResumable(record.run_id, record.status)

    state = resumed_state(workflow.graph, record.state, given, os.environ)
    answers = split_resume_inputs(workflow.graph, record, given)
    return ResumePoint(state, cursor_of(record), answers)
