"""The store as the engine's Journal, and what a run needs to start or resume durably.

Secret state keys are never written: they are removed from every state the store receives and
read again (from the environment or `-i`) when a run resumes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from wfe.engine.events import Event, RunStatus
from wfe.engine.journal import Committed, Cursor, ItemDone, StepDone
from wfe.engine.subgraph_pause import resume_answers
from wfe.errors import InputError, UsageError
from wfe.graph.model import Graph
from wfe.redact import KNOWN, mask_value
from wfe.state.schema import State
from wfe.state.types import python_type
from wfe.store import Checkpoint, Lease, NewRun, RunRecord, Store, UnstorableValue
from wfe.store.records import encode
from wfe.store.step_delta import StepDelta

#: Marks a tolerated failure among a step's finished items: the store's item rows keep (number,
#: node, attempts, duration, value), and a node name never holds a `!`
#: (wfe.spec.models.NODE_NAME_PATTERN).
_FAILED = "!failed"


class StoreJournal:
    """Commits each step (with the events before it) to the store; a listener for events."""

    def __init__(self, store: Store, lease: Lease, graph: Graph) -> None:
        self.store = store
        self.lease = lease
        self.secret_keys = graph.schema.secret_keys
        self._queue = store.event_sink(lease)
        self._delta = StepDelta(graph.schema)
        #: The step whose items were committed one by one (removed once the step is).
        self._items_of: int | None = None

    def __call__(self, event: Event) -> None:
        self._queue(event)

    def storable(self, state: State) -> dict[str, Any]:
        """The state without its secret keys, and any secret value elsewhere in it masked."""
        if not self.secret_keys:
            return state
        kept = {k: v for k, v in state.items() if k not in self.secret_keys}
        return mask_value(kept) if KNOWN else kept

    def attempt_started(self, step: int, attempt: int) -> None:
        self.store.record_retry(self.lease, step, attempt)

    def attempts_made(self, step: int) -> int:
        """How many attempts of `step` began before this run was resumed (0: none known)."""
        started = self.store.retry_started(self.lease.run_id)
        return started[1] if started is not None and started[0] == step else 0

    def step_done(self, done: StepDone, state: State, visits: dict[str, int]) -> bool:
        updates, error, items = done.updates, done.error, done.items
        ops = self._delta.ops(updates, state)
        if KNOWN:
            updates, error, items = mask_value(updates), mask_value(error), mask_value(items)
            # The values only: a secret that reads "append" must not change how a key replays.
            ops = {k: ["set", mask_value(v[1])] if type(v) is list else v for k, v in ops.items()}
        checkpoint = Checkpoint(done.step, done.node, done.attempt, done.started_at,
                                done.duration_ms, done.outcome, updates, error,
                                lambda: self.storable(state), visits, done.next_node, items,
                                ops, self._delta.visits_derived(done.node, visits))
        cancelled = self.store.checkpoint(self.lease, checkpoint)
        if self._items_of is not None and self._items_of <= done.step:
            self.store.clear_items(self.lease, self._items_of)
            self._items_of = None
        return cancelled

    def item_done(self, step: int, item: ItemDone) -> None:
        """Commit a finished map item or parallel branch; one whose value JSON cannot hold (or
        that holds a secret key, which the engine does not send, or a secret's value) is left to
        run again: a masked value would come back as `***` on resume."""
        if KNOWN and mask_value(item.value) != item.value:
            return
        try:
            value = encode(item.value, "item", self.lease.run_id)
        except UnstorableValue:
            return
        node = item.node + _FAILED if item.failed else item.node
        self.store.record_item(self.lease, step, (item.number, node, item.attempts,
                                                  item.duration_ms, value))
        self._items_of = step

    def items_done(self, step: int) -> list[ItemDone]:
        """The items of `step` committed before this run was resumed."""
        self._items_of = step
        return [ItemDone(node.removesuffix(_FAILED), index, attempts, duration, value,
                         failed=node.endswith(_FAILED))
                for index, node, attempts, duration, value
                in self.store.finished_items(self.lease.run_id, step)]

    def committed(self) -> Committed:
        record = self.store.get_run(self.lease.run_id)
        return Committed(record.state, record.visits, record.step)

    def take_slot(self, pool: str, size: int, node: str) -> Callable[[], None] | None:
        """A slot of `pool` held in the store (wfe.engine.pools), or None while the pool is full."""
        run_id = self.lease.run_id
        slot = self.store.take_pool_slot(pool, size, run_id, node)
        if slot is None:
            return None
        return lambda: self.store.release_pool_slot(pool, slot, run_id)

    def cancel_requested(self) -> bool:
        """`wfe cancel` was asked for; the engine looks while a cluster runs a fan-out step."""
        return self.store.cancel_requested(self.lease.run_id)

    def run_ended(
        self,
        status: RunStatus,
        state: State,
        error: dict[str, Any] | None,
        waiting: dict[str, Any] | None,
    ) -> None:
        self.store.finish(self.lease, status, state=self.storable(state),
                          error=mask_value(error), waiting=mask_value(waiting))


def new_run(graph: Graph, run_id: str, inputs: Mapping[str, Any], state: State,
            parent: str | None = None, start: str | None = None,
            cursor: Cursor | None = None) -> NewRun:
    schema = graph.schema
    source = graph.loaded.source
    return NewRun(
        run_id=run_id,
        workflow=graph.name,
        workflow_path=str(graph.loaded.path.resolve()),
        workflow_hash=hashlib.sha256(source).hexdigest(),
        workflow_source=source,
        inputs=schema.mask(inputs),
        state={k: v for k, v in state.items() if k not in schema.secret_keys},
        start=start or graph.start,
        parent_run_id=parent,
        visits=dict(cursor.visits) if cursor is not None else {},
        step=cursor.step if cursor is not None else 0,
    )


def check_unchanged(graph: Graph, record: RunRecord, force: bool) -> None:
    """Refuse to resume with a workflow file that changed since the run started."""
    digest = hashlib.sha256(graph.loaded.source).hexdigest()
    if digest != record.workflow_hash and not force:
        raise UsageError(
            f"{record.workflow_path} changed since run {record.run_id} started; resuming could "
            "take other branches (use --force to resume with the file as it is now)"
        )


def resumed_state(graph: Graph, stored: Mapping[str, Any], given: Mapping[str, Any],
                  environ: Mapping[str, str]) -> State:
    """A stored state plus the secrets, which the store never kept."""
    state = dict(stored)
    schema = graph.schema
    for key in schema.secret_keys:
        field = schema.fields[key]
        if key in given:
            state[key] = schema.slots[key].check(given[key])
        elif field.env and field.env in environ:
            state[key] = schema.from_env(key, environ)
    return state


def split_resume_inputs(
    graph: Graph, record: RunRecord, given: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """`-i` values of `wfe resume` that answer a waiting run: {node: {key: value}}.

    Other `-i` keys may only be secret keys (read by `resumed_state`).
    """
    waiting = record.waiting or {}
    expects: dict[str, str] = dict(waiting.get("expects") or {})
    allowed = set(expects) | set(graph.schema.secret_keys)
    unknown = sorted(set(given) - allowed)
    if unknown:
        what = f"the keys it waits for ({', '.join(expects)})" if expects else "secret keys"
        raise InputError(f"-i {unknown[0]}: a resumed run takes only {what}", key=unknown[0])
    answers = {k: v for k, v in given.items() if k in expects}
    if not answers and waiting.get("deadline") is not None:
        return {}  # no answer: the interrupt's timeout decides (still waiting, or taken)
    if expects:
        missing = [k for k in expects if k not in answers]
        if missing:
            shown = ", ".join(f"{k} ({expects[k]})" for k in missing)
            raise InputError(f"run {record.run_id} waits for {shown}: give -i {missing[0]}=...",
                             key=missing[0])
        check_answers(expects, answers)
        return resume_answers(waiting, answers)
    return {}


def check_answers(expects: Mapping[str, str], answers: Mapping[str, Any]) -> None:
    """Each answer against the type the interrupt node expects."""
    # deferred: pydantic (~90 ms) loads only when a person answers an interrupt
    from pydantic import TypeAdapter, ValidationError

    for key, type_text in expects.items():
        try:
            TypeAdapter(python_type(type_text)).validate_python(answers[key], strict=True)
        except ValidationError:
            raise InputError(f"-i {key}: expected {type_text}, got {answers[key]!r}",
                             key=key) from None


def cursor_of(record: RunRecord) -> Cursor:
    if record.next_node is None:
        raise UsageError(f"run {record.run_id} has nowhere to continue from")
    return Cursor(record.next_node, dict(record.visits), record.step, record.last_seq)
