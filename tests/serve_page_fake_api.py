"""A stand-in for the `wfe serve` JSON API with canned runs, for testing the page on its own.

It implements the HTTP contract the page relies on (GET /runs, /runs/{id}, /workflows/{name},
the SSE event stream, Bearer auth with `?token=` on the page and the event stream) and nothing
else. A test releases a run's events one at a time through `FakeApi.emit`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from wfe.serve import page

MERMAID = """flowchart TD
    wfe_start(("start"))
    n_fetch["fetch<br>tool: fetch"]
    n_each["each<br>map: fetch_one"]
    n_report["report<br>tool: report"]
    wfe_end((("end")))
    wfe_start --> n_fetch
    n_fetch --> n_each
    n_each --> n_report
    n_report --> wfe_end
"""

GRAPH = {"name": "demo", "start": "fetch", "edges": [], "nodes": [
    {"id": name, "kind": kind} for name, kind in
    (("fetch", "tool"), ("each", "map"), ("report", "tool"), ("end", "end"))]}


def run_document(run_id: str, workflow: str = "demo", status: str = "running", **fields: Any,
                 ) -> dict[str, Any]:
    """A `GET /runs/{id}` document (the fields of `wfe show --json`) with no steps yet."""
    return {"run_id": run_id, "workflow": workflow, "workflow_path": f"{workflow}.yaml",
            "status": status, "inputs": {}, "state": {}, "next_node": "fetch", "step": 0,
            "visits": {}, "last_seq": 0, "created_at": "2023-11-14T22:13:20.000Z",
            "updated_at": "2023-11-14T22:13:20.000Z", "finished_at": None, "error": None,
            "waiting": None,
            "parent_run_id": None, "steps": [], **fields}


class FakeApi:
    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.runs: dict[str, dict[str, Any]] = {}
        self.workflows: dict[str, dict[str, Any]] = {
            "demo": {"name": "demo", "path": "demo.yaml", "description": "", "source": "",
                     "graph": GRAPH, "mermaid": MERMAID}}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        #: When set, `GET /runs` answers 503 with this detail.
        self.runs_failure: str | None = None
        #: Set before the server stops, so that open event streams end and it need not wait.
        self.closing = threading.Event()

    def add_run(self, document: dict[str, Any]) -> None:
        self.runs[document["run_id"]] = document
        self._events.setdefault(document["run_id"], [])

    def emit(self, run_id: str, event: str, **fields: Any) -> None:
        """Append one SPEC §3 event to the run's stream (seq counts from 1 with no gap)."""
        with self._lock:
            events = self._events[run_id]
            events.append({"event": event, "run_id": run_id, "seq": len(events) + 1,
                           "ts": "2024-01-01T00:00:00+00:00", **fields})

    def events_after(self, run_id: str, seq: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events.get(run_id, [])[seq:])

    def run_list(self) -> list[dict[str, Any]]:
        keys = ("run_id", "workflow", "status", "created_at", "finished_at", "parent_run_id")
        return [{**{key: run[key] for key in keys}, "steps": run["step"]}
                for run in reversed(self.runs.values())]


def _authorized(api: FakeApi, request: Request) -> bool:
    if api.token is None:
        return True
    if request.headers.get("authorization") == f"Bearer {api.token}":
        return True
    takes_query = request.url.path == "/" or request.url.path.endswith("/events")
    return takes_query and request.query_params.get("token") == api.token


async def _sse(api: FakeApi, run_id: str, after: int) -> AsyncIterator[str]:
    seq = after
    while not api.closing.is_set():
        fresh = api.events_after(run_id, seq)
        for event in fresh:
            seq = event["seq"]
            # CRLF line ends, as sse-starlette writes them: the page's reader must take both.
            yield f"id: {seq}\r\nevent: {event['event']}\r\ndata: {json.dumps(event)}\r\n\r\n"
            if event["event"] == "run_finished":
                return
        if not fresh:
            await asyncio.sleep(0.05)


def make_app(api: FakeApi) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def bearer_auth(request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not _authorized(api, request):
            return JSONResponse({"detail": "missing or wrong bearer token"}, status_code=401)
        return await call_next(request)

    @app.get("/runs")
    async def runs(limit: int = 50, status: str | None = None) -> dict[str, Any]:
        if api.runs_failure:
            raise HTTPException(503, api.runs_failure)
        listed = [run for run in api.run_list() if status in (None, run["status"])]
        return {"runs": listed[:limit]}

    @app.get("/runs/{run_id}")
    async def run(run_id: str) -> dict[str, Any]:
        if run_id not in api.runs:
            raise HTTPException(404, f"no run {run_id!r}")
        return api.runs[run_id]

    @app.get("/runs/{run_id}/events")
    async def events(run_id: str, after: int = 0) -> StreamingResponse:
        return StreamingResponse(_sse(api, run_id, after), media_type="text/event-stream")

    @app.get("/workflows/{name}")
    async def workflow(name: str) -> dict[str, Any]:
        if name not in api.workflows:
            raise HTTPException(404, f"no workflow {name!r}")
        return api.workflows[name]

    app.include_router(page.router)
    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerThread:
    """uvicorn serving the fake API on a free loopback port, in a thread of the test process."""

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(make_app(api), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off", timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        for _ in range(600):  # a hang guard, not a timing assertion
            if self._server.started:
                return self
            self._thread.join(0.05)
        raise RuntimeError("the test server did not start")

    def __exit__(self, *exc_info: object) -> None:
        self.api.closing.set()
        self._server.should_exit = True
        self._thread.join(30)
