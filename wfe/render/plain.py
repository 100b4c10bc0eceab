"""Plain progress lines for logs and CI: one timestamped line per meaningful event.

Everything shown comes from the events themselves (times from `ts`), so the output of a replayed
run is identical to the live one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from wfe.engine.events import Event
from wfe.render._format import (
    ItemCounts,
    clock_time,
    format_duration,
    format_error,
    safe_text,
    split_item,
    workflow_command,
)

#: Lines about the items of a map node are printed for its first items only (failures always).
SHOWN_ITEMS = 10

# Continuation lines of a multi-line message line up under the text after "HH:MM:SS   ".
_CONTINUATION = "\n" + " " * 11

_FINISH_PHRASES = {
    "succeeded": "succeeded in",
    "waiting": "waiting for input after",
    "interrupted": "interrupted after",
    "cancelled": "cancelled after",
}


class PlainRenderer:
    """A Listener writing `HH:MM:SS text` lines to a text stream, flushed per line.

    Plain edges (no condition) are left out to keep the log quiet; conditional, `on_error`
    and `exhausted` edges are shown because they explain why the run went where it did.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._visits: dict[str, int] = {}
        self._items: dict[str, ItemCounts] = {}
        self._handlers: dict[str, Callable[[Event], str | None]] = {
            "run_started": self._run_started,
            "node_started": self._node_started,
            "log": self._log,
            "node_finished": self._node_finished,
            "node_failed": self._node_failed,
            "node_skipped": self._node_skipped,
            "edge": self._edge,
            "run_waiting": self._run_waiting,
            "run_finished": self._run_finished,
        }

    def __call__(self, event: Event) -> None:
        handler = self._handlers.get(event.get("event", ""))
        if handler is None:
            return  # an event kind from a newer engine: nothing to say about it
        with self._lock:
            if not self._counts_item(event):
                return
            annotation = event.get("annotation")
            if isinstance(annotation, dict):  # a finding: CI shows it on the file's line
                self._stream.write(workflow_command(annotation, str(event.get("message", ""))))
                self._stream.write("\n")
                self._stream.flush()
                return
            text = handler(event)
            if text is None:
                return
            lines = [safe_text(text).replace("\n", _CONTINUATION), *self._items_summary(event)]
            stamp = clock_time(event.get("ts"))
            self._stream.write("".join(f"{stamp} {line}\n" for line in lines))
            self._stream.flush()

    def prompt_begins(self, node: str) -> None:
        """Nothing to pause: it writes each event as it comes."""

    def prompt_ends(self, node: str) -> None:
        """Nothing to draw again."""

    def __enter__(self) -> PlainRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def _counts_item(self, event: Event) -> bool:
        """Count an event about a map item; whether to print it (first items, failures)."""
        kind = str(event.get("event"))
        item = split_item(str(event.get("node")))
        if item is None or kind not in ("node_started", "node_finished", "node_failed"):
            return True
        name, index, itself = item
        counts = self._items.setdefault(name, ItemCounts())
        if itself or counts.is_new(index):
            counts.update(index, kind if itself else "node_started")
        return index < SHOWN_ITEMS or kind == "node_failed"

    def _items_summary(self, event: Event) -> list[str]:
        """After a map node's own finish (or failure), one line on all its items."""
        node = str(event.get("node"))
        if event.get("event") == "node_started" and int(event.get("attempt") or 1) == 1:
            self._items.pop(node, None)  # a new visit counts its items afresh
            return []
        if event.get("event") not in ("node_finished", "node_failed"):
            return []
        counts = self._items.pop(node, None)
        return [f"  {node}: {counts.summary()}"] if counts is not None else []

    def _run_started(self, event: Event) -> str:
        self._visits.clear()
        self._items.clear()
        return f"▶ run {event.get('workflow')} (run {event.get('run_id')})"

    def _node_started(self, event: Event) -> str:
        node = str(event.get("node"))
        attempt = int(event.get("attempt") or 1)
        if attempt == 1:  # a retry is another attempt of the same visit
            self._visits[node] = self._visits.get(node, 0) + 1
        details = [f"step {event.get('step')}"]
        if attempt > 1:
            details.append(f"attempt {attempt}")
        details.extend(self._visit_note(node))
        return f"  {node} started ({', '.join(details)})"

    def _node_finished(self, event: Event) -> str:
        node = str(event.get("node"))
        took = format_duration(float(event.get("duration_ms") or 0))
        details = [f"step {event.get('step')}", *self._visit_note(node)]
        return f"  {node} done in {took} ({', '.join(details)})"

    def _node_skipped(self, event: Event) -> str:
        return f"  {event.get('node')} skipped, its `if` is false (step {event.get('step')})"

    def _node_failed(self, event: Event) -> str:
        node = event.get("node")
        attempt = event.get("attempt") or 1
        return f"  {node} failed (attempt {attempt}): {format_error(event.get('error'))}"

    def _log(self, event: Event) -> str:
        node = event.get("node")
        message = str(event.get("message", ""))
        return f"  {node}: {message}" if node else f"  {message}"

    def _edge(self, event: Event) -> str | None:
        condition = event.get("condition")
        if condition is None:
            return None
        return f"  {event.get('from')} → {event.get('to')} [{condition}]"

    def _run_waiting(self, event: Event) -> str:
        text = f"⏸ {event.get('node')} waiting for input"
        message = event.get("message")
        if message:
            text += f": {message}"
        expects: Any = event.get("expects") or {}
        if expects:
            text += f" (expects: {', '.join(map(str, expects))})"
        return text

    def _run_finished(self, event: Event) -> str:
        status = str(event.get("status"))
        took = format_duration(float(event.get("duration_ms") or 0))
        if status != "failed":
            return f"■ run {_FINISH_PHRASES.get(status, status + ' after')} {took}"
        error = event.get("error") or {}
        where = f" at node '{error['node']}'" if error.get("node") else ""
        return f"■ run failed{where} after {took}: {format_error(error)}"

    def _visit_note(self, node: str) -> list[str]:
        visits = self._visits.get(node, 0)
        return [f"visit {visits}"] if visits > 1 else []
