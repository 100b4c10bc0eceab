"""What the engine tells a durable journal (the store), and where a resumed run starts.

The engine calls a Journal directly, not through events: a completed step must be committed
before the next one starts, and the journal needs the whole state, which events never carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from wfe.events import RunStatus
from wfe.state import State


@dataclass(frozen=True, slots=True)
class StepDone:
    """One completed step (the edge out of it already chosen)."""

    step: int
    node: str
    attempt: int
    started_at: float
    duration_ms: float
    outcome: Literal["succeeded", "routed"]
    updates: dict[str, Any]
    error: dict[str, Any] | None
    next_node: str
    items: list[dict[str, Any]] | None = None


class Journal(Protocol):
    """Durable record of a run; every method returns only after the record is committed."""

    def step_done(self, done: StepDone, state: State, visits: dict[str, int]) -> bool:
        """Commit the step; True when the run was asked to stop (`wfe cancel`)."""
        ...

    def run_ended(
        self,
        status: RunStatus,
        state: State,
        error: dict[str, Any] | None,
        waiting: dict[str, Any] | None,
    ) -> None: ...


@dataclass(frozen=True)
class Cursor:
    """Where a resumed run picks up: the next node, and the counters as they were committed."""

    node: str
    visits: dict[str, int] = field(default_factory=dict)
    step: int = 0
    seq: int = 0
