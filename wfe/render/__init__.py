"""Front ends for a run's events: live (rich, terminals), plain lines (CI), JSON lines, quiet.

Nothing here imports rich: the live renderer's module loads on first use (`make_renderer`, the
`LiveRenderer` attribute), so the plain, JSON and quiet modes stay fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

from wfe.engine.events import Event
from wfe.render._format import workflow_command as _workflow_command
from wfe.render.jsonl import JsonLinesRenderer
from wfe.render.plain import PlainRenderer
from wfe.tools.context import terminal_stream as _terminal_stream

if TYPE_CHECKING:
    from rich.console import Console

    from wfe.render.live import LiveRenderer

__all__ = [
    "JsonLinesRenderer",
    "LiveRenderer",
    "NullRenderer",
    "PlainRenderer",
    "RenderMode",
    "Renderer",
    "make_renderer",
]

RenderMode = Literal["live", "plain", "json", "quiet"]

_LAZY = {
    "LiveRenderer": "wfe.render.live",
}


class Renderer(Protocol):
    """A Listener that is also a context manager: entered before the run, exited after it."""

    def __call__(self, event: Event) -> None: ...

    def prompt_begins(self, node: str) -> None:
        """A person is asked for node's values at the terminal: show the run waiting there and
        stop drawing until `prompt_ends`."""
        ...

    def prompt_ends(self, node: str) -> None:
        """The person answered: the run goes on, and so does the drawing."""
        ...

    def __enter__(self) -> Renderer: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class NullRenderer:
    """`--quiet`: shows nothing but the annotations a tool makes (wfe.annotate), written as
    workflow commands to `annotations` when given (stderr that is not a terminal: CI)."""

    def __init__(self, annotations: TextIO | None = None) -> None:
        self._annotations = annotations

    @property
    def shows_annotations(self) -> bool:
        """Whether it writes anything at all (then it listens to `log` events only)."""
        return self._annotations is not None

    def __call__(self, event: Event) -> None:
        if self._annotations is None or event.get("event") != "log":
            return
        annotation = event.get("annotation")
        if isinstance(annotation, dict):
            line = _workflow_command(annotation, str(event.get("message", "")))
            self._annotations.write(line + "\n")
            self._annotations.flush()

    def prompt_begins(self, node: str) -> None:
        return None

    def prompt_ends(self, node: str) -> None:
        return None

    def __enter__(self) -> NullRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def make_renderer(
    mode: RenderMode,
    *,
    nodes: Sequence[str] = (),
    workflow: str = "",
    stream: TextIO | None = None,
    console: Console | None = None,
    get_time: Callable[[], float] | None = None,
) -> Renderer:
    """The renderer for an output mode.

    `stream` defaults to stderr for `plain` and stdout for `json`; `live` draws on `console`
    (default: a Console on stderr, so stdout keeps only the final state); `quiet` writes only
    annotations there, and only when it is not a terminal.
    """
    if mode == "json":
        return JsonLinesRenderer(stream if stream is not None else sys.stdout)
    if mode == "plain":
        return PlainRenderer(stream if stream is not None else sys.stderr)
    if mode == "live":
        return _make_live(nodes, workflow, console, get_time)
    shown = stream if stream is not None else sys.stderr
    return NullRenderer(None if shown.isatty() else shown)


def _make_live(
    nodes: Sequence[str],
    workflow: str,
    console: Console | None,
    get_time: Callable[[], float] | None,
) -> Renderer:
    # deferred: Rich (~20 ms) is for the live display on a terminal only; plain lines (CI),
    # --json and --quiet go without it
    from rich.console import Console

    from wfe.render.live import LiveRenderer

    if console is None:
        # The terminal itself, not the proxy that turns a tool's text into log lines: a tool
        # prints rich output on this console (`wfe.console()`).
        console = Console(file=_terminal_stream(sys.stderr))
    if get_time is None:
        return LiveRenderer(nodes, workflow, console)
    return LiveRenderer(nodes, workflow, console, get_time=get_time)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wfe.render' has no attribute {name!r}")
