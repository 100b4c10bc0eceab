"""`/workflows`: the served workflows, one with its graph (JSON and Mermaid), and adding one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder

from wfe.diagram import to_json, to_mermaid
from wfe.graph.model import Graph
from wfe.serve import posting
from wfe.serve.catalog import Entry
from wfe.serve.errors import problem_document
from wfe.serve.models import (
    WORKFLOW_NAME,
    WorkflowAdded,
    WorkflowDocument,
    WorkflowList,
    error_responses,
)
from wfe.serve.services import ServicesDep

router = APIRouter(tags=["workflows"])

NamePath = Annotated[str, Path(description="The workflow's name.", pattern=WORKFLOW_NAME)]

_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A workflow file (UTF-8 YAML) with a `name:`; it may import only the "
                       "tool modules this server allows.",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    }
}


def _summary(entry: Entry) -> dict[str, Any]:
    graph = entry.compiled().graph
    return {"name": entry.name, "path": entry.shown, "description": entry.description,
            "nodes": list(graph.nodes)}


def state_keys(graph: Graph) -> list[dict[str, Any]]:
    """The state schema as a form needs it; a secret key's default is never shown."""
    return [{"key": key, "type": field.type, "description": field.description,
             "required": field.required, "has_default": field.has_default,
             "default": None if field.secret else jsonable_encoder(field.default),
             "secret": field.secret}
            for key, field in graph.schema.fields.items()]


@router.get("/workflows", response_model=WorkflowList, responses=error_responses())
async def list_workflows(services: ServicesDep) -> dict[str, Any]:
    """The workflows that can run here (invalid files are left out, and logged)."""
    entries = await services.reader.call(services.catalog.scan)
    return {"workflows": [_summary(e) for e in entries.values() if e.workflow is not None]}


@router.get("/workflows/{name}", response_model=WorkflowDocument,
            responses=error_responses(404, 422))
async def show_workflow(name: NamePath, services: ServicesDep) -> dict[str, Any]:
    """A workflow's source and its graph, as `wfe graph --format json` and `--format mermaid`
    print it. An invalid file is a 422 with every problem at its line:col."""
    entry = await services.reader.call(lambda: services.catalog.get(name))
    graph = entry.compiled().graph
    return {
        "name": entry.name,
        "path": entry.shown,
        "description": entry.description,
        "state": state_keys(graph),
        "source": graph.loaded.source.decode("utf-8", errors="replace"),
        "graph": to_json(graph),
        "mermaid": to_mermaid(graph),
    }


@router.post("/workflows", status_code=201, response_model=WorkflowAdded,
             responses=error_responses(408, 409, 413, 415, 422), openapi_extra=_YAML_BODY)
async def add_workflow(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Add a workflow: validated like `wfe validate` (a 422 lists every problem), importing
    only allowed tool modules, kept beside the store as NAME.yaml (a name in use is a 409)."""
    body = await request.body()
    entry, warnings = await services.reader.call(
        lambda: posting.add_workflow(services.catalog, body))
    return {"name": entry.name, "path": entry.shown,
            "warnings": [problem_document(p) for p in warnings]}
