"""The page reads the server's own JSON API in-process, through the whole ASGI app.

Going through the app rather than the store means the server-rendered page shows exactly the
documents the API serves, under the same authentication, and the page depends on nothing but the
HTTP contract.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.requests import Request

#: The scope keys a sub-request inherits; the rest (route, endpoint, exit stacks) belong to the
#: page's own request and must not leak into another one.
_INHERITED_SCOPE_KEYS = ("asgi", "http_version", "scheme", "server", "client")


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def detail(self) -> str:
        """The API's one-line error message (`{"detail": ...}`), or the status code."""
        if isinstance(self.body, dict) and isinstance(self.body.get("detail"), str):
            return f"{self.status}: {self.body['detail']}"
        return f"HTTP {self.status}"


def bearer_token(request: Request) -> str | None:
    """The token the page was opened with: `?token=` first, else the request's own header."""
    token = request.query_params.get("token")
    if token:
        return token
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return (credentials or None) if scheme.lower() == "bearer" else None


class _Exchange:
    """One GET request's ASGI channels: an empty body in, the status and body out."""

    def __init__(self) -> None:
        self.status = 500
        self.chunks: list[bytes] = []
        self._body_sent = False
        self._finished = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._finished.wait()  # a disconnect before the answer would abort it
        return {"type": "http.disconnect"}

    async def send(self, message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif message["type"] == "http.response.body":
            self.chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self._finished.set()


def _scope(request: Request, path: str, query: Mapping[str, str | int]) -> dict[str, Any]:
    headers = [(b"host", request.headers.get("host", "localhost").encode("latin-1")),
               (b"accept", b"application/json")]
    token = bearer_token(request)
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode("latin-1", "replace")))
    scope: dict[str, Any] = {key: request.scope[key] for key in _INHERITED_SCOPE_KEYS
                             if key in request.scope}
    scope.update(type="http", method="GET", path=unquote(path), raw_path=path.encode("ascii"),
                 root_path="", query_string=urlencode(query).encode("ascii"), headers=headers)
    if "state" in request.scope:
        scope["state"] = dict(request.scope["state"])
    return scope


async def api_get(request: Request, path: str, query: Mapping[str, str | int] | None = None,
                  ) -> ApiAnswer:
    """GET `path` (URL-encoded, e.g. `/runs`) from the app serving `request`, JSON parsed."""
    exchange = _Exchange()
    try:
        await request.app(_scope(request, path, query or {}), exchange.receive, exchange.send)
    except Exception:  # the app has answered 500 (and logged it); the page says so
        exchange.status = 500
    raw = b"".join(exchange.chunks)
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return ApiAnswer(exchange.status, body)


def path_segment(value: str) -> str:
    """A run id or workflow name as one URL path segment (user data: `/` and `?` escaped)."""
    return quote(value, safe="")
