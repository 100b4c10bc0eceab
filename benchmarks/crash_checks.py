"""What the crash campaign (crash_campaign.py) checks once every run has succeeded.

The ledger has one line per tool call, `PID KEY` (KEY is the call's `ctx.idempotency_key`),
and `PID #commit RUN STEP DELAY` where a kill aimed at a COMMIT was armed. Each key belongs to
one step of the run (`RUN:NODE:VISIT`, `RUN:NODE[ITEM]:VISIT` for a map's items), so a call can
be placed: it ran in an attempt (its PID) that started after some number of steps had been
committed.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfe.store import Store

ITEMS = 8  # items of each map of the campaign's workflow
IN_FLIGHT = 2  # of which at most this many run at once (its `concurrency`)


@dataclass
class Attempt:
    """One process of a run: `wfe run` or `wfe resume`, killed or not."""

    pid: int
    kind: str  # the kind of kill planned for it, or "none"
    committed_at_start: int
    signal: str = "KILL"  # the planned signal: KILL, INT or TERM
    kill_at: float | None = None  # monotonic deadline of a `random` kill
    killed: bool = False
    committed_at_end: int = 0


@dataclass
class Slot:
    """One run of the campaign: its seed and its attempts."""

    seed: int
    durability: str
    run_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    child: Attempt | None = None
    done: bool = False


@dataclass
class Reference:
    """An uninterrupted run of the same seed."""

    state: dict[str, Any]
    trace: list[tuple[str, str, str]]  # (node, next node, outcome) of each step
    keys: set[str]  # the idempotency keys of its tool calls, without the run id

    @classmethod
    def of(cls, store: Store, run_id: str, ledger: Path) -> Reference:
        trace = [(s.node, s.next_node, s.outcome) for s in store.steps(run_id)]
        keys = {key.split(":", 1)[1] for _, key in read_ledger(ledger)
                if key.startswith(run_id + ":")}
        return cls(store.get_run(run_id).state, trace, keys)


def read_ledger(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        return []
    lines = (line.split(" ", 1) for line in path.read_text().splitlines())
    return [(int(pid), rest) for pid, rest in lines]


def step_keys(store: Store, run_id: str) -> dict[str, int]:
    """The idempotency key of each tool call of each committed step -> the step's number."""
    keys: dict[str, int] = {}
    for step in store.steps(run_id):
        visit = step.visits[step.node]
        names = [f"{step.node}[{k}]" for k in range(ITEMS)] if step.items else [step.node]
        keys.update({f"{run_id}:{name}:{visit}": step.step for name in names})
    return keys


def verify(folder: Path, slots: list[Slot], references: dict[int, Reference]) -> dict[str, Any]:
    """Every figure of the campaign; all but kills, attempts, steps and duplicates should be 0."""
    ledger = read_ledger(folder / "campaign.ledger")
    found = Counter[str]()
    with Store.open(folder / "campaign.db") as store:
        for slot in slots:
            found.update(_verify_run(store, slot, references[slot.seed], ledger))
    with sqlite3.connect(folder / "campaign.db") as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    log = (folder / "attempts.log").read_text()
    return {**found, "integrity_ok": integrity == "ok", "tracebacks": log.count("Traceback"),
            "database_is_locked": log.count("database is locked"),
            "commit_kills": commit_outcomes(ledger, slots)}


