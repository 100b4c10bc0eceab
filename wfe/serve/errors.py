"""Errors of `wfe serve`, and every wfe error as an HTTP status with a `{"detail": ...}` body.

    UsageError (wfe.errors)
    ├── UnknownWorkflow        no served workflow has this name (404)
    ├── WorkflowExists         POST /workflows with a name already served (409)
    ├── WorkflowNotServed      resuming a run whose workflow file this server does not serve (403)
    ├── ChangedWorkflow        resuming with a workflow file changed since the run began (409)
    └── ShuttingDown           starting or resuming a run while the server stops (503)

The store's errors map too: an unknown run is a 404, a run in use or not resumable a 409.

A SpecError (an invalid workflow, or a posted one that imports a module the server does not
allow) is a 422 with every problem; an InputError is a 422 naming the key; a fork from a step
the run does not have (NoSuchStep) is a 422.
"""

from __future__ import annotations

from typing import Any

from wfe.errors import InputError, Problem, SpecError, UsageError, WfeError
from wfe.resuming import NoSuchStep
from wfe.store import (
    AmbiguousRun,
    RunInUse,
    RunNotResumable,
    RunNotRunning,
    StoreBusy,
    StoreError,
    UnknownNode,
    UnknownRun,
)


class UnknownWorkflow(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no workflow '{name}' is served here")
        self.name = name


class WorkflowExists(UsageError):
    def __init__(self, name: str, path: str) -> None:
        super().__init__(f"a workflow named '{name}' is already served ({path})")
        self.name = name


class WorkflowNotServed(UsageError):
    def __init__(self, run_id: str, path: str) -> None:
        super().__init__(f"run {run_id}: its workflow {path} is not one this server serves; "
                         f"resume it with `wfe resume {run_id}`")
        self.run_id = run_id


class ChangedWorkflow(UsageError):
    """Resuming with a workflow file that changed since the run started (without `force`)."""


class ShuttingDown(UsageError):
    """A run asked to start or resume while the server stops."""


#: Most specific first: the first class an error is an instance of decides the status.
_STATUSES: tuple[tuple[type[WfeError], int], ...] = (
    (UnknownRun, 404),
    (UnknownWorkflow, 404),
    (UnknownNode, 404),
    (WorkflowNotServed, 403),
    (AmbiguousRun, 400),
    (RunInUse, 409),
    (RunNotResumable, 409),
    (RunNotRunning, 409),
    (WorkflowExists, 409),
    (ChangedWorkflow, 409),
    (StoreBusy, 503),
    (ShuttingDown, 503),
    (StoreError, 500),
    (InputError, 422),
    (NoSuchStep, 422),
    (SpecError, 422),
    (UsageError, 400),
    (WfeError, 500),
)


def status_of(error: WfeError) -> int:
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status
    return 500


def problem_document(problem: Problem) -> dict[str, Any]:
    where = problem.location
    return {"file": where.file, "line": where.line, "col": where.col, "code": problem.code,
            "message": problem.message}


def error_body(error: WfeError) -> dict[str, Any]:
    """`{"detail": one line}`, plus `problems` for an invalid workflow, `key` for an input."""
    if isinstance(error, SpecError):
        errors = error.errors or error.problems
        first = errors[0].format() if errors else "invalid workflow"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return {"detail": first + more, "problems": [problem_document(p) for p in errors]}
    body: dict[str, Any] = {"detail": str(error).splitlines()[0] if str(error) else
                            type(error).__name__}
    if isinstance(error, InputError):
        body["key"] = error.key
    return body
