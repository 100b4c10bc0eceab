"""Small text helpers shared by the renderers; pure, so the plain and JSON modes never load rich."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


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
