"""One in-process fan-out per run the server executes: the engine's listener hands each event
to every watcher's bounded buffer and returns at once.

A watcher that falls behind (its buffer full) loses live events, never the run's time: it is
marked `overflowed` and catches up from the store, where every event is written anyway. All of
this runs on the server's event loop thread (the engine calls listeners there, and a sync tool's
`ctx.log` is handed over to it), so no lock is needed.
"""

from __future__ import annotations

import asyncio
from collections import deque

from wfe.engine.events import Event

#: Live events a watcher may have waiting before it must catch up from the store.
WATCHER_BUFFER = 1024
#: The newest events of a run, kept for watchers that arrive (or fall behind) while it runs:
#: the store holds them too, but only a moment later.
RECENT_EVENTS = 256


class Watcher:
    """One reader of a run's live events."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.pending: deque[Event] = deque()
        self.overflowed = False
        self.ready = asyncio.Event()

    def offer(self, event: Event) -> None:
        if len(self.pending) < self.capacity:
            self.pending.append(event)
        else:
            self.overflowed = True
        self.ready.set()

    def take(self) -> tuple[list[Event], bool]:
        """What arrived since the last take, and whether some of it was dropped."""
        events, overflowed = list(self.pending), self.overflowed
        self.pending.clear()
        self.overflowed = False
        self.ready.clear()
        return events, overflowed


class RunHub:
    """The live side of a run executing in this server."""

    def __init__(self, run_id: str, last_seq: int = 0, capacity: int | None = None) -> None:
        self.run_id = run_id
        self.capacity = capacity or WATCHER_BUFFER
        self.watchers: set[Watcher] = set()
        #: The seq of the newest event (a resumed run starts from its stored events), and
        #: whether the run's task is over.
        self.last_seq = last_seq
        self.ended = False
        self.recent: deque[Event] = deque(maxlen=RECENT_EVENTS)

    def __call__(self, event: Event) -> None:
        self.last_seq = event["seq"]
        self.recent.append(event)
        for watcher in self.watchers:
            watcher.offer(event)

    def subscribe(self) -> Watcher:
        watcher = Watcher(self.capacity)
        self.watchers.add(watcher)
        return watcher

    def unsubscribe(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def end(self) -> None:
        """The run's task is over (its last event, if any, was emitted): wake every watcher."""
        self.ended = True
        for watcher in self.watchers:
            watcher.ready.set()
