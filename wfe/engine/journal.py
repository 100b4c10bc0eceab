"""What the engine tells a durable journal (the store), and where a resumed run starts.

The engine calls a Journal directly, not through events: a completed step must be committed
before the next one starts, and the journal needs the whole state, which events never carry.
Two journals implement it: the store's (wfe.store.journal) and an in-memory one
(wfe.engine.memory_journal).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from wfe.engine.events import RunStatus
from wfe.state.schema import State

#: Gives a pool's slot back (wfe.engine.pools).
Release = Callable[[], None]


#: How a step ended: its node ran, its failure was routed by `on_error`, its `if:` was false,
#: or it failed the run.
StepOutcome = Literal["succeeded", "routed", "skipped", "failed"]


class StepDone(NamedTuple):
    """One completed step (the edge out of it already chosen)."""

    step: int
    node: str
    attempt: int
    started_at: float
    duration_ms: float
    outcome: StepOutcome
    updates: dict[str, Any]
    error: dict[str, Any] | None
    next_node: str
    items: list[dict[str, Any]] | None = None


class Committed(NamedTuple):
    """What the journal holds as the run's position: the state after the last committed step
    (without secret keys, which are never stored), its visit counts and its step number."""

    state: State
    visits: dict[str, int]
    step: int

    def position(self, state: State,
                 secret_keys: frozenset[str]) -> tuple[State, dict[str, int], int]:
        """(state, visits, step) as committed, with the secrets of `state` (never stored)."""
        secrets = {k: v for k, v in state.items() if k in secret_keys}
        return {**self.state, **secrets}, dict(self.visits), self.step


class SlotSource(Protocol):
    """Where a run takes its slots: its journal (every Journal is one), or this process."""

    def take_slot(self, pool: str, size: int, node: str) -> Release | None:
        """A slot (the function that gives it back), or None while the pool is full."""
        ...

    def cancel_requested(self) -> bool:
        """`wfe cancel` asked: a node waiting for a slot stops waiting."""
        ...


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

    def committed(self) -> Committed:
        """The position of the last commit, taken back when a step is cut short before it."""
        ...

    def attempt_started(self, step: int, attempt: int) -> None:
        """A retry of `step` begins (a first attempt is not recorded: see Attempts)."""
        ...

    def attempts_made(self, step: int) -> int:
        """How many attempts of `step` began before the run was resumed (0: none known)."""
        ...

    def item_done(self, step: int, item: ItemDone) -> None:
        """Commit a finished map item or parallel branch of the step in flight."""
        ...

    def items_done(self, step: int) -> list[ItemDone]:
        """The items of `step` committed before the run was resumed."""
        ...

    def cancel_requested(self) -> bool:
        """Whether `wfe cancel` asked the run to stop."""
        ...

    def take_slot(self, pool: str, size: int, node: str) -> Release | None:
        """A slot of `pool` (the function that gives it back), or None while the pool is full
        (`pool:`, wfe.engine.pools): a store holds its slots for every process sharing it."""
        ...


class AttemptCutShort(Exception):
    """A resumed step whose last allowed attempt began before the process stopped."""

    def __init__(self, made: int) -> None:
        super().__init__(f"attempt {made} began before the process stopped, and the node's "
                         "retry policy allows no more")


class Attempts:
    """Retries of the run's own steps, as the journal keeps them (only retries: a first attempt
    costs nothing), so that a kill between attempts gives no step more than its policy allows."""

    __slots__ = ("_record", "_resumed")

    def __init__(self, journal: Journal | None, cursor: Cursor | None) -> None:
        self._record = journal.attempt_started if journal is not None else None
        self._resumed: tuple[int, int] | None = (
            (cursor.step + 1, journal.attempts_made(cursor.step + 1))
            if cursor is not None and journal is not None else None)

    def first(self, step: int) -> int:
        """The number of the step's next attempt: 1, unless a resumed run had begun more."""
        resumed = self._resumed
        if resumed is None or resumed[0] != step:
            return 1
        self._resumed = None
        return resumed[1] + 1

    def started(self, step: int, attempt: int) -> None:
        if self._record is not None:
            self._record(step, attempt)


class ItemDone(NamedTuple):
    """A finished map item (its result) or parallel branch (its updates) of the step in flight."""

    node: str
    number: int  # the item's index, or the branch's position
    attempts: int
    duration_ms: float
    value: Any
    #: A tolerated failure (`tolerate:`): `value` is its record for `errors:`, not a result.
    failed: bool = False


class FinishedItems:
    """Map items and parallel branches committed one by one as they finish, so that a resumed
    step re-runs only those that were in flight."""

    __slots__ = ("_load", "_record", "_resumed")

    def __init__(self, journal: Journal | None, cursor: Cursor | None) -> None:
        self._record = journal.item_done if journal is not None else None
        self._load = journal.items_done if journal is not None else None
        #: The one step that an earlier process may have begun: the first after the cursor.
        self._resumed = cursor.step + 1 if cursor is not None and self._load else None

    @property
    def recording(self) -> bool:
        return self._record is not None

    def earlier(self, step: int, node: str) -> dict[int, ItemDone]:
        """The items of `step` (a run of `node`) that an earlier process committed, by index."""
        if step != self._resumed or self._load is None:
            return {}
        self._resumed = None
        return {item.number: item for item in self._load(step) if item.node == node}

    def record(self, step: int, item: ItemDone) -> None:
        if self._record is not None:
            self._record(step, item)


@dataclass(frozen=True)
class Cursor:
    """Where a resumed run picks up: the next node, and the counters as they were committed."""

    node: str
    visits: dict[str, int] = field(default_factory=dict)
    step: int = 0
    seq: int = 0
