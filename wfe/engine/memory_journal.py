"""A Journal that keeps the run in memory: for tests, and for embedding wfe where a run's record
only has to outlive a step, not the process (it honours the same contract as the store's)."""

from __future__ import annotations

import copy
from typing import Any

from wfe.engine.events import RunStatus
from wfe.engine.journal import Committed, ItemDone, Release, StepDone
from wfe.engine.pools import IN_PROCESS
from wfe.state.schema import State

__all__ = ["MemoryJournal"]


class MemoryJournal:
    """Each committed step, the position after the last, and the run's outcome, in memory."""

    def __init__(self, state: State | None = None, *,
                 secret_keys: frozenset[str] = frozenset()) -> None:
        self.secret_keys = secret_keys
        self.steps: list[StepDone] = []
        self.status: RunStatus = "running"
        self.error: dict[str, Any] | None = None
        self.waiting: dict[str, Any] | None = None
        self._position = Committed(self._kept(state or {}), {}, 0)
        self._items: dict[int, list[ItemDone]] = {}
        self._retry: tuple[int, int] | None = None
        self._cancel = False

    def _kept(self, state: State) -> State:
        # A snapshot, as the store's encoding is: later changes to the live state do not leak in.
        return copy.deepcopy({k: v for k, v in state.items() if k not in self.secret_keys})

    def request_cancel(self) -> None:
        """What `wfe cancel` does to a stored run."""
        self._cancel = True

    def step_done(self, done: StepDone, state: State, visits: dict[str, int]) -> bool:
        self.steps.append(copy.deepcopy(done))
        self._position = Committed(self._kept(state), dict(visits), done.step)
        self._items = {step: items for step, items in self._items.items() if step > done.step}
        return self._cancel

    def run_ended(self, status: RunStatus, state: State, error: dict[str, Any] | None,
                  waiting: dict[str, Any] | None) -> None:
        self.status, self.error, self.waiting = status, error, waiting
        self._position = self._position._replace(state=self._kept(state))

    def committed(self) -> Committed:
        return self._position

    def attempt_started(self, step: int, attempt: int) -> None:
        self._retry = (step, attempt)

    def attempts_made(self, step: int) -> int:
        return self._retry[1] if self._retry is not None and self._retry[0] == step else 0

    def item_done(self, step: int, item: ItemDone) -> None:
        self._items.setdefault(step, []).append(copy.deepcopy(item))

    def items_done(self, step: int) -> list[ItemDone]:
        return list(self._items.get(step, []))

    def cancel_requested(self) -> bool:
        return self._cancel

    def take_slot(self, pool: str, size: int, node: str) -> Release | None:
        return IN_PROCESS.take_slot(pool, size, node)  # a run in memory holds this process's
