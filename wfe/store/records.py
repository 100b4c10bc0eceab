"""What goes into the store and what comes out of it, and how values become JSON text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from wfe.engine.events import RunStatus
from wfe.engine.journal import StepOutcome
from wfe.spec.project_config import Durability as Durability
from wfe.store.errors import UnstorableValue


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _build_encoder() -> Callable[[Any], str]:
    """Compact JSON, non-ASCII kept, NaN refused: the C encoder made once. (`json.dumps`, and
    `JSONEncoder.encode` too, make a new one on every call: most of the cost of a small value.)
    Without markers a value that contains itself fails with RecursionError, as a deep one does.
    """
    fallback = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if c_make_encoder is None:  # a Python without the _json accelerator
        return fallback.encode
    encoder = c_make_encoder(None, _unencodable, encode_basestring, None, ":", ",", False,
                             False, False)
    join = "".join

    def encode_text(value: Any) -> str:
        return join(encoder(value, 0))

    return encode_text


_encode = _build_encoder()
_decode = json.JSONDecoder().decode


def encode(value: Any, what: str, run_id: str) -> str:
    """Compact JSON text; a value JSON cannot hold raises UnstorableValue naming `what`."""
    try:
        return _encode(value)
    except (TypeError, ValueError) as error:
        raise UnstorableValue(what, run_id, str(error)) from None
    except RecursionError:
        raise UnstorableValue(what, run_id, "nested too deeply, or it contains itself") from None


def encode_optional(value: Any, what: str, run_id: str) -> str | None:
    return None if value is None else encode(value, what, run_id)


def decode(text: str) -> Any:
    return _decode(text)


def decode_optional(text: str | None) -> Any:
    return None if text is None else _decode(text)


@dataclass(frozen=True)
class NewRun:
    """A run about to start. `visits` and `step` let `wfe resume --from` continue the counters."""

    run_id: str
    workflow: str
    workflow_path: str
    workflow_hash: str
    workflow_source: bytes
    inputs: dict[str, Any]
    state: dict[str, Any]
    start: str
    parent_run_id: str | None = None
    status: RunStatus = "running"
    visits: dict[str, int] = field(default_factory=dict)
    step: int = 0


@dataclass(frozen=True)
class Lease:
    """Proof of ownership of a run; every write of the owner carries it."""

    run_id: str
    token: str


#: How a step's updates were applied, by key, where not as a plain replacement (see
#: wfe.store.replay): "append", "extend", "merge", "skip" (not stored), or ["set", value].
Ops = dict[str, Any]


class Checkpoint(NamedTuple):
    """One completed step, committed atomically with the events queued before it.

    `state` (or a function that gives it, called only when the row keeps a full snapshot) and
    `visits` are the run's after the step. `ops` None: the updates do not say what changed,
    so the row keeps the whole state; else the updates with `ops` give the state from the
    previous step's. `visits_derived`: the visits are the previous step's with `node` once more.
    """

    step: int
    node: str
    attempt: int
    started_at: float
    duration_ms: float
    outcome: StepOutcome
    updates: dict[str, Any]
    error: dict[str, Any] | None
    state: dict[str, Any] | Callable[[], dict[str, Any]]
    visits: dict[str, int]
    next_node: str
    items: list[dict[str, Any]] | None = None
    ops: Ops | None = None
    visits_derived: bool = False


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    workflow: str
    workflow_path: str
    workflow_hash: str
    status: RunStatus
    inputs: dict[str, Any]
    state: dict[str, Any]
    next_node: str | None
    step: int
    visits: dict[str, int]
    last_seq: int
    created_at: float
    updated_at: float
    finished_at: float | None
    error: dict[str, Any] | None
    waiting: dict[str, Any] | None
    parent_run_id: str | None
    owner_pid: int | None
    cancel_requested: bool
    initial_state: dict[str, Any]
    start: str


@dataclass(frozen=True)
class StepRecord:
    run_id: str
    step: int
    node: str
    attempt: int
    started_at: float
    duration_ms: float
    outcome: str
    updates: dict[str, Any]
    error: dict[str, Any] | None
    #: The state after the step: None unless asked for (`Store.steps(..., states=True)`).
    state: dict[str, Any] | None
    visits: dict[str, int]
    next_node: str
    items: list[dict[str, Any]] | None


#: Events already encoded: (first seq, last seq, the JSON array's items without its brackets).
Chunk = tuple[int, int, str]


@dataclass(slots=True)
class EventBatch:
    """Encoded events of a run not written yet, oldest first."""

    chunks: list[Chunk]

    @property
    def empty(self) -> bool:
        return not self.chunks

    @classmethod
    def of(cls, events: list[dict[str, Any]], run_id: str) -> EventBatch:
        """One chunk of events in seq order (none: an empty batch)."""
        if not events:
            return cls([])
        text = encode(events, "event", run_id)
        return cls([(events[0]["seq"], events[-1]["seq"], text[1:-1])])

    def decoded(self) -> list[dict[str, Any]]:
        """The chunks' events, decoded again (the rare paths only)."""
        events: list[dict[str, Any]] = decode("[" + ",".join(c[2] for c in self.chunks) + "]")
        return events
