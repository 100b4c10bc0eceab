"""How a run ended: what `Workflow.run` returns. (No engine import: cheap for front ends.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wfe.engine.events import RunStatus
from wfe.errors import RunError


@dataclass
class RunResult:
    """How a run ended (or paused)."""

    run_id: str
    status: RunStatus
    state: dict[str, Any]
    error: RunError | None = None
    steps: int = 0
    duration_ms: float = 0.0
    visits: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"
