"""Errors of the run store. Each says what is wrong in one line and names the run or the file.

    StoreError (UsageError, exit 2)   the store cannot be used, or a run cannot be found or taken
    ├── NotAStore                     the file is not a wfe store; it is left untouched
    ├── StoreBusy                     the write lock stayed taken for longer than we wait
    ├── UnknownRun                    no run has this id or prefix
    ├── AmbiguousRun                  a prefix matches several runs
    ├── UnknownNode                   a node never ran in a run (`wfe resume --from`)
    ├── RunInUse                      another live process owns the run
    ├── RunNotResumable               the run's status does not allow taking it over
    └── RunNotRunning                 `wfe cancel` of a run that is not running
    LeaseLost (RunError, exit 1)      this process no longer owns the run; it must stop
    StepConflict (RunError)           the step was already recorded (a bug in the caller)
    UnstorableValue (RunError)        a value is not JSON and cannot be stored
"""

from __future__ import annotations

from collections.abc import Sequence

from wfe.errors import RunError, UsageError


class StoreError(UsageError):
    """The store, or a run in it, cannot be used as asked."""


class NotAStore(StoreError):
    """The file at the store path is not a wfe store (or one this wfe cannot read)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}; wfe leaves it untouched (use --store or WFE_STORE "
                         "to pick another file)")
        self.path = path


class StoreBusy(StoreError):
    """Other processes held the store's write lock for longer than we are willing to wait."""

    def __init__(self, path: str, waited: float) -> None:
        super().__init__(f"{path}: the store stayed locked by other processes for {waited:.0f} s")
        self.path = path


class UnknownRun(StoreError):
    def __init__(self, prefix: str) -> None:
        super().__init__(f"no run '{prefix}'")
        self.prefix = prefix


class AmbiguousRun(StoreError):
    def __init__(self, prefix: str, count: int, some: Sequence[str]) -> None:
        shown = ", ".join(some) + (", ..." if count > len(some) else "")
        super().__init__(f"'{prefix}' matches {count} runs: {shown}")
        self.prefix = prefix
        self.matches = list(some)


class UnknownNode(StoreError):
    def __init__(self, node: str, run_id: str) -> None:
        super().__init__(f"node '{node}' never ran in run {run_id}")
        self.node = node
        self.run_id = run_id


class RunInUse(StoreError):
    def __init__(self, run_id: str, pid: int | None, host: str | None) -> None:
        where = f" on {host}" if host else ""
        super().__init__(f"run {run_id} is in use by process {pid}{where}")
        self.run_id = run_id
        self.pid = pid


_PHRASES = {
    "succeeded": "already succeeded",
    "cancelled": "was cancelled",
    "failed": "failed",
    "waiting": "is waiting for input",
    "interrupted": "was interrupted",
    "running": "is running",
}


class RunNotResumable(StoreError):
    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} {_PHRASES.get(status, status)}")
        self.run_id = run_id
        self.status = status


class RunNotRunning(StoreError):
    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} is not running ({status})")
        self.run_id = run_id
        self.status = status


class LeaseLost(RunError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} was taken over by another process; this one stops")
        self.run_id = run_id


class StepConflict(RunError):
    def __init__(self, run_id: str, step: int) -> None:
        super().__init__(f"step {step} of run {run_id} is already recorded")
        self.run_id = run_id
        self.step = step


class UnstorableValue(RunError):
    def __init__(self, what: str, run_id: str, reason: str) -> None:
        super().__init__(f"cannot store the {what} of run {run_id}: {reason}")
        self.run_id = run_id
