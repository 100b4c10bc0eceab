"""`wfe serve`: the HTTP and WebSocket face of the same engine, events and store (`wfe[serve]`).

Nothing here is imported by the rest of wfe: FastAPI and uvicorn load only when `wfe serve` runs.

    app.py        create_app(config): the FastAPI app, its lifespan, the page router
    config.py     ServeConfig: what `wfe serve` was started with
    catalog.py    the served workflow files, loaded and cached by modification time
    posting.py    POST /workflows: a posted workflow checked before anything of it is imported
    runs.py       RunManager: runs as asyncio tasks with the store journal; cancel, shutdown
    hub.py        one in-process fan-out of a run's events to its watchers
    watch.py      a watcher's stream: replay from the store, then live, no gap, no repeat
    reader.py     store reads in worker threads, one Store per thread
    guard.py      bearer-token auth, request body limit, token-free access logs
    errors.py     wfe errors as HTTP statuses and `{"detail": ...}` bodies
    models.py     the typed request and response documents (the OpenAPI schema)
    services.py   what every route works with;  routes_*.py  the routes
    server.py     uvicorn: binding, signals, the printed address
    page*.py      `GET /`, the browser page, and static/ its files
"""
