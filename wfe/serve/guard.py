"""The server's outer layer, as ASGI middleware: Host and Origin checks, bearer-token auth, and
the request body's limit and type.

With a token set, every request needs `Authorization: Bearer TOKEN` (compared in constant
time), except the API's description (/docs, /openapi.json) and the page's static files, which
hold no data. A browser cannot set headers on a page link, an EventSource or a WebSocket, so
`GET /` and the events routes (SSE and WS) also accept `?token=TOKEN`; no log line shows it,
however its name is spelled (`RedactTokens`).

Before that, a request must name this server in its Host and, when it changes state or opens a
WebSocket from a browser, come from this server's origin (`origins.py`: 400 and 403).

Bodies are read here, at most `max_body` bytes within `body_seconds`, before any route sees
them: a larger one (by its Content-Length or as it streams in) is a 413, a slower one a 408, and
one whose Content-Type is not the route's (YAML for `POST /workflows`, else JSON) a 415.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote, unquote_plus

from wfe.serve.config import BODY_SECONDS
from wfe.serve.origins import STATE_CHANGING, HostRule, body_type_problem, same_origin

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PUBLIC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
PUBLIC_PREFIXES = ("/static/",)
_QUERY_TOKEN_PATH = re.compile(r"^/(runs/[^/]+/events)?$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_BAD_TOKEN = "missing or wrong bearer token"
_QUERY = re.compile(r"\?[^\s\"]*")

Refusal = tuple[int, str, list[tuple[bytes, bytes]]]


class Guard:
    """Host, Origin and auth, then the body (limit, deadline, type), then the app."""

    def __init__(self, app: ASGIApp, token: str | None, max_body: int, hosts: HostRule,
                 body_seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.max_body = max_body
        self.hosts = hosts
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await (_refuse_websocket(scope, receive, send, refusal) if kind == "websocket"
                   else _respond(send, *refusal))
            return
        if kind == "http" and scope["method"] in _BODY_METHODS:
            bounded = await self._bounded_body(scope, receive, send)
            if bounded is None:
                return
            receive = bounded
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Refusal | None:
        """Why the request is refused before the app sees it (status, detail, headers)."""
        host, origin = _header(scope, b"host"), _header(scope, b"origin")
        if not self.hosts.allows(host):
            return 400, "the Host header does not name this server", []
        browser_may_change = scope["type"] == "websocket" or scope["method"] in STATE_CHANGING
        if origin is not None and browser_may_change \
                and not same_origin(origin, host, scope.get("scheme", "http")):
            return 403, "cross-origin request refused", []
        if self.token is not None and not self._allowed(scope):
            return 401, _BAD_TOKEN, [(b"www-authenticate", b"Bearer")]
        return None

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
        """The body read whole (at most max_body bytes, within body_seconds) and handed on;
        None after a 408, 413 or 415."""
        too_big = f"request body is larger than {self.max_body} bytes"
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _respond(send, 413, too_big)
            return None
        try:
            async with asyncio.timeout(self.body_seconds):
                body = await self._read_body(receive)
        except TimeoutError:
            await _respond(send, 408, f"request body not received within {self.body_seconds:g} s")
            return None
        if body is None:
            await _respond(send, 413, too_big)
            return None
        if not isinstance(body, bytes):
            return _replay([body], receive)  # the client left; let the app see it
        problem = body_type_problem(scope["path"], _header(scope, b"content-type"), bool(body))
        if problem is not None:
            await _respond(send, 415, problem)
            return None
        return _replay([{"type": "http.request", "body": body, "more_body": False}], receive)

    async def _read_body(self, receive: Receive) -> bytes | Message | None:
        """The body; None when it grows past max_body; the message when the client left."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _header(scope: Scope, wanted: bytes) -> str | None:
    """The first value of a request header, or None."""
    for name, value in scope["headers"]:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


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


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send,
                            refusal: Refusal) -> None:
    """The refusal as the handshake's answer where the server can send one, else a close
    (HTTP 403): either way before the socket is accepted, so no event is ever sent."""
    status, detail, headers = refusal
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "websocket.http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), *headers]})
    await send({"type": "websocket.http.response.body", "body": body})


class RedactTokens(logging.Filter):
    """Log lines never show a token: a query parameter whose name decodes to `token`, however
    it is spelled (`token=`, `%74oken=`, `tok%65n=`), shows `***`, and so does the token's own
    value wherever it appears."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.secrets = sorted({token, quote(token, safe=""), quote(token)} if token else set(),
                              key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.redact(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = self.redact(record.msg)
        return True

    def redact(self, text: str) -> str:
        text = _QUERY.sub(lambda match: _redact_query(match.group()), text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _redact_query(query: str) -> str:
    pairs = query[1:].split("&")
    for index, pair in enumerate(pairs):
        name, equals, _ = pair.partition("=")
        if equals and unquote_plus(name).strip().lower() == "token":
            pairs[index] = f"{name}=***"
    return "?" + "&".join(pairs)
