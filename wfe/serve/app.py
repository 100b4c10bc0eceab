"""The FastAPI app of `wfe serve`: routes, the page, error bodies, and a lifespan that opens the
store, loads the served workflows and, on the way out, stores every run in flight as interrupted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from wfe import __version__
from wfe.errors import WfeError
from wfe.executors.executor import release_tool_threads
from wfe.serve import page, routes_events, routes_runs, routes_workflows
from wfe.serve.catalog import Catalog
from wfe.serve.config import ServeConfig
from wfe.serve.errors import error_body, status_of
from wfe.serve.guard import Guard
from wfe.serve.models import EventDocument
from wfe.serve.origins import HostRule
from wfe.serve.reader import StoreReader
from wfe.serve.runs import RunManager
from wfe.serve.services import Services
from wfe.store import Store

log = logging.getLogger("wfe.serve")

DESCRIPTION = """The HTTP face of wfe: the same engine, events and store as the command line.
A run started here shows in `wfe runs`, and one started with `wfe run` shows here.

With a token set, send `Authorization: Bearer TOKEN`. A run id may be any unique prefix of one.
Errors are `{"detail": "one line"}`; an invalid workflow adds `problems` (each at its
line:col), an invalid input names its `key`. Run events: `GET /runs/{run_id}/events` (SSE) or
the WebSocket at the same path, each event an `EventDocument`."""


def create_app(config: ServeConfig) -> FastAPI:
    """The app, ready for uvicorn (or a test client, which runs its lifespan)."""
    catalog = Catalog(config.paths, config.posted_folder, config.imports)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await _start(config, catalog)
        app.state.services = services
        try:
            yield
        finally:
            await stop(services)

    app = FastAPI(title="wfe", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    for router in (routes_runs.router, routes_events.router, routes_workflows.router,
                   page.router):
        app.include_router(router)
    app.add_exception_handler(WfeError, _wfe_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
    app.openapi = lambda: _openapi(app, config)  # type: ignore[method-assign]
    app.add_middleware(Guard, token=config.token, max_body=config.max_body,
                       hosts=HostRule.for_bind(config.host, config.allowed_hosts),
                       body_seconds=config.body_seconds)
    return app


async def _start(config: ServeConfig, catalog: Catalog) -> Services:
    loop = asyncio.get_running_loop()
    # Sync tools run in these threads: the default pool (cores + 4) would queue them.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=config.tool_threads,
                                                 thread_name_prefix="wfe-tool"))
    store = Store.open(config.store, durability=config.durability)
    reader = StoreReader(config.store, config.durability, config.read_threads)
    manager = RunManager(store, catalog, reader)
    # Loading every served file now imports their tool modules (which posted workflows may
    # then import by name) and logs the invalid ones.
    await reader.call(catalog.scan)
    return Services(config, catalog, store, reader, manager)


async def stop(services: Services) -> None:
    """Runs in flight are stored as interrupted; then the store closes. Safe to call twice.

    The sync tools' idle threads are let go: the process would otherwise wait for them at exit
    as for a tool still running (`wfe.cli.signals.leave_tool_threads`, up to 5 s)."""
    await services.manager.shutdown()
    release_tool_threads()
    services.reader.close()
    services.store.close()


async def _wfe_error(request: Request, error: WfeError) -> JSONResponse:
    return JSONResponse(error_body(error), status_code=status_of(error))


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's list of errors, as one line naming the first field at fault."""
    problems = error.errors()
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid request"))
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return JSONResponse({"detail": f"{where}: {message}{more}" if where else message + more},
                        status_code=422)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": f"internal error ({type(error).__name__}); see the server's "
                                   "log"}, status_code=500)


def _openapi(app: FastAPI, config: ServeConfig) -> dict[str, Any]:
    """FastAPI's schema, plus the bearer scheme and the event document of the streams."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version,
                             description=app.description, routes=app.routes)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["EventDocument"] = EventDocument.model_json_schema()
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        if config.token:
            schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema
