"""Front ends for a run's events: live (rich, terminals), plain lines (CI), JSON lines, quiet.

Nothing here imports rich: `make_renderer` and the class attributes load their module on first
use, so `wfe --help` and the plain and JSON modes stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

from wfe.events import Event

if TYPE_CHECKING:
    from rich.console import Console

    from wfe.render.jsonl import JsonLinesRenderer
    from wfe.render.live import LiveRenderer
    from wfe.render.plain import PlainRenderer

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
    "JsonLinesRenderer": "wfe.render.jsonl",
    "LiveRenderer": "wfe.render.live",
    "PlainRenderer": "wfe.render.plain",
}


class Renderer(Protocol):
    """A Listener that is also a context manager: entered before the run, exited after it.

    `stop` gives the terminal back for a moment (a prompt at an interrupt node) and `start`
    takes it again; a renderer that draws nothing between events makes both no-ops.
    """

    def __call__(self, event: Event) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def __enter__(self) -> Renderer: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class NullRenderer:
    """`--quiet`: shows nothing."""

    def __call__(self, event: Event) -> None:
        return None

    def start(self) -> None:
        return None

    def stop(self) -> None:
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
    (default: a Console on stderr, so stdout keeps only the final state).
    """
    if mode == "json":
        from wfe.render.jsonl import JsonLinesRenderer

        return JsonLinesRenderer(stream if stream is not None else sys.stdout)
    if mode == "plain":
        from wfe.render.plain import PlainRenderer

        return PlainRenderer(stream if stream is not None else sys.stderr)
    if mode == "live":
        return _make_live(nodes, workflow, console, get_time)
    return NullRenderer()


def _make_live(
    nodes: Sequence[str],
    workflow: str,
    console: Console | None,
    get_time: Callable[[], float] | None,
) -> Renderer:
    from rich.console import Console

    from wfe.render.live import LiveRenderer

    if console is None:
        console = Console(stderr=True)
    if get_time is None:
        return LiveRenderer(nodes, workflow, console)
    return LiveRenderer(nodes, workflow, console, get_time=get_time)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wfe.render' has no attribute {name!r}")