def _verify_run(store: Store, slot: Slot, reference: Reference,
                ledger: list[tuple[int, str]]) -> Counter[str]:
    run_id = slot.run_id
    found = Counter[str]()
    if run_id is None:
        found["runs_never_created"] += 1
        return found
    record, steps = store.get_run(run_id), store.steps(run_id)
    numbers = [s.step for s in steps]
    found["steps"] += len(steps)
    found["state_mismatches"] += record.state != reference.state or record.status != "succeeded"
    trace = [(s.node, s.next_node, s.outcome) for s in steps]
    found["trace_mismatches"] += trace != reference.trace
    found["lost_steps"] += len(set(range(1, len(reference.trace) + 1)) - set(numbers))
    found["duplicated_steps"] += len(numbers) - len(set(numbers))
    found["event_log_faults"] += _event_log_fault(store, run_id)
    step_of, attempts = step_keys(store, run_id), {a.pid: a for a in slot.attempts}
    calls = [(attempts[pid], key) for pid, key in ledger if key.startswith(run_id + ":")]
    runs = Counter(key for _, key in calls)
    found["lost_side_effects"] += len(set(step_of) - set(runs))
    found["foreign_keys"] += len({key.split(":", 1)[1] for key in runs} ^ reference.keys)
    # A call of a step that was committed before its attempt started: a committed step run twice.
    found["committed_steps_rerun"] += sum(
        key in step_of and step_of[key] <= attempt.committed_at_start for attempt, key in calls)
    found["duplicate_side_effects"] += sum(n - 1 for n in runs.values())
    wasted = Counter(attempt.pid for attempt, key in calls
                     if step_of.get(key, 0) > attempt.committed_at_end)
    found["wasted_calls_of_clean_exits"] += sum(
        wasted[a.pid] for a in slot.attempts if not a.killed)
    found.update(_reruns(slot, reference, calls))
    found["kills"] += sum(a.killed for a in slot.attempts)
    found["attempts"] += len(slot.attempts)
    return found


def _reruns(slot: Slot, reference: Reference, calls: list[tuple[Attempt, str]]) -> Counter[str]:
    """The calls a stopped attempt made that a later attempt made again: at most those of the
    one step in flight (1 call), or of a map's items in flight (IN_FLIGHT): a map commits each
    item as it finishes, so its finished items never run again."""
    order = {a.pid: n for n, a in enumerate(slot.attempts)}
    last_run = {key: order[attempt.pid] for attempt, key in calls}  # calls are in ledger order
    again = Counter(attempt.pid for attempt, key in calls if last_run[key] > order[attempt.pid])
    found = Counter[str]()
    for attempt in slot.attempts:
        if not attempt.killed:
            continue
        in_map = _in_flight(reference, attempt) == "fan"
        found["kills_over_in_flight_bound"] += again[attempt.pid] > (IN_FLIGHT if in_map else 1)
        if in_map:
            found["map_kills"] += 1
            found["map_items_rerun"] += again[attempt.pid]
            found["map_kills_over_items_in_flight"] += again[attempt.pid] > IN_FLIGHT
    return found


def _event_log_fault(store: Store, run_id: str) -> bool:
    """The stored events must be numbered 1..N with no gap or repeat and end the run (a kill
    may lose the events of the last few steps, never leave a hole)."""
    events = store.events(run_id)
    seqs = [event["seq"] for event in events]
    last = events[-1] if events else {}
    return (seqs != list(range(1, len(seqs) + 1)) or last.get("event") != "run_finished"
            or last.get("status") != "succeeded")


def _in_flight(reference: Reference, attempt: Attempt) -> str:
    """The node of the step after the last one committed when the attempt died."""
    trace = reference.trace
    return trace[attempt.committed_at_end][0] if attempt.committed_at_end < len(trace) else "end"


def commit_outcomes(ledger: list[tuple[int, str]], slots: list[Slot]) -> dict[str, int]:
    """Where the SIGKILLs aimed at a COMMIT struck: at its start (the step must not be
    committed), while it ran (not committed yet) or after it (committed). (SIGINT and SIGTERM
    raise once the COMMIT has returned: the commit is whole, or it never began.)"""
    killed = {a.pid: a for slot in slots for a in slot.attempts
              if a.killed and a.kind == "commit" and a.signal == "KILL"}
    outcomes = Counter[str]()
    for pid, line in ledger:
        if line.startswith("#commit") and pid in killed:
            _, _, step, delay = line.split()
            committed = int(step) <= killed[pid].committed_at_end
            if delay == "0":
                outcomes["at_start_yet_committed" if committed else "at_start"] += 1
            else:
                outcomes["after" if committed else "during"] += 1
    return dict(outcomes)
