"""Small text helpers shared by the renderers; pure, so the plain and JSON modes never load rich."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from wfe.engine.events import Event

# Control characters but the line break and the tab, and the bidirectional and invisible ones.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060"
    "\u2066-\u2069\ufeff]"
)
_WORKFLOW_COMMAND = re.compile(r"^(\s*):(?=:)", re.MULTILINE)


def safe_text(text: str) -> str:
    """Text as a terminal or a CI log can show it: control, bidirectional and invisible
    characters escaped (`\\x1b`, `\\u202e`), so a tool cannot retitle or clear the terminal;
    line breaks kept, but no line starts with `::`, which GitHub Actions reads as a workflow
    command (its first `:` is written `%3A`, as GitHub escapes it)."""
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return _WORKFLOW_COMMAND.sub(r"\1%3A", text) if "::" in text else text


def safe_event(event: Event) -> Event:
    """The event with its text fields (and its error's) made safe to show; other values, such
    as the state, are left as they are for a view that does not print them raw."""
    safe: Event = {k: safe_text(v) if isinstance(v, str) else v for k, v in event.items()}
    error = event.get("error")
    if isinstance(error, dict):
        safe["error"] = {k: safe_text(v) if isinstance(v, str) else v for k, v in error.items()}
    return safe


def format_duration(ms: float) -> str:
    """12 ms, 1.23 s, 2 min 05 s, 1 h 02 min."""
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_elapsed(seconds: float) -> str:
    """A ticking clock: 0:03, 12:40, 1:02:03."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_error(error: Mapping[str, Any] | None) -> str:
    """`{"type": "ValueError", "message": "boom"}` -> `ValueError: boom`."""
    if not error:
        return "unknown error"
    kind = str(error.get("type") or "Error")
    message = str(error.get("message") or "")
    return f"{kind}: {message}" if message else kind


def clock_time(ts: object) -> str:
    """HH:MM:SS in UTC from an event's ISO 8601 `ts`; never the wall clock."""
    try:
        moment = datetime.fromisoformat(str(ts))
    except ValueError:
        return "--:--:--"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%H:%M:%S")


def first_line(text: str) -> str:
    """The first line, marked with an ellipsis when more follow (for one-row views)."""
    head, sep, _ = text.strip().partition("\n")
    return head + " …" if sep else head


def split_item(node: str) -> tuple[str, int, bool] | None:
    """`each[3]` -> ("each", 3, True); `each[3]/child` -> ("each", 3, False); else None.

    The first `[` marks the item of a `map:` node (a fan-out's items are never rows of their own);
    the flag says whether the event is about the item itself rather than a node inside it.
    """
    open_at = node.find("[")
    close_at = node.find("]", open_at + 1)
    if open_at <= 0 or close_at < 0 or not node[open_at + 1:close_at].isdigit():
        return None
    return node[:open_at], int(node[open_at + 1:close_at]), close_at == len(node) - 1


class ItemCounts:
    """The items of one visit of a `map:` node: how many started, finished, failed, running.

    The engine does not announce how many items a map has, so `started` is all there is to
    compare `done` with.
    """

    __slots__ = ("_state", "done", "failed")

    def __init__(self) -> None:
        self._state: dict[int, str] = {}
        self.done = 0
        self.failed = 0

    @property
    def started(self) -> int:
        return len(self._state)

    @property
    def running(self) -> int:
        return self.started - self.done - self.failed

    def is_new(self, index: int) -> bool:
        return index not in self._state

    def update(self, index: int, kind: str) -> None:
        """Fold one event (`node_started|node_finished|node_failed`) about item `index` in."""
        before = self._state.get(index)
        after = {"node_finished": "done", "node_failed": "failed"}.get(kind, "running")
        if before == after:
            return
        self._state[index] = after
        for state, step in ((before, -1), (after, 1)):
            if state == "done":
                self.done += step
            elif state == "failed":
                self.failed += step

    def summary(self) -> str:
        text = f"{self.done} item{'s' if self.done != 1 else ''} done"
        if self.failed:
            text += f", {self.failed} failed"
        if self.running:
            text += f", {self.running} unfinished"
        return text


def workflow_command(annotation: dict[str, Any], message: str) -> str:
    """An annotation as a GitHub Actions workflow command, `::warning file=...,line=...::text`,
    each part made safe to show and escaped as GitHub's runner unescapes it (`%25`, `%0D`, `%0A`;
    in a property also `%3A` and `%2C`), so its text can never start a command of its own."""
    level = annotation.get("level")
    command = level if level in ("notice", "warning", "error") else "notice"
    properties = ",".join(f"{name}={safe_text(_escape_property(str(annotation[key])))}"
                          for key, name in _COMMAND_PROPERTIES if annotation.get(key) is not None)
    text = safe_text(_escape_data(message))
    return f"::{command}{' ' + properties if properties else ''}::{text}"


_COMMAND_PROPERTIES = (("file", "file"), ("line", "line"), ("end_line", "endLine"),
                       ("col", "col"), ("title", "title"))


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
