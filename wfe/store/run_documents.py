"""The JSON documents of stored runs: what `wfe runs --json`, `wfe show --json` and `wfe serve`
return. One builder each, so that the command line and the HTTP API never drift apart.

Times are ISO 8601 in UTC (`2026-11-21T10:00:00.123Z`), as in events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from wfe.engine.events import iso_timestamp

if TYPE_CHECKING:
    from wfe.store import RunRecord, StepRecord, Store

__all__ = ["history_documents", "run_document", "run_summary", "step_document"]


def run_summary(record: RunRecord) -> dict[str, Any]:
    """One row of `wfe runs --json` and of `GET /runs`."""
    return {
        "run_id": record.run_id,
        "workflow": record.workflow,
        "status": record.status,
        "created_at": iso_timestamp(record.created_at),
        "finished_at": _iso_or_none(record.finished_at),
        "steps": record.step,
        "parent_run_id": record.parent_run_id,
    }


def run_document(record: RunRecord, steps: list[StepRecord]) -> dict[str, Any]:
    """`wfe show ID --json` and `GET /runs/{id}`: every field of the run but its initial state,
    then its steps."""
    fields = asdict(record)
    fields.pop("initial_state", None)
    for key in ("created_at", "updated_at", "finished_at"):
        fields[key] = _iso_or_none(fields[key])
    fields["steps"] = [step_document(step) for step in steps]
    return fields


def step_document(step: StepRecord) -> dict[str, Any]:
    """A step without its run id and the whole state it left (the run document has the state)."""
    fields = asdict(step)
    fields.pop("run_id", None)
    fields.pop("state", None)
    fields["started_at"] = iso_timestamp(step.started_at)
    return fields


def history_documents(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """`wfe history ID --json` and `GET /runs/{id}/history`: the run's start (`node` None, its
    initial state), then every step with its updates and the state after it. The `state` is one
    dict changed in place from step to step: copy what is kept."""
    step, start, initial = store.start_of(run_id)
    yield {"step": step, "node": None, "outcome": "start", "updates": {}, "next_node": start,
           "state": initial}
    for record, state in store.history(run_id):
        yield {
            "step": record.step, "node": record.node, "attempt": record.attempt,
            "outcome": record.outcome, "started_at": iso_timestamp(record.started_at),
            "duration_ms": record.duration_ms, "updates": record.updates,
            "error": record.error, "next_node": record.next_node, "state": state,
        }


def _iso_or_none(epoch: float | None) -> str | None:
    return None if epoch is None else iso_timestamp(epoch)
