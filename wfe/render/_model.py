"""What the live view shows, as plain data: updated per event in O(1), drawn elsewhere."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from wfe.engine.events import Event
from wfe.render._format import ItemCounts, format_error, split_item

NodeStatus = Literal["pending", "running", "retrying", "succeeded", "failed", "waiting", "stopped",
                     "skipped"]

#: Log lines held until the next redraw prints them above the live area; past that many (a tool
#: printing in a tight loop) the oldest are counted instead, so memory stays bounded.
LOG_BACKLOG = 1000


@dataclass(slots=True)
class NodeView:
    name: str
    status: NodeStatus = "pending"
    visits: int = 0
    attempt: int = 0
    last_ms: float | None = None
    last_error: str | None = None
    #: A `map:` node's items in its current visit (None until the first item event).
    items: ItemCounts | None = None
    #: 0 for the graph's own nodes; 1 for `parent/child` (a branch or a subgraph's node), ...
    depth: int = 0


@dataclass(slots=True)
class RunModel:
    """The state of one run as the events have told it so far."""

    workflow: str
    nodes: dict[str, NodeView]
    run_id: str = ""
    status: str = "starting"
    step: int = 0
    started_at: float | None = None
    duration_ms: float | None = None
    error: dict[str, Any] | None = None
    waiting: Event | None = None
    #: Log lines not yet printed above the live area, and how many were dropped from it.
    logs: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=LOG_BACKLOG))
    logs_dropped: int = 0

    @classmethod
    def for_nodes(cls, workflow: str, names: Sequence[str]) -> RunModel:
        return cls(workflow, {name: NodeView(name) for name in names})

    def apply(self, event: Event, now: float) -> None:
        """Fold one event into the model; `now` is the renderer's clock, for elapsed time."""
        kind = event.get("event", "")
        if kind in _ITEM_EVENTS and self._count_item(kind, str(event.get("node"))):
            return
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, now)

    def _count_item(self, kind: str, node: str) -> bool:
        """Count an event about a map item (`each[3]`, `each[3]/child`) under its map node.

        Items never get rows of their own, so a map over 10,000 items still draws one row.
        """
        item = split_item(node)
        if item is None:
            return False
        name, index, itself = item
        view = self.node(name)
        if view.items is None:
            view.items = ItemCounts()
        if itself or view.items.is_new(index):
            view.items.update(index, kind if itself else "node_started")
        return True

    def node(self, name: object) -> NodeView:
        """The row of a node; one the graph did not list up front joins the table.

        A `parent/child` row (a parallel branch, a subgraph's node) goes right after its
        parent's rows, indented; items of a map never come here (see `_count_item`).
        """
        key = str(name)
        view = self.nodes.get(key)
        if view is None:
            parent, _, _ = key.rpartition("/")
            view = NodeView(key, depth=key.count("/"))
            if parent and parent in self.nodes:
                self._insert_after_family(parent, view)
            else:
                self.nodes[key] = view
        return view

    def _insert_after_family(self, parent: str, view: NodeView) -> None:
        names = list(self.nodes)
        at = names.index(parent) + 1
        while at < len(names) and names[at].startswith(parent + "/"):
            at += 1
        names.insert(at, view.name)
        rows = {**self.nodes, view.name: view}
        self.nodes = {name: rows[name] for name in names}

    def prompting(self, node: str) -> None:
        """A person is being asked at a terminal for node's values; the run waits meanwhile."""
        self.status = "waiting"
        self.node(node).status = "waiting"

    def prompted(self, node: str) -> None:
        self.status = "running"
        view = self.node(node)
        if view.status == "waiting":
            view.status = "pending"

    def elapsed(self, now: float) -> float:
        if self.duration_ms is not None:
            return self.duration_ms / 1000
        return 0.0 if self.started_at is None else now - self.started_at


def _run_started(model: RunModel, event: Event, now: float) -> None:
    model.run_id = str(event.get("run_id", ""))
    model.workflow = str(event.get("workflow") or model.workflow)
    model.status = "running"
    model.started_at = now


def _node_started(model: RunModel, event: Event, now: float) -> None:
    view = model.node(event.get("node"))
    view.attempt = int(event.get("attempt") or 1)
    if view.attempt == 1:
        view.visits += 1
        view.last_error = None
        view.items = None  # a new visit of a map node counts its items afresh
    view.status = "running" if view.attempt == 1 else "retrying"
    model.step = int(event.get("step") or model.step)


def _node_finished(model: RunModel, event: Event, now: float) -> None:
    view = model.node(event.get("node"))
    view.status = "succeeded"
    view.last_ms = float(event.get("duration_ms") or 0)
    model.step = int(event.get("step") or model.step)


def _node_failed(model: RunModel, event: Event, now: float) -> None:
    view = model.node(event.get("node"))
    view.status = "failed"
    view.last_error = format_error(event.get("error"))


def _node_skipped(model: RunModel, event: Event, now: float) -> None:
    model.node(event.get("node")).status = "skipped"
    model.step = int(event.get("step") or model.step)


def _log(model: RunModel, event: Event, now: float) -> None:
    if len(model.logs) == LOG_BACKLOG:
        model.logs_dropped += 1
    model.logs.append((str(event.get("node") or ""), str(event.get("message", ""))))


def _run_waiting(model: RunModel, event: Event, now: float) -> None:
    model.node(event.get("node")).status = "waiting"
    model.waiting = event


def _run_finished(model: RunModel, event: Event, now: float) -> None:
    model.status = str(event.get("status", "finished"))
    model.duration_ms = float(event.get("duration_ms") or 0)
    model.error = event.get("error")
    for view in model.nodes.values():
        if view.status in ("running", "retrying"):
            view.status = "failed" if model.status == "failed" else "stopped"


_ITEM_EVENTS = frozenset({"node_started", "node_finished", "node_failed"})

_HANDLERS: dict[str, Callable[[RunModel, Event, float], None]] = {
    "run_started": _run_started,
    "node_started": _node_started,
    "node_finished": _node_finished,
    "node_failed": _node_failed,
    "node_skipped": _node_skipped,
    "log": _log,
    "run_waiting": _run_waiting,
    "run_finished": _run_finished,
}
