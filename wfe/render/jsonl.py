"""JSON lines (`wfe run --json`): one compact object per event, flushed as it happens."""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import TextIO

from wfe.events import Event


def _not_json(value: object) -> object:
    # Events are JSON values by contract; anything else is an engine bug, so say which type.
    raise TypeError(f"event field of type {type(value).__name__} is not JSON")


class JsonLinesRenderer:
    """A Listener writing each event as one line of compact JSON (UTF-8 text kept as is)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=_not_json)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def start(self) -> None:
        return None  # nothing drawn between events: nothing to give back or take again

    def stop(self) -> None:
        return None

    def __enter__(self) -> JsonLinesRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
