"""The server's outer layer, as ASGI middleware: bearer-token auth and the request body limit.

With a token set, every request needs `Authorization: Bearer TOKEN` (compared in constant
time), except the API's description (/docs, /openapi.json) and the page's static files, which
hold no data. A browser cannot set headers on a page link, an EventSource or a WebSocket, so
`GET /` and the events routes (SSE and WS) also accept `?token=TOKEN`; access logs show it as
`token=***`.

Bodies are read here, at most `max_body` bytes, before any route sees them: a larger one (by its
Content-Length or as it streams in) is a 413.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
PUBLIC_PREFIXES = ("/static/",)
_QUERY_TOKEN_PATH = re.compile(r"^/(runs/[^/]+/events)?$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_TOKEN_IN_QUERY = re.compile(r"(?<=[?&]token=)[^&\s]*")


class Guard:
    """Auth, then the body limit, then the app."""

    def __init__(self, app: ASGIApp, token: str | None, max_body: int) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.token is not None and not self._allowed(scope):
            await (_refuse_websocket(scope, receive, send) if kind == "websocket"
                   else _respond(send, 401, "missing or wrong bearer token",
                                 [(b"www-authenticate", b"Bearer")]))
            return
        if kind == "http" and scope["method"] in _BODY_METHODS:
            bounded = await self._bounded_body(scope, receive, send)
            if bounded is None:
                return
            receive = bounded
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return True
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, given = value.partition(b" ")
                return scheme.lower() == b"bearer" and self._matches(given.strip())
        if _QUERY_TOKEN_PATH.match(path):
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given_values = query.get("token", [])
            return len(given_values) == 1 and self._matches(given_values[0].encode())
        return False

    def _matches(self, given: bytes) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given, self.token)

    async def _bounded_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The body read whole (at most max_body bytes) and handed on; None after a 413."""
        too_big = f"request body is larger than {self.max_body} bytes"
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await _respond(send, 413, too_big)
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive)  # the client left; let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _respond(send, 413, too_big)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}],
                       receive)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


async def _respond(send: Send, status: int, detail: str,
                   headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send) -> None:
    """A 401 to the handshake where the server can send one, else close (HTTP 403)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": "missing or wrong bearer token"}).encode()
    await send({"type": "websocket.http.response.start", "status": 401, "headers": [
        (b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
    await send({"type": "websocket.http.response.body", "body": body})


class RedactTokens(logging.Filter):
    """Access-log lines show `?token=***`, never the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_QUERY.sub("***", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        return True
