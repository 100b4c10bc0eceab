"""Run the app on uvicorn: bind (a clear error when the address is taken), print where it
listens (with a token made up at start, the page's address that carries it, once), and on
SIGINT/SIGTERM store the runs in flight as interrupted at once, before uvicorn waits for open
connections (a live event stream ends with its run's last event).

Slow clients: a request's head must arrive within `header_seconds` (`protocol.py`), its body
within `body_seconds` (the Guard), and an idle connection closes after KEEP_ALIVE_SECONDS.
No log line shows a token (`RedactTokens`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from types import FrameType

import uvicorn
from fastapi import FastAPI

from wfe.errors import UsageError
from wfe.serve.app import create_app
from wfe.serve.config import ServeConfig, is_loopback
from wfe.serve.guard import RedactTokens
from wfe.serve.protocol import KEEP_ALIVE_SECONDS, MAX_HEAD_BYTES, bounded_h11
from wfe.serve.services import Services

log = logging.getLogger("wfe.serve")

#: After a signal, how long open connections (event streams of runs elsewhere) may take.
GRACEFUL_SECONDS = 10


class _Server(uvicorn.Server):
    def __init__(self, app: FastAPI, config: uvicorn.Config, serve_config: ServeConfig) -> None:
        super().__init__(config)
        self.app = app
        self.serve_config = serve_config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if self.started:
            for server in self.servers:
                for bound in server.sockets:
                    self._announce(*bound.getsockname()[:2])
            sys.stderr.flush()

    def _announce(self, host: str, port: int) -> None:
        config = self.serve_config
        shown = f"[{host}]" if ":" in host else host
        sys.stderr.write(f"wfe serve: listening on http://{shown}:{port} "
                         f"(store {config.store})\n")
        if config.show_token and config.token:
            sys.stderr.write(f"wfe serve: open http://{shown}:{port}/?token={config.token} "
                             "(a new token at every start: set --token or WFE_TOKEN to keep "
                             "one, --no-token for none on this machine only)\n")

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is not None and self._stopping is None:
            self._loop.call_soon_threadsafe(self._stop_runs)
        super().handle_exit(sig, frame)

    def _stop_runs(self) -> None:
        services: Services | None = getattr(self.app.state, "services", None)
        if services is not None and self._stopping is None:
            self._stopping = asyncio.ensure_future(services.manager.shutdown())


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound now so that a taken address is a usage error (exit 2)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise UsageError(f"--host {host}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def run_server(config: ServeConfig) -> int:
    """Serve until a signal; returns the exit code (uvicorn re-raises the signal after)."""
    if not is_loopback(config.host) and not config.token:
        raise UsageError(f"--host {config.host} without a token: anyone who can reach it could "
                         "run workflows (drop --no-token, or set --token or WFE_TOKEN)")
    sock = listening_socket(config.host, config.port)
    app = create_app(config)
    server = _Server(app, uvicorn_config(app, config), config)
    _configure_logging(config.token)
    server.run(sockets=[sock])
    return 0 if server.started else 1


def uvicorn_config(app: FastAPI, config: ServeConfig) -> uvicorn.Config:
    """uvicorn's settings: its HTTP/1.1 protocol with a deadline for a request's head, and the
    keep-alive and head-size limits stated rather than left to uvicorn's defaults."""
    return uvicorn.Config(app, log_level="info", lifespan="on",
                          http=bounded_h11(config.header_seconds),
                          timeout_keep_alive=KEEP_ALIVE_SECONDS,
                          h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                          timeout_graceful_shutdown=GRACEFUL_SECONDS)


def _configure_logging(token: str | None) -> None:
    redact = RedactTokens(token)
    for name in ("uvicorn.access", "uvicorn.error", "wfe.serve"):
        logging.getLogger(name).addFilter(redact)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("wfe serve: %(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
