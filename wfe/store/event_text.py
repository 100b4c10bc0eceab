"""JSON text of a step's events, the three most frequent written out from templates.

Every step emits node_started, node_finished and edge, with fixed keys. Formatting those from a
template costs about half of what the general encoder does, and a node_finished event carrying
the very updates dict of the step being committed reuses the JSON already made for the step's
row instead of encoding the updates a second time (they can be large). An event of any other
shape, or with a value of another type, goes to the general encoder; the text is the same
either way (tests/test_event_text.py holds them to it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from json.encoder import encode_basestring as _quote
from typing import Any

from wfe.engine.events import Event

_STARTED = ("event", "run_id", "ts", "seq", "node", "step", "attempt")
_FINISHED = ("event", "run_id", "ts", "seq", "node", "step", "duration_ms", "updates")
_EDGE = ("event", "run_id", "ts", "seq", "from", "to", "condition")

_STARTED_TEXT = ('{"event":"node_started","run_id":%s,"ts":%s,"seq":%d,"node":%s,"step":%d,'
                 '"attempt":%d}')
_FINISHED_TEXT = ('{"event":"node_finished","run_id":%s,"ts":%s,"seq":%d,"node":%s,"step":%d,'
                  '"duration_ms":%r,"updates":%s}')
_EDGE_TEXT = '{"event":"edge","run_id":%s,"ts":%s,"seq":%d,"from":%s,"to":%s,"condition":%s}'


def _started(event: Event, updates: object, updates_text: str) -> str | None:
    seq, step, attempt = event["seq"], event["step"], event["attempt"]
    if type(seq) is not int or type(step) is not int or type(attempt) is not int \
            or event["event"] != "node_started":
        return None
    return _STARTED_TEXT % (_quote(event["run_id"]), _quote(event["ts"]), seq,
                            _quote(event["node"]), step, attempt)


def _finished(event: Event, updates: object, updates_text: str) -> str | None:
    seq, step, duration = event["seq"], event["step"], event["duration_ms"]
    if type(seq) is not int or type(step) is not int or type(duration) is not float \
            or not math.isfinite(duration) or event["event"] != "node_finished" \
            or not updates_text or event["updates"] is not updates:
        return None
    return _FINISHED_TEXT % (_quote(event["run_id"]), _quote(event["ts"]), seq,
                             _quote(event["node"]), step, duration, updates_text)


def _edge(event: Event, updates: object, updates_text: str) -> str | None:
    seq, condition = event["seq"], event["condition"]
    if type(seq) is not int or event["event"] != "edge":
        return None
    return _EDGE_TEXT % (_quote(event["run_id"]), _quote(event["ts"]), seq,
                         _quote(event["from"]), _quote(event["to"]),
                         "null" if condition is None else _quote(condition))


#: By the event's keys, in order: another order or another key is encoded in general.
_TEMPLATES: dict[tuple[str, ...], Callable[[Event, object, str], str | None]] = {
    _STARTED: _started, _FINISHED: _finished, _EDGE: _edge,
}


def events_text(events: list[Event], encode: Callable[[Any], str], updates: object = None,
                updates_text: str = "") -> str:
    """The events as the items of a JSON array (no brackets). `updates_text` is the JSON of
    `updates`, used for a node_finished event whose updates are that very object."""
    parts = []
    for event in events:
        template = _TEMPLATES.get(tuple(event))
        text = None
        if template is not None:
            try:
                text = template(event, updates, updates_text)
            except TypeError:  # a field that should be a str is not
                text = None
        parts.append(encode(event) if text is None else text)
    return ",".join(parts)
