"""The typed documents of the HTTP API: requests are strict (no coercion, no unknown keys), and
every response has a model, so the OpenAPI schema at /openapi.json is complete.

The run documents are the ones `wfe runs --json` and `wfe show --json` print
(wfe.store.run_documents); the graph document is `wfe graph --format json`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wfe.engine.events import EventKind, RunStatus

#: A workflow name in a URL or a request: the node-name alphabet, a little longer.
WORKFLOW_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------


class StartRun(Request):
    """Start a run of a served workflow."""

    workflow: str = Field(description="The workflow's name (GET /workflows).",
                          min_length=1, max_length=128)
    inputs: dict[str, Any] = Field(default_factory=dict,
                                   description="Initial state values, checked against the "
                                               "workflow's state schema.")


class ResumeRun(Request):
    """Continue a waiting, interrupted or failed run."""

    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="What a waiting run expects (its `waiting.expects`), or secret keys.")
    force: bool = Field(default=False,
                        description="Resume even though the workflow file changed since.")


class RerunRun(Request):
    """Start a new run, linked to this one, from one of its nodes (`wfe resume --from`)."""

    node: str = Field(description="The node the new run starts at.", min_length=1,
                      max_length=256)
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="State keys to change before that node runs (`-i KEY=VALUE`).")
    force: bool = Field(default=False,
                        description="Start even though the workflow file changed since.")


class ForkRun(Request):
    """Start a new run, linked to this one, from the state after one of its steps
    (`wfe fork`)."""

    at: int = Field(description="The step whose state the new run starts from (the run's "
                                "initial step: its start).")
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="State keys written over that state (`-i KEY=VALUE`).")
    force: bool = Field(default=False,
                        description="Start even though the workflow file changed since.")


# --- responses -------------------------------------------------------------------------------


class RunAccepted(Response):
    run_id: str


class RunSummary(Response):
    run_id: str
    workflow: str
    status: RunStatus
    created_at: str
    finished_at: str | None
    steps: int
    parent_run_id: str | None


class RunList(Response):
    runs: list[RunSummary]


class StepDocument(Response):
    step: int
    node: str
    attempt: int
    started_at: str
    duration_ms: float
    outcome: str
    updates: dict[str, Any]
    error: dict[str, Any] | None
    visits: dict[str, int]
    next_node: str
    items: list[dict[str, Any]] | None


class HistoryStep(Response):
    """The run's start (`node` null, its initial state) or one step, with the state after it:
    one line of `wfe history --json`. The start has no attempt, times or error."""

    step: int
    node: str | None
    attempt: int | None = None
    outcome: str
    started_at: str | None = None
    duration_ms: float | None = None
    updates: dict[str, Any]
    error: dict[str, Any] | None = None
    next_node: str | None
    state: dict[str, Any]


class RunHistory(Response):
    run_id: str
    steps: list[HistoryStep]


class RunDocument(Response):
    run_id: str
    workflow: str
    workflow_path: str
    workflow_hash: str
    status: RunStatus
    inputs: dict[str, Any]
    state: dict[str, Any]
    next_node: str | None
    step: int
    visits: dict[str, int]
    last_seq: int
    created_at: str
    updated_at: str
    finished_at: str | None
    error: dict[str, Any] | None
    waiting: dict[str, Any] | None
    parent_run_id: str | None
    owner_pid: int | None
    cancel_requested: bool
    start: str
    steps: list[StepDocument]


class EventDocument(BaseModel):
    """One event of SPEC section 3: these four fields, then the event's own."""

    model_config = ConfigDict(extra="allow")

    event: EventKind
    run_id: str
    ts: str
    seq: int


class WorkflowSummary(Response):
    name: str
    path: str
    description: str
    nodes: list[str]


class WorkflowList(Response):
    workflows: list[WorkflowSummary]


class GraphNode(Response):
    id: str
    kind: str
    tool: str | None
    description: str
    max_visits: int | None


class GraphEdge(Response):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    to: str
    condition: str | None
    kind: str
    back_edge: bool
    errors: list[str] | None


class GraphDocument(Response):
    name: str
    start: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class StateKeyDocument(Response):
    """One key of a workflow's state schema: what a form to start it asks for."""

    key: str
    type: str
    description: str
    required: bool
    default: Any = None
    has_default: bool
    secret: bool


class WorkflowDocument(Response):
    name: str
    path: str
    description: str
    state: list[StateKeyDocument]
    source: str
    graph: GraphDocument
    mermaid: str


class ProblemDocument(Response):
    file: str
    line: int
    col: int
    code: str
    message: str


class WorkflowAdded(Response):
    name: str
    path: str
    warnings: list[ProblemDocument]


class ErrorBody(Response):
    detail: str


class InvalidBody(Response):
    """422: an invalid workflow (`problems`, each at its line:col) or input (`key`)."""

    detail: str
    problems: list[ProblemDocument] | None = None
    key: str | None = None


_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request (an ambiguous run id prefix, say)",
    401: "Missing or wrong bearer token",
    403: "Not allowed on this server",
    404: "No such run or workflow",
    408: "Request body not received within 30 s",
    409: "Conflicts with the run's or workflow's current state",
    413: "Request body larger than --max-body",
    415: "Body not of the route's type (YAML for POST /workflows, else application/json)",
    422: "Invalid request, input or workflow",
    503: "The store stayed locked by other processes",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status with its model (the 422 one names problems)."""
    return {
        status: {"model": InvalidBody if status == 422 else ErrorBody,
                 "description": _DESCRIPTIONS[status]}
        for status in (401, *statuses)
    }


def json_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """As error_responses, spelled out as JSON for a route whose own media type is not."""
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/"
                               + ("InvalidBody" if status == 422 else "ErrorBody")}}}}
        for status in (401, *statuses)
    }
