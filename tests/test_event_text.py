"""The templates for a step's events write exactly what the general JSON encoder writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wfe.store.event_text import events_text
from wfe.store.records import encode


def general(event: Any) -> str:
    return encode(event, "event", "r")


def general_array(events: list[dict[str, Any]]) -> str:
    return encode(events, "event", "r")[1:-1]


texts = st.text(max_size=20)
ints = st.integers(min_value=-(2**70), max_value=2**70)
values = st.recursive(st.none() | st.booleans() | ints | texts
                      | st.floats(allow_nan=False, allow_infinity=False),
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(texts, inner, max_size=3), max_leaves=8)


def started(run_id: str, ts: str, seq: int, node: str, step: int, attempt: int) -> dict[str, Any]:
    return {"event": "node_started", "run_id": run_id, "ts": ts, "seq": seq, "node": node,
            "step": step, "attempt": attempt}


def finished(run_id: str, ts: str, seq: int, node: str, step: int, duration: float,
             updates: dict[str, Any]) -> dict[str, Any]:
    return {"event": "node_finished", "run_id": run_id, "ts": ts, "seq": seq, "node": node,
            "step": step, "duration_ms": duration, "updates": updates}


def edge(run_id: str, ts: str, seq: int, source: str, target: str,
         condition: str | None) -> dict[str, Any]:
    return {"event": "edge", "run_id": run_id, "ts": ts, "seq": seq, "from": source,
            "to": target, "condition": condition}


@given(texts, texts, ints, texts, ints, ints, texts, texts, st.none() | texts,
       st.floats(allow_nan=False, allow_infinity=False),
       st.dictionaries(texts, values, max_size=4))
def test_a_steps_three_events_are_written_as_the_general_encoder_writes_them(
    run_id: str, ts: str, seq: int, node: str, step: int, attempt: int, source: str,
    target: str, condition: str | None, duration: float, updates: dict[str, Any]
) -> None:
    events = [started(run_id, ts, seq, node, step, attempt),
              finished(run_id, ts, seq + 1, node, step, duration, updates),
              edge(run_id, ts, seq + 2, source, target, condition)]
    expected = general_array(events)
    assert events_text(events, general, updates, general(updates)) == expected
    assert json.loads("[" + expected + "]") == events


def test_updates_already_encoded_for_the_step_are_not_encoded_again() -> None:
    updates = {"i": 1}
    event = finished("r", "t", 2, "a", 1, 0.5, updates)
    text = events_text([event], general, updates, '{"i":1,"marker":true}')
    assert json.loads(text)["updates"] == {"i": 1, "marker": True}


@pytest.mark.parametrize("event", [
    pytest.param({**started("r", "t", 1, "a", 1, 1), "extra": [1]}, id="another key"),
    pytest.param(dict(reversed(started("r", "t", 1, "a", 1, 1).items())), id="another order"),
    pytest.param(started("r", "t", True, "a", 1, 1), id="a bool where an int goes"),
    pytest.param(started("r", "t", 1, 7, 1, 1), id="an int where a str goes"),
    pytest.param({**started("r", "t", 1, "a", 1, 1), "event": "log"}, id="another kind"),
    pytest.param(finished("r", "t", 1, "a", 1, 2, {}), id="an int duration"),
    pytest.param(finished("r", "t", 1, "a", 1, 0.5, {"i": 1}), id="updates of another step"),
    pytest.param(edge("r", "t", 1, "a", "b", "x \"quoted\" \u2028 é"), id="text to escape"),
])
def test_any_other_event_is_written_by_the_general_encoder(event: dict[str, Any]) -> None:
    assert events_text([event], general, {"i": 1}, '{"i":1}') == general(event)


def test_a_value_json_cannot_hold_is_refused_as_by_the_general_encoder() -> None:
    from wfe.store.errors import UnstorableValue

    event = finished("r", "t", 1, "a", 1, float("nan"), {})
    with pytest.raises(UnstorableValue, match="event of run r"):
        events_text([event], general)
