"""`wfe schedule` and `wfe serve --schedule`: start workflows when their `schedule:` says.

Each tick does every duty of DUTIES in turn: start the slots that are due (a queued slot first,
once the run before it has ended), apply `[tool.wfe] keep`, and resume the waiting runs whose
interrupt's timeout has passed. A `wait:` never leaves a run waiting (its process waits), so
there is no `wait:` to wake: a run whose process died during a wait is `interrupted`, and is
resumed by hand like any other.

A slot is recorded in the store (`schedule_slots`, unique per schedule and slot time) before its
run starts, so schedulers sharing a store start each slot at most once. Runs start as `wfe run
--detach` starts them: a background process each, recorded at once, its output in `logs/`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wfe.api import Workflow
from wfe.cli.detach import start_detached
from wfe.cli.run_command import RunOptions, gather_inputs
from wfe.engine.events import iso_timestamp
from wfe.errors import UsageError, WfeError
from wfe.graph.validate import workflow_files
from wfe.ids import new_run_id
from wfe.spec.project_config import configured_keep
from wfe.spec.schedule import Schedule, schedules_of
from wfe.spec.schedule_times import due_slots, next_slot, slot_text
from wfe.store import RunRecord, Store, UnknownRun

#: A schedule seen for the first time starts a slot that fell this recently (a restart at
#: 06:00:30 still starts the 06:00 slot), but none older.
GRACE_SECONDS = 60.0
#: The longest wait between ticks (queued slots wait for a run to end; files change).
IDLE_SECONDS = 5.0
KEEP_EVERY_SECONDS = 3600.0
#: The most waiting runs one tick looks at for a passed timeout.
WAKE_BATCH = 1000

Say = Callable[[str], None]


@dataclass(frozen=True)
class Entry:
    """One schedule of one workflow file; `key` names it in the store."""

    key: str
    workflow: Workflow
    schedule: Schedule

    @property
    def name(self) -> str:
        return self.workflow.name


class Scheduler:
    """The schedules of the workflow files under `targets`, run against one store."""

    def __init__(self, targets: Sequence[Path], store: Store, say: Say, warn: Say) -> None:
        self.targets = list(targets)
        self.store = store
        self.say, self.warn = say, warn
        self.entries: list[Entry] = []
        self.invalid = False
        self._loaded: dict[Path, tuple[int, list[Entry]]] = {}
        self.next_keep = 0.0
        #: Runs this scheduler resumed because their timeout passed (each once).
        self.woken: set[str] = set()
        #: The soonest interrupt deadline still ahead (inf: none), so a tick comes right then.
        self.next_wake = float("inf")

    def load(self) -> list[Entry]:
        """The schedules of the files as they are now (a file is read again when it changed;
        an invalid one is reported once and left out)."""
        entries: list[Entry] = []
        self.invalid = False
        for path in workflow_files(self.targets):
            entries += self._entries_of(path.resolve())
        self.entries = entries
        return entries

    def _entries_of(self, path: Path) -> list[Entry]:
        try:
            stamp = path.stat().st_mtime_ns
        except OSError as error:
            self.warn(f"{path}: {error.strerror}")
            self.invalid = True
            return []
        known = self._loaded.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        entries: list[Entry] = []
        try:
            workflow = Workflow.load(path)
        except WfeError as error:
            self.warn(str(error))
            self.invalid = True
        else:
            entries = [Entry(f"{path}#{index}", workflow, schedule) for index, schedule
                       in enumerate(schedules_of(workflow.graph.loaded.spec.schedule))]
        self._loaded[path] = (stamp, entries)
        return entries

    def tick(self, now: float) -> None:
        for duty in DUTIES:
            duty(self, now)

    def run_until(self, stop: threading.Event) -> None:
        """Tick until `stop` is set, sleeping until the next slot (or IDLE_SECONDS)."""
        while not stop.is_set():
            now = time.time()
            try:
                self.load()
                self.tick(now)
            except WfeError as error:  # a busy or full store, say: the next tick tries again
                self.warn(f"{error} (trying again)")
            soonest = min((next_slot(e.schedule, now) for e in self.entries),
                          default=now + IDLE_SECONDS)
            soonest = min(soonest, self.next_wake)
            stop.wait(min(IDLE_SECONDS, max(0.0, soonest - time.time()) + 0.01))


def start_due_slots(scheduler: Scheduler, now: float) -> None:
    book = scheduler.store.schedule_slots
    for entry in scheduler.entries:
        _queued_turn(scheduler, entry)
        latest = book.latest(entry.key)
        since = now - GRACE_SECONDS if latest is None else latest
        for slot in due_slots(entry.schedule, since, now):
            _slot(scheduler, entry, slot)


def _slot(scheduler: Scheduler, entry: Entry, slot: float) -> None:
    book = scheduler.store.schedule_slots
    when = f"{entry.name} slot {slot_text(entry.schedule, slot)}"
    overlap = entry.schedule.overlap
    previous = _still_running(scheduler.store, entry) if overlap != "allow" else None
    if previous is not None or (overlap == "queue" and book.queued(entry.key)):
        outcome = "skipped" if overlap == "skip" else "queued"
        why = f"run {previous} is still running" if previous else "earlier slots are queued"
        if book.record(entry.key, slot, outcome, None):
            scheduler.say(f"{outcome} {when}: {why}")
        return
    run_id = new_run_id()
    if book.record(entry.key, slot, "started", run_id):
        _launch(scheduler, entry, slot, run_id, when)


def _queued_turn(scheduler: Scheduler, entry: Entry) -> None:
    """Start the oldest queued slot once the run before it has ended."""
    book = scheduler.store.schedule_slots
    waiting = book.queued(entry.key)
    if not waiting or _still_running(scheduler.store, entry) is not None:
        return
    run_id = new_run_id()
    if book.take_queued(entry.key, waiting[0], run_id):
        _launch(scheduler, entry, waiting[0], run_id,
                f"{entry.name} slot {slot_text(entry.schedule, waiting[0])} (queued)")


def _still_running(store: Store, entry: Entry) -> str | None:
    run_id = store.schedule_slots.last_run(entry.key)
    if run_id is None:
        return None
    try:
        return run_id if store.get_run(run_id).status == "running" else None
    except UnknownRun:  # pruned
        return None


def _launch(scheduler: Scheduler, entry: Entry, slot: float, run_id: str, when: str) -> None:
    workflow = entry.workflow
    assignments = [f"{key}={json.dumps(value)}" for key, value in entry.schedule.inputs.items()]
    options = RunOptions(file=workflow.graph.loaded.path, assignments=assignments,
                         store=scheduler.store.path)
    try:
        inputs = gather_inputs(options, workflow.graph)
        start_detached(options, workflow, inputs, workflow.initial_state(inputs),
                       scheduler.store, run_id)
    except (WfeError, OSError) as error:
        scheduler.store.schedule_slots.set_outcome(entry.key, slot, "failed")
        scheduler.warn(f"{when}: the run could not start: {error}")
        return
    scheduler.say(f"started run {run_id} of {when}")


def apply_retention(scheduler: Scheduler, now: float) -> None:
    """`[tool.wfe] keep`: prune finished runs older than that, at start and then hourly."""
    keep = configured_keep()
    if keep is None or now < scheduler.next_keep:
        return
    scheduler.next_keep = now + KEEP_EVERY_SECONDS
    pruned = scheduler.store.prune(keep)
    if pruned.run_ids:
        scheduler.say(f"pruned {len(pruned.run_ids)} finished runs older than [tool.wfe] keep")


def wake_due_runs(scheduler: Scheduler, now: float) -> None:
    """Resume, each in a background process, the runs whose deadline has passed: a waiting run
    whose interrupt's `timeout` passed (it then takes `on_timeout`, or fails), and a run stopped
    (Ctrl-C, SIGTERM, a crash) while at a `wait:` node whose committed deadline passed (it goes
    on past the wait), as `wfe resume RUN` would."""
    scheduler.next_wake = float("inf")
    for record, deadline, why in _deadlines(scheduler.store):
        if deadline > now:
            scheduler.next_wake = min(scheduler.next_wake, deadline)
            continue
        if record.run_id in scheduler.woken:
            continue
        scheduler.woken.add(record.run_id)
        try:
            _resume_in_background(scheduler.store, record.run_id)
        except OSError as error:
            scheduler.warn(f"run {record.run_id}: could not be resumed: {error}")
            continue
        scheduler.say(f"resumed run {record.run_id}: {why} has passed")


def _deadlines(store: Store) -> Iterator[tuple[RunRecord, float, str]]:
    """Each run that waits for a time: the time, and what it is."""
    for record in store.list_runs(status="waiting", limit=WAKE_BATCH):
        deadline = (record.waiting or {}).get("deadline")
        if isinstance(deadline, float | int):
            yield record, float(deadline), (
                f"the timeout of '{record.waiting and record.waiting.get('node')}'")
    for record in store.list_runs(status="interrupted", limit=WAKE_BATCH):
        deadline = _wait_deadline(store, record)
        if deadline is not None:
            yield record, deadline, f"the wait of '{record.next_node}'"


def _wait_deadline(store: Store, record: RunRecord) -> float | None:
    """The deadline a `wait:` node committed for the step a stopped run was in (its one
    finished item, numbered 0, holding the time), or None."""
    for index, node, _, _, value in store.finished_items(record.run_id, record.step + 1):
        if (index == 0 and node == record.next_node and isinstance(value, float | int)
                and not isinstance(value, bool)):
            return float(value)
    return None


def _resume_in_background(store: Store, run_id: str) -> None:
    log = store.path.parent / "logs" / f"{run_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as stream:
        subprocess.Popen(
            [sys.executable, "-m", "wfe", "resume", run_id, "--store", str(store.path),
             "--quiet"],
            stdin=subprocess.DEVNULL, stdout=stream, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


DUTIES: list[Callable[[Scheduler, float], None]] = [start_due_slots, apply_retention,
                                                    wake_due_runs]


def stamped(write: Callable[[str], object]) -> Say:
    """A line writer that starts each line with the time, as service logs do."""
    def say(text: str) -> None:
        write(f"{iso_timestamp(time.time())} {text}\n")

    return say


def no_schedules(targets: Sequence[Path]) -> UsageError:
    shown = ", ".join(str(t) for t in targets)
    return UsageError(f"no workflow in {shown} has a `schedule:`")


@contextmanager
def in_background(targets: Sequence[Path], store_path: Path, say: Say) -> Iterator[None]:
    """The scheduler on a thread of its own (with its own store connection) while the block
    runs: `wfe serve --schedule`."""
    stop = threading.Event()

    def work() -> None:
        try:
            with Store.open(store_path) as store:
                Scheduler(targets, store, say, say).run_until(stop)
        except WfeError as error:
            say(f"the scheduler stopped: {error}")

    thread = threading.Thread(target=work, name="wfe-schedule", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=IDLE_SECONDS * 2)
