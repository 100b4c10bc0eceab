"""A run's events, replayed from the store and then live: as Server-Sent Events
(`GET /runs/{id}/events`) or WebSocket text frames (`WS /runs/{id}/events`). Both end after the
run's last event (`run_finished`, or the last one of a run that stopped without it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from wfe.engine.events import Event
from wfe.errors import WfeError
from wfe.serve.errors import status_of
from wfe.serve.models import json_error_responses
from wfe.serve.routes_runs import RunIdPath
from wfe.serve.services import Services, ServicesDep, services
from wfe.serve.watch import run_events

router = APIRouter(tags=["events"])

AfterQuery = Annotated[int, Query(ge=0, description="Only events with a larger seq.")]
TokenQuery = Annotated[str | None, Query(
    description="The bearer token, for clients that cannot send headers (EventSource).")]

_SSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "`text/event-stream`: each message has `id: SEQ`, `event: NAME` and "
                       "`data:` the event's JSON (an EventDocument); `: keep-alive` comments "
                       "while nothing happens. The stream ends after the run's last event.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    **json_error_responses(400, 404, 422, 503),
}


#: A close reason names no run: an ambiguous prefix's message lists the runs it matches.
_CLOSE_REASONS = {400: "ambiguous run id: give more of it", 404: "no such run",
                  503: "the store is busy; try again"}


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


def _json(event: Event) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


async def _sse(events: AsyncIterator[Event | None]) -> AsyncIterator[str]:
    async for event in events:
        if event is None:
            yield ": keep-alive\n\n"
        else:
            yield f"id: {event['seq']}\nevent: {event['event']}\ndata: {_json(event)}\n\n"


@router.get("/runs/{run_id}/events", response_class=EventStreamResponse, responses=_SSE_DOC)
async def stream_events(
    run_id: RunIdPath,
    services: ServicesDep,
    after: AfterQuery = 0,
    last_event_id: Annotated[int | None, Header(
        alias="Last-Event-ID", ge=0, description="As `after` (an EventSource reconnecting).")]
    = None,
    token: TokenQuery = None,
) -> EventStreamResponse:
    """The run's events as Server-Sent Events: replayed from the store, then live."""
    full_id = await services.reader.run(lambda store: store.resolve(run_id))
    start = last_event_id if last_event_id is not None else after
    events = run_events(full_id, start, services.manager, services.reader)
    return EventStreamResponse(_sse(events), headers={"Cache-Control": "no-cache",
                                                      "X-Accel-Buffering": "no"})


@router.websocket("/runs/{run_id}/events")
async def websocket_events(websocket: WebSocket, run_id: RunIdPath, after: AfterQuery = 0) -> None:
    """The same events as text frames (one EventDocument each), then a normal close. An unknown
    run closes with code 4404 (4000 + the HTTP status) and a reason that names no run."""
    found: Services = services(websocket)
    await websocket.accept()
    try:
        full_id = await found.reader.run(lambda store: store.resolve(run_id))
    except WfeError as error:
        status = status_of(error)
        await websocket.close(code=4000 + status, reason=_CLOSE_REASONS.get(status, "error"))
        return
    try:
        async for event in run_events(full_id, after, found.manager, found.reader):
            if event is not None:
                await websocket.send_text(_json(event))
        await websocket.close(code=1000)
    except WebSocketDisconnect:
        return
