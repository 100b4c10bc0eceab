"""`/runs`: list, show, start, cancel and resume runs. The documents are those of
`wfe runs --json` and `wfe show --json`; a run id may be any unique prefix, as on the CLI."""

from __future__ import annotations

from copy import deepcopy
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from wfe.engine.events import RunStatus
from wfe.serve.models import (
    ForkRun,
    RerunRun,
    ResumeRun,
    RunAccepted,
    RunDocument,
    RunHistory,
    RunList,
    StartRun,
    error_responses,
)
from wfe.serve.services import ServicesDep
from wfe.store import Store
from wfe.store.run_documents import history_documents, run_document, run_summary

router = APIRouter(tags=["runs"])

RunIdPath = Annotated[str, Path(description="A run id, or any unique prefix of one.",
                                min_length=1, max_length=64)]


@router.get("/runs", response_model=RunList, responses=error_responses(422, 503))
async def list_runs(
    services: ServicesDep,
    status: Annotated[RunStatus | None, Query(description="Only runs with this status.")] = None,
    workflow: Annotated[str | None, Query(description="Only runs of this workflow.",
                                          max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many runs.")] = 20,
) -> dict[str, Any]:
    """Runs in the store, newest first: those started here, with `wfe run`, or anywhere."""
    records = await services.reader.run(lambda store: store.list_runs(
        status=status, workflow=workflow, limit=limit))
    return {"runs": [run_summary(record) for record in records]}


@router.get("/runs/{run_id}", response_model=RunDocument,
            responses=error_responses(400, 404, 422, 503))
async def show_run(run_id: RunIdPath, services: ServicesDep) -> dict[str, Any]:
    """One run: status, inputs, state, where it waits or failed, and its steps."""

    def read(store: Store) -> dict[str, Any]:
        record = store.get_run(store.resolve(run_id))
        return run_document(record, store.steps(record.run_id))

    return await services.reader.run(read)


@router.get("/runs/{run_id}/history", response_model=RunHistory,
            response_model_exclude_unset=True, responses=error_responses(400, 404, 422, 503))
async def run_history(run_id: RunIdPath, services: ServicesDep) -> dict[str, Any]:
    """The run's start, then every step with its updates and the state after it (the lines of
    `wfe history ID --json`)."""

    def read(store: Store) -> dict[str, Any]:
        resolved = store.resolve(run_id)
        # each document's state is one dict the store changes in place: keep a copy of each
        return {"run_id": resolved,
                "steps": [deepcopy(document) for document in history_documents(store, resolved)]}

    return await services.reader.run(read)


@router.post("/runs", status_code=202, response_model=RunAccepted,
             responses=error_responses(404, 408, 413, 415, 422, 503))
async def start_run(request: StartRun, services: ServicesDep) -> dict[str, Any]:
    """Start a run of a served workflow in the background; its id comes back at once."""
    return {"run_id": await services.manager.start(request.workflow, request.inputs)}


@router.post("/runs/{run_id}/cancel", status_code=202, response_model=RunAccepted,
             responses=error_responses(400, 404, 408, 409, 413, 415, 422, 503))
async def cancel_run(run_id: RunIdPath, services: ServicesDep) -> dict[str, Any]:
    """Stop a running run: at once when this server runs it, else at its next step boundary
    (as `wfe cancel`)."""
    return {"run_id": await services.manager.cancel(run_id)}


@router.post("/runs/{run_id}/resume", status_code=202, response_model=RunAccepted,
             responses=error_responses(400, 403, 404, 408, 409, 413, 415, 422, 503))
async def resume_run(
    run_id: RunIdPath,
    services: ServicesDep,
    request: Annotated[ResumeRun | None, Body()] = None,
) -> dict[str, Any]:
    """Continue a waiting, interrupted or failed run from its last committed step, in the
    background (as `wfe resume`; `inputs` are its `-i` values)."""
    given = request if request is not None else ResumeRun()
    resumed = await services.manager.resume(run_id, given.inputs, given.force)
    return {"run_id": resumed}


@router.post("/runs/{run_id}/rerun", status_code=202, response_model=RunAccepted,
             responses=error_responses(400, 403, 404, 408, 409, 413, 415, 422, 503))
async def rerun_run(run_id: RunIdPath, request: RerunRun, services: ServicesDep,
                    ) -> dict[str, Any]:
    """Start a new run, linked to this one (`parent_run_id`), from `node` with the state the
    old run had there, edited by `inputs` (as `wfe resume --from NODE -i ...`); its id comes
    back at once."""
    return {"run_id": await services.manager.rerun(run_id, request.node, request.inputs,
                                                   request.force)}


@router.post("/runs/{run_id}/fork", status_code=202, response_model=RunAccepted,
             responses=error_responses(400, 403, 404, 408, 409, 413, 415, 422, 503))
async def fork_run(run_id: RunIdPath, request: ForkRun, services: ServicesDep,
                   ) -> dict[str, Any]:
    """Start a new run, linked to this one (`parent_run_id`), from the state after step `at`
    edited by `inputs`, at the node that followed it (as `wfe fork ID --at STEP -i ...`); its
    id comes back at once."""
    return {"run_id": await services.manager.fork(run_id, request.at, request.inputs,
                                                  request.force)}
