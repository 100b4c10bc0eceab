"""uvicorn's HTTP/1.1 protocol with a deadline for a request's head.

uvicorn closes a connection that stays idle after a response (`timeout_keep_alive`), but it sets
no limit on a new connection, nor on a client that sends its request line and headers a byte at
a time (each byte cancels the keep-alive timer): such clients could hold every connection the
server has. Here each connection, and each request after the first, must have sent its whole head
within `header_seconds` of the last response (or of connecting), or it is closed. A request whose
head arrived is not affected: its body has the Guard's own deadline, and a response (an event
stream) may last as long as its run.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from wfe.serve.config import HEADER_SECONDS

#: How long a connection may stay idle between requests (uvicorn's own default).
KEEP_ALIVE_SECONDS = 5
#: The largest request head accepted (uvicorn's default, stated here): a larger one is a 400.
MAX_HEAD_BYTES = 16 * 1024


def bounded_h11(header_seconds: float = HEADER_SECONDS) -> type[H11Protocol]:
    """The protocol class to give uvicorn as `http=`."""

    class BoundedH11Protocol(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_deadline()
            super().connection_lost(exc)

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._disarm_head_deadline()  # the WebSocket protocol takes the connection over
            super().handle_websocket_upgrade(event)

        def on_response_complete(self) -> None:
            self._arm_head_deadline()  # before: the next pipelined request may start inside
            super().on_response_complete()

        def _arm_head_deadline(self) -> None:
            self._disarm_head_deadline()
            self._head_deadline = self.loop.call_later(header_seconds, self._head_overdue)

        def _disarm_head_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_overdue(self) -> None:
            """Close the connection if the client has still not sent a whole request head."""
            self._head_deadline = None
            waiting_for_head = self.conn.their_state in (h11.IDLE, h11.DONE) and (
                self.cycle is None or self.cycle.response_complete)
            if waiting_for_head and not self.transport.is_closing():
                self.transport.close()

    return BoundedH11Protocol
