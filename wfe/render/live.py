"""The live view on a terminal: a header, one row per node, the last log lines.

Events only update an in-memory model under a lock; `rich.live.Live` redraws it at a fixed rate
from its own thread, so a fast engine is never slowed down by drawing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from wfe.events import Event
from wfe.render._format import (
    ItemCounts,
    first_line,
    format_duration,
    format_elapsed,
    format_error,
    safe_event,
)
from wfe.render._model import NodeView, RunModel

_GLYPHS: dict[str, tuple[str, str]] = {
    "pending": ("·", "dim"),
    "succeeded": ("✓", "green"),
    "failed": ("✗", "red"),
    "waiting": ("⏸", "yellow"),
    "stopped": ("■", "dim"),
    "skipped": ("↷", "dim"),
}

_STATUS_STYLES = {
    "running": "cyan",
    "succeeded": "bold green",
    "failed": "bold red",
    "waiting": "bold yellow",
    "interrupted": "bold yellow",
    "cancelled": "bold yellow",
}


class LiveRenderer:
    """A Listener drawing per-node progress with `rich.live.Live` (use as a context manager)."""

    def __init__(
        self,
        nodes: Sequence[str],
        workflow: str,
        console: Console,
        refresh_per_second: float = 8,
        get_time: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._refresh_per_second = refresh_per_second
        self._get_time = get_time
        self._lock = threading.Lock()
        self._model = RunModel.for_nodes(workflow, nodes)
        # One spinner per style, kept across frames: a Spinner animates from its first render.
        self._spinners = {
            "running": Spinner("dots", style="cyan"),
            "retrying": Spinner("dots", style="yellow"),
        }
        self._live: Live | None = None

    def __call__(self, event: Event) -> None:
        now = self._get_time()
        with self._lock:
            self._model.apply(safe_event(event), now)

    def start(self) -> None:
        if self._live is not None:
            return
        self._live = Live(
            console=self._console,
            get_renderable=self.renderable,
            auto_refresh=True,
            refresh_per_second=self._refresh_per_second,
            transient=False,
        )
        self._live.start()

    def stop(self) -> None:
        """Stop redrawing; Live draws one last frame, which stays on screen."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> LiveRenderer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __rich__(self) -> RenderableType:
        return self.renderable()

    def renderable(self) -> RenderableType:
        """One frame of the view, built from a consistent snapshot of the model."""
        with self._lock:
            now = self._get_time()
            parts: list[RenderableType] = [self._header(now), self._table(now)]
            parts.extend(self._tail())
        return Group(*parts)

    def _header(self, now: float) -> Text:
        model = self._model
        header = Text.assemble((model.workflow, "bold"))
        if model.run_id:
            header.append(f" · run {model.run_id}")
        header.append(f" · step {model.step} · {format_elapsed(model.elapsed(now))} · ")
        header.append(model.status, style=_STATUS_STYLES.get(model.status, ""))
        header.no_wrap = True
        header.overflow = "ellipsis"
        return header

    def _table(self, now: float) -> Table:
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="dim")
        table.add_column("", width=1, no_wrap=True)
        table.add_column("node", no_wrap=True, overflow="ellipsis")
        table.add_column("visits", justify="right", no_wrap=True)
        table.add_column("last", justify="right", no_wrap=True)
        table.add_column("", no_wrap=True, overflow="ellipsis")
        for view in self._model.nodes.values():
            table.add_row(
                self._glyph(view, now),
                _row_name(view),
                str(view.visits) if view.visits else "",
                format_duration(view.last_ms) if view.last_ms is not None else "",
                _note(view),
            )
        return table

    def _glyph(self, view: NodeView, now: float) -> RenderableType:
        spinner = self._spinners.get(view.status)
        if spinner is not None:
            return spinner.render(now)
        glyph, style = _GLYPHS[view.status]
        return Text(glyph, style=style)

    def _tail(self) -> list[Text]:
        """The last log lines, then why the run stopped, if it did not simply succeed."""
        lines = [
            _one_row(f"{node}: {first_line(message)}" if node else first_line(message), "dim")
            for node, message in self._model.logs
        ]
        model = self._model
        if model.status == "failed" and model.error:
            where = f" at node '{model.error['node']}'" if model.error.get("node") else ""
            lines.append(_one_row(f"✗ failed{where}: {format_error(model.error)}", "red"))
        elif model.status == "waiting" and model.waiting is not None:
            lines.append(_one_row(_waiting_line(model.waiting), "yellow"))
        return lines


def _row_name(view: NodeView) -> str:
    """The node's name; a `parent/child` row indented under its parent, by its own name."""
    if view.depth == 0:
        return view.name
    return "  " * view.depth + "└ " + view.name.rsplit("/", 1)[-1]


def _items_note(view: NodeView, items: ItemCounts) -> str:
    """A map's items so far; the engine does not say how many there are, so no total."""
    parts = [f"items: {items.done} done"]
    if items.running:
        parts.append(f"{items.running} running")
    if items.failed:
        parts.append(f"{items.failed} failed")
    note = " · ".join(parts)
    if view.status == "failed" and view.last_error:
        note += f" · {first_line(view.last_error)}"
    return note


def _note(view: NodeView) -> str:
    if view.items is not None:
        return _items_note(view, view.items)
    if view.status == "running":
        return f"attempt {view.attempt}"
    if view.status == "retrying":
        return f"attempt {view.attempt} · after {view.last_error}"
    if view.status == "failed" and view.last_error:
        return first_line(view.last_error)
    if view.status == "skipped":
        return "skipped: its `if` is false"
    return ""


def _waiting_line(event: Event) -> str:
    text = f"⏸ waiting at '{event.get('node')}'"
    if event.get("message"):
        text += f": {first_line(str(event['message']))}"
    expects = event.get("expects") or {}
    if expects:
        text += f" (expects: {', '.join(map(str, expects))})"
    return text


def _one_row(text: str, style: str) -> Text:
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")
