"""What a run tells its journal: each step committed (a handler's marked, with the updates made
between steps), and the way back to the last commit when a step is cut short. The engine is a
RunCommits."""

from __future__ import annotations

from typing import Any

from wfe.engine.interrupts import Stop
from wfe.engine.journal import Journal, StepDone
from wfe.engine.run_end import Ending
from wfe.engine.run_events import RunEvents
from wfe.graph.model import Graph
from wfe.state.schema import State

__all__ = ["RunCommits"]


class RunCommits(RunEvents):
    """The journal side of a run: what its engine has that a commit needs."""

    # What a commit changes; the engine declares the rest of its attributes. (One line of
    # bases: two bases with slots of their own cannot be combined.)
    __slots__ = ("_uncommitted", "carried", "state", "step", "visits")

    graph: Graph
    journal: Journal | None
    state: State
    visits: dict[str, int]
    #: The `on_end:` handler phase once the run has ended; None before.
    ending: Ending | None
    #: State updates made between steps, which the next committed step carries.
    carried: dict[str, Any]
    #: A step began changing the state and the journal has not committed it yet.
    _uncommitted: bool

    def _journal(self, done: StepDone) -> None:
        assert self.journal is not None
        ending = self.ending
        if ending is not None:  # a handler's step: where a resumed run goes on, marked
            done = done._replace(next_node=ending.mark(done.next_node))
        if self.carried:
            done = done._replace(updates={**self.graph.schema.mask(self.carried),
                                          **done.updates})
            self.carried = {}
        cancelled = self.journal.step_done(done, self.state, self.visits)
        self._uncommitted = False
        if cancelled and ending is None:
            raise Stop("cancelled", None)

    def commit_step(self, done: StepDone) -> None:
        self._uncommitted = True
        self._journal(done)

    def back_to_committed(self) -> None:
        """After a step was cut short (a signal, a failure) between changing the state and its
        commit: the state and counters as committed; the step runs again on resume."""
        if self._uncommitted and self.journal is not None:
            self._uncommitted = False
            self.state, self.visits, self.step = self.journal.committed().position(
                self.state, self.graph.schema.secret_keys)
