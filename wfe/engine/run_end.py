"""`on_end:` run handlers: nodes that run once the run has ended, by its outcome.

The outcome's own handler runs first, then `always`; each follows its own `next` until `end`.
They run as steps of the run (events, the store, `wfe show`), after the outcome is known and
before `run_finished`. A handler's failure is recorded as a failed step and ends that handler
alone: the run's outcome and exit code stay what they were.

Crash safety: while handlers run, each committed step's next node is a mark such as
`on_end.failed.always:cleanup` (no node name holds a `.`), so a run killed during its handlers
and resumed knows its outcome and runs the rest of its handlers, the step in flight again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from wfe.engine.events import RunStatus
from wfe.engine.interrupts import Stop
from wfe.engine.journal import StepDone
from wfe.errors import NodeFailed, RunError
from wfe.graph.model import END

if TYPE_CHECKING:
    from collections.abc import Callable

    from wfe.engine.journal import Journal
    from wfe.graph.model import Graph
    from wfe.state.schema import State

__all__ = ["Ending", "ended_mark", "resume_handlers", "run_handlers"]

ORDER = ("succeeded", "failed", "cancelled", "always")
_PREFIX = "on_end."


@dataclass
class Ending:
    """The handler phase: the run's outcome and the handler (`which`) running now."""

    status: RunStatus
    which: str
    handlers: dict[str, str]

    def mark(self, next_node: str) -> str:
        """The next node as committed during the phase: where a resumed run goes on."""
        if next_node == END:
            later = self._after(self.which)
            if later is None:
                return f"{_PREFIX}{self.status}.done:{END}"
            return f"{_PREFIX}{self.status}.{later}:{self.handlers[later]}"
        return f"{_PREFIX}{self.status}.{self.which}:{next_node}"

    def _after(self, which: str) -> str | None:
        return "always" if which != "always" and "always" in self.handlers else None


def ended_mark(text: str) -> tuple[RunStatus, str, str] | None:
    """(status, which, node) of a committed mark; None for a plain node name."""
    if not text.startswith(_PREFIX):
        return None
    phase, _, node = text[len(_PREFIX):].partition(":")
    status, _, which = phase.partition(".")
    if status not in ("succeeded", "failed", "cancelled"):
        return None
    return status, which, node  # type: ignore[return-value]


class EndingRun(Protocol):
    """What handlers need of the run that ended (the engine is one)."""

    graph: Graph
    state: State
    step: int
    step_limit: int
    journal: Journal | None
    ending: Ending | None
    clock: Callable[[], float]
    #: State updates made between steps, which the next committed step records.
    carried: dict[str, Any]

    async def walk(self, start: str) -> None: ...

    def commit_step(self, done: StepDone) -> None: ...

    def back_to_committed(self) -> None: ...

    def report_handler_failed(self, node: str, error: dict[str, Any]) -> None: ...


async def resume_handlers(engine: EndingRun, mark: tuple[RunStatus, str, str]
                          ) -> tuple[RunStatus, RunError | None]:
    """Go on with the handlers a run was killed in, its outcome and error known again."""
    status, which, node = mark
    error = _stored_error(engine.state) if status == "failed" else None
    await run_handlers(engine, status, error, (which, node))
    return status, error


def _stored_error(state: dict[str, Any]) -> RunError:
    """A resumed failed run's error, as its handlers saw it in the state key `error`."""
    value = state.get("error")
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return RunError(value["message"], node=value.get("node"))
    return RunError("the run failed before it was resumed to finish its on_end handlers")


def chain(handlers: dict[str, str], status: RunStatus) -> list[str]:
    """Which handlers an outcome runs, in order."""
    return [which for which in (status, "always") if which in handlers]


async def run_handlers(engine: EndingRun, status: RunStatus, error: RunError | None,
                       resumed: tuple[str, str] | None = None) -> None:
    """Run the handlers of `status`; `resumed`: (which, node) a resumed run goes on from."""
    handlers = engine.graph.on_end
    todo = chain(handlers, status)
    starts = {which: handlers[which] for which in todo}
    if resumed is not None:
        which, node = resumed
        todo = todo[todo.index(which):] if which in todo else []
        if todo:
            starts[which] = node
    exposed = error if status == "failed" and resumed is None else None
    # The handlers' own budget: a run that failed by its step limit still runs its handlers.
    engine.step_limit = engine.step + engine.graph.max_steps
    _expose_error(engine, exposed)
    for which in todo:
        engine.ending = Ending(status, which, handlers)
        if starts[which] != END:
            await _one_handler(engine, starts[which], exposed)
    engine.ending = None


def _expose_error(engine: EndingRun, error: RunError | None) -> None:
    """The run's error in the state key `error`, when the state declares it (as on_error
    does: the tool's exception type for a tool's failure)."""
    schema = engine.graph.schema
    if error is None or "error" not in schema.fields:
        return
    if isinstance(error, NodeFailed):
        kind, message = error.error_type, error.error_message
    else:
        kind, message = type(error).__name__, error.message
    value = {"node": error.node, "type": kind, "message": message}
    schema.apply(engine.state, {"error": value}, error.node or "on_end")
    engine.carried["error"] = value  # recorded with the next committed step


async def _one_handler(engine: EndingRun, start: str, exposed: RunError | None) -> None:
    began = engine.clock()
    try:
        await engine.walk(start)
    except RunError as failure:
        step = engine.step
        engine.back_to_committed()  # the failed step's changes are dropped, its number kept
        engine.step = step
        _expose_error(engine, exposed)
        _record_failure(engine, failure.node or start, type(failure).__name__,
                        failure.message, began, reported=isinstance(failure, NodeFailed))
    except Stop as stop:
        node = (stop.waiting or {}).get("node", start)
        what = "wait for input" if stop.status == "waiting" else "be cancelled"
        if stop.before_step:
            engine.step += 1
        _record_failure(engine, node, "HandlerStopped", f"an on_end handler cannot {what}",
                        began, reported=False)


def _record_failure(engine: EndingRun, node: str, kind: str, message: str, began: float,
                    *, reported: bool) -> None:
    """The handler's failure as a failed step: in events (`reported`: a tool's failure is
    already), in the store, in `wfe show`."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if not reported:
        engine.report_handler_failed(node, error)
    if engine.journal is not None and engine.ending is not None:
        done = StepDone(engine.step, node, 1, began,
                        round((engine.clock() - began) * 1000, 3), "failed", {},
                        error, END)
        engine.commit_step(done)
