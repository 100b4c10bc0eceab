"""JSON lines (`wfe run --json`): one compact object per event, flushed as it happens."""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import TextIO

from wfe.engine.events import Event


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

    def prompt_begins(self, node: str) -> None:
        """Nothing to pause: it writes each event as it comes."""

    def prompt_ends(self, node: str) -> None:
        """Nothing to draw again."""

    def __enter__(self) -> JsonLinesRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
