"""A watcher's view of a run: its stored events after a seq, then its live ones, each seq exactly
once and in order, until the run ends. Server-Sent Events and WebSockets both read this.

For a run this server executes, the watcher subscribes to the run's hub *before* it reads
anything, so nothing emitted meanwhile is missed; it replays what came before (from the hub's
recent events when they reach back far enough, else from the store), then takes live events
with a seq above the last one sent, skipping repeats. A live event past a gap (the watcher's
buffer overflowed) is preceded by the missing ones, from the hub or the store, which holds every
event within moments. The stream ends after the run's last event.

For a run another process executes (a `wfe run` in a terminal), the watcher polls the store, as
`wfe logs --follow` does, until the run is no longer running (or the server stops). Either way
the run never waits for a watcher.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from wfe.engine.events import Event, RunStatus
from wfe.serve.hub import RunHub
from wfe.serve.reader import StoreReader
from wfe.serve.runs import RunManager
from wfe.store import Store

log = logging.getLogger("wfe.serve")

#: Events read from the store at once.
PAGE = 1000
#: How often the store is polled for a run executed elsewhere (as `wfe logs --follow`).
POLL_SECONDS = 0.1
#: How often the store is read again while it lacks events a live watcher has seen after them.
GAP_POLL_SECONDS = 0.02
#: How long a gap may stay unfilled before the stream gives up (the run's owner lost it).
GAP_GIVE_UP_SECONDS = 30.0
#: A watcher with nothing to send gets a keep-alive tick (None) this often.
KEEPALIVE_SECONDS = 15.0


class RunEvents:
    """`async for event in RunEvents(...)`: events, or None as a keep-alive tick."""

    def __init__(self, run_id: str, after: int, manager: RunManager, reader: StoreReader) -> None:
        self.run_id = run_id
        self.last = max(after, 0)
        self.manager = manager
        self.reader = reader

    def __aiter__(self) -> AsyncIterator[Event | None]:
        hub = self.manager.hub(self.run_id)
        return self._live(hub) if hub is not None else self._stored()

    # --- a run executed here ---------------------------------------------------------------

    async def _live(self, hub: RunHub) -> AsyncIterator[Event | None]:
        watcher = hub.subscribe()
        try:
            async for event in self._catch_up(hub, hub.last_seq):
                yield event
            while True:
                if hub.ended and not watcher.ready.is_set():
                    async for missing in self._catch_up(hub, hub.last_seq):
                        yield missing
                    return
                try:
                    await asyncio.wait_for(watcher.ready.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield None
                    continue
                events, overflowed = watcher.take()
                for event in events:
                    async for missing in self._catch_up(hub, event["seq"] - 1):
                        yield missing
                    if event["seq"] > self.last:  # not sent yet, from the store or before
                        self.last = event["seq"]
                        yield event
                if overflowed:
                    log.info("a watcher of run %s fell behind; it catches up from the store",
                             self.run_id)
                    async for missing in self._catch_up(hub, hub.last_seq):
                        yield missing
        finally:
            hub.unsubscribe(watcher)

    async def _catch_up(self, hub: RunHub, target: int) -> AsyncIterator[Event]:
        """The events after the last one sent, up to `target`: from the hub's recent events
        when they reach back that far, else from the store, which may be a moment behind the
        run (then wait for it, but not forever)."""
        progress_at = time.monotonic()
        while self.last < target:
            recent = hub.recent
            if recent and recent[0]["seq"] <= self.last + 1:
                for event in list(recent):  # a copy: more may arrive while this one is sent
                    if self.last < event["seq"] <= target:
                        self.last = event["seq"]
                        yield event
                continue
            events = await self._read()
            for event in events:
                self.last = event["seq"]
                yield event
            if events:
                progress_at = time.monotonic()
            elif time.monotonic() - progress_at > GAP_GIVE_UP_SECONDS:
                log.warning("run %s: events %d..%d never reached the store; stream ends",
                            self.run_id, self.last + 1, target)
                raise _Broken
            else:
                await asyncio.sleep(GAP_POLL_SECONDS)

    async def _read(self) -> list[Event]:
        run_id, after = self.run_id, self.last
        return await self.reader.run(lambda store: store.events(run_id, after_seq=after,
                                                                limit=PAGE))

    # --- a run executed elsewhere ----------------------------------------------------------

    async def _stored(self) -> AsyncIterator[Event | None]:
        idle_since = time.monotonic()
        while True:
            status, events = await self._status_and_events()
            for event in events:
                self.last = event["seq"]
                yield event
            if len(events) == PAGE:
                continue
            # The status was read first: a run stored as not running has all its events stored.
            if status != "running" or self.manager.closing:
                return
            if events:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > KEEPALIVE_SECONDS:
                idle_since = time.monotonic()
                yield None
            await asyncio.sleep(POLL_SECONDS)

    async def _status_and_events(self) -> tuple[RunStatus, list[Event]]:
        run_id, after = self.run_id, self.last

        def read(store: Store) -> tuple[RunStatus, list[Event]]:
            status = store.get_run(run_id).status
            return status, store.events(run_id, after_seq=after, limit=PAGE)

        return await self.reader.run(read)


class _Broken(Exception):
    """The store never received events a watcher saw go past: the stream cannot go on."""


async def run_events(run_id: str, after: int, manager: RunManager,
                     reader: StoreReader) -> AsyncIterator[Event | None]:
    """The events of RunEvents; a stream that cannot be completed ends instead of raising."""
    try:
        async for event in RunEvents(run_id, after, manager, reader):
            yield event
    except _Broken:
        return
