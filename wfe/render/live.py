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
from rich.text import Text

from wfe.engine.events import Event
from wfe.render._format import (
    ItemCounts,
    first_line,
    format_duration,
    format_elapsed,
    format_error,
    safe_event,
)
from wfe.render._model import NodeView, RunModel
from wfe.tools.context import show_tool_output_on

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
    """A Listener drawing per-node progress with `rich.live.Live` (use as a context manager).

    Log lines (what tools log or print) are printed above the live area at the next redraw,
    so they stay in the scrollback; the live area below always shows the run as it stands.
    """

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
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()

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
            auto_refresh=False,
            transient=False,
        )
        self._live.start(refresh=True)
        self._stopping.clear()
        self._ticker = threading.Thread(target=self._tick, name="wfe-live", daemon=True)
        self._ticker.start()
        show_tool_output_on(self.tool_console)

    def stop(self) -> None:
        """Stop redrawing: the pending log lines, then one last frame, which stays on screen."""
        if self._live is None:
            return
        show_tool_output_on(None)
        self._stopping.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        self.print_logs()
        self._live.stop()
        self._live = None

    def _tick(self) -> None:
        """Redraw at a fixed rate, however many events came in between."""
        while not self._stopping.wait(1 / self._refresh_per_second):
            self.refresh()

    def refresh(self) -> None:
        """One redraw: new log lines go above the live area (which that redraws), else the
        live area alone."""
        live = self._live
        if live is not None and not self.print_logs():
            live.refresh()

    def print_logs(self) -> bool:
        """Print the log lines that came in since the last redraw; whether there were any."""
        with self._lock:
            logs, dropped = list(self._model.logs), self._model.logs_dropped
            self._model.logs.clear()
            self._model.logs_dropped = 0
        if not logs and not dropped:
            return False
        lines = [_log_row(f"({dropped} log lines left out here; `wfe logs` has them)", "")]
        lines = lines if dropped else []
        lines.extend(_log_row(line, node) for node, message in logs
                     for line in message.splitlines() or [""])
        self._console.print(Group(*lines))
        return True

    def tool_console(self) -> Console:
        """The console a tool prints rich output on (`wfe.console()`): above the live area,
        after the log lines that came before."""
        self.print_logs()
        return self._console

    def prompt_begins(self, node: str) -> None:
        """The run waits for a person at node (an inline prompt): its last frame, which stays
        above the prompt, shows it so."""
        with self._lock:
            self._model.prompting(node)
        self.stop()

    def prompt_ends(self, node: str) -> None:
        with self._lock:
            self._model.prompted(node)
        self.start()

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
            width = self._console.width
            parts: list[RenderableType] = [self._header(now, width)]
            parts.extend(self._rows(now, width))
            parts.extend(self._tail())
        return Group(*parts)

    def _header(self, now: float, width: int) -> Text:
        """The run at a glance; on a terminal too narrow for all of it, the status comes right
        after the workflow's name and the run id is left out."""
        model = self._model
        run = f" · run {model.run_id}" if model.run_id else ""
        progress = f"step {model.step} · {format_elapsed(model.elapsed(now))}"
        status = (model.status, _STATUS_STYLES.get(model.status, ""))
        header = Text.assemble((model.workflow, "bold"))
        if len(model.workflow) + len(run) + len(progress) + len(model.status) + 6 <= width:
            header.append_text(Text.assemble(run, " · ", progress, " · ", status))
        else:
            header.append_text(Text.assemble(" · ", status, " · ", progress))
        header.no_wrap = True
        header.overflow = "ellipsis"
        return header

    def _rows(self, now: float, width: int) -> list[Text]:
        """The column titles, then a row per node, each cut to the width (never wrapped): the
        name, visits and last duration keep their widths, a node's error goes on a line of its
        own under its row."""
        views = list(self._model.nodes.values())
        columns = _Columns.fit(views, width)
        rows = [_one_row(columns.line("", "node", "visits", "last", ""), "dim")]
        for view in views:
            row = Text.assemble(self._glyph(view, now), "  ", no_wrap=True, overflow="ellipsis")
            visits = str(view.visits) if view.visits else ""
            last = format_duration(view.last_ms) if view.last_ms is not None else ""
            row.append(columns.line(None, _row_name(view), visits, last, _note(view)))
            rows.append(row)
            error = _error_line(view)
            if error:
                rows.append(_one_row(" " * 3 + error, _ERROR_STYLES[view.status]))
        return rows

    def _glyph(self, view: NodeView, now: float) -> Text:
        spinner = self._spinners.get(view.status)
        if spinner is not None:
            frame = spinner.render(now)
            return frame if isinstance(frame, Text) else Text(str(frame))
        glyph, style = _GLYPHS[view.status]
        return Text(glyph, style=style)

    def _tail(self) -> list[Text]:
        """Why the run stopped, if it did not simply succeed."""
        model = self._model
        if model.status == "failed" and model.error:
            where = f" at node '{model.error['node']}'" if model.error.get("node") else ""
            return [_one_row(f"✗ failed{where}: {format_error(model.error)}", "red")]
        if model.status == "waiting" and model.waiting is not None:
            return [_one_row(_waiting_line(model.waiting), "yellow")]
        return []


_ERROR_STYLES = {"retrying": "yellow", "failed": "red"}


class _Columns:
    """Widths of the node, visits and last columns: as wide as their longest value; the name
    is cut with an ellipsis only when the terminal is too narrow for it and the columns after
    it, and the note (`attempt 2`, a map's items) comes last, cut first."""

    __slots__ = ("last", "name", "visits")

    def __init__(self, name: int, visits: int, last: int) -> None:
        self.name, self.visits, self.last = name, visits, last

    @classmethod
    def fit(cls, views: Sequence[NodeView], width: int) -> _Columns:
        name = max([4, *(len(_row_name(view)) for view in views)])
        last = max([4, *(len(format_duration(v.last_ms)) for v in views if v.last_ms is not None)])
        fixed = 3 + 2 + len("visits") + 2 + last + 2
        return cls(max(4, min(name, width - fixed)), len("visits"), last)

    def line(self, glyph: str | None, name: str, visits: str, last: str, note: str) -> str:
        if len(name) > self.name:
            name = name[: self.name - 1] + "…"
        text = f"{name:<{self.name}}  {visits:>{self.visits}}  {last:>{self.last}}  {note}"
        return (text if glyph is None else f"{glyph:<1}  {text}").rstrip()


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
    if view.status in ("running", "retrying"):
        return f"attempt {view.attempt}"
    if view.status == "skipped":
        return "skipped: its `if` is false"
    return ""


def _error_line(view: NodeView) -> str:
    """The error under a retrying or failed node's row (a map's is on its row, with its items)."""
    if view.items is not None or not view.last_error or view.status not in _ERROR_STYLES:
        return ""
    prefix = "after " if view.status == "retrying" else ""
    return prefix + first_line(view.last_error)


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


def _log_row(line: str, node: str) -> Text:
    return _one_row(f"{node}: {line}" if node else line, "dim")
