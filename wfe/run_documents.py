"""The JSON documents of stored runs: what `wfe runs --json`, `wfe show --json` and `wfe serve`
return. One builder each, so that the command line and the HTTP API never drift apart.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wfe.store import RunRecord, StepRecord

__all__ = ["run_document", "run_summary", "step_document"]


def run_summary(record: RunRecord) -> dict[str, Any]:
    """One row of `wfe runs --json` and of `GET /runs`."""
    return {
        "run_id": record.run_id,
        "workflow": record.workflow,
        "status": record.status,
        "created_at": record.created_at,
        "finished_at": record.finished_at,
        "steps": record.step,
        "parent_run_id": record.parent_run_id,
    }


def run_document(record: RunRecord, steps: list[StepRecord]) -> dict[str, Any]:
    """`wfe show ID --json` and `GET /runs/{id}`: every field of the run but its initial state,
    then its steps."""
    fields = asdict(record)
    fields.pop("initial_state", None)
    fields["steps"] = [step_document(step) for step in steps]
    return fields


def step_document(step: StepRecord) -> dict[str, Any]:
    """A step without its run id and the whole state it left (the run document has the state)."""
    fields = asdict(step)
    fields.pop("run_id", None)
    fields.pop("state", None)
    return fields
