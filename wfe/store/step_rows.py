"""A committed step as its row: its updates always, and the whole state and visits now and then.

The row keeps the whole state (a snapshot) when the step has no ops, at the first step a process
commits for the run, and when the rows since the last snapshot weigh as much as it: their JSON,
each counted ROW_WEIGHT bytes more (what reading a row costs a rebuild, wfe.store.replay). A
rebuild so reads at most about twice a snapshot's size, and a step's cost does not grow with the
state. What the policy has seen of a run is kept on its Outbox.
"""

from __future__ import annotations

from wfe.store.outbox import Outbox
from wfe.store.records import Checkpoint, encode, encode_optional
from wfe.store.writes import StepRow

#: What a step row costs a rebuild beyond its JSON, in bytes.
ROW_WEIGHT = 256


def step_row(checkpoint: Checkpoint, outbox: Outbox, run_id: str) -> tuple[StepRow, str]:
    """The row of a step and its updates' JSON (its events reuse it)."""
    cp = checkpoint
    updates = encode(cp.updates, "updates", run_id)
    ops = encode(cp.ops, "ops", run_id) if cp.ops else None
    state = visits = None
    if cp.ops is None or outbox.since_snapshot >= outbox.snapshot_size:
        whole = cp.state() if callable(cp.state) else cp.state
        state, visits = encode(whole, "state", run_id), encode(cp.visits, "visits", run_id)
        snapshot_taken(outbox, len(state) + len(visits))
    else:
        if not cp.visits_derived:
            visits = encode(cp.visits, "visits", run_id)
        outbox.since_snapshot += (len(updates) + len(ops or "") + len(visits or "")
                                  + ROW_WEIGHT)
    row: StepRow = (
        cp.step, cp.node, cp.attempt, cp.started_at, cp.duration_ms, cp.outcome, updates,
        encode_optional(cp.error, "error", run_id), state, visits, cp.next_node,
        encode_optional(cp.items, "items", run_id), ops,
    )
    return row, updates


def snapshot_taken(outbox: Outbox, size: int) -> None:
    """The run's whole state, `size` bytes of JSON, was just written (a step's, or the initial
    state): the rows after it are counted from here."""
    outbox.since_snapshot, outbox.snapshot_size = 0, size
