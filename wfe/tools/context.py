"""What a running tool can know about its step: the `ctx` parameter and `wfe.log`; where what
it prints goes; and the live view's console for its rich output (`wfe.console()`).

The engine keeps one mutable StepInfo per line of execution and updates it in place per step (no
allocation on the hot path); a tool that asks for `ctx` gets an immutable ToolContext snapshot.

A tool's output. While a run is going, `sys.stdout` and `sys.stderr` are ToolOutput proxies: text
written by a tool while it runs (`print()`, `sys.stderr.write`) becomes `log` events of its node,
one per line, so that stdout keeps only the events of `wfe run --json` or the final state. Which
node is known from a context variable that is set only while a tool runs (in its task, its
worker thread, the tasks and threads it starts with a copy of its context), so concurrent
branches each get their own lines. Everything else passes through untouched; that includes the
listeners that print events, which run with the variable cleared even when a tool's log line
set them off.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO, cast

if TYPE_CHECKING:
    from rich.console import Console

    from wfe.tools.annotations import Annotation


class LogSink(Protocol):
    """Where a step's log lines (and annotations) go: the engine's `log` events."""

    def __call__(self, node: str, message: str, annotation: Annotation | None = None) -> None:
        ...


#: What is kept of a line a tool prints; the rest of a longer line is cut and the line says how
#: much, within the cap of any log message (`wfe.redact.MAX_MESSAGE`, 4096), so it is cut once.
MAX_PRINTED_LINE = 4000


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Passed to a tool that declares a `ctx` parameter."""

    run_id: str
    node: str
    step: int
    attempt: int
    idempotency_key: str
    _sink: LogSink | None = field(default=None, repr=False, compare=False)

    def log(self, message: str) -> None:
        """Emit a `log` event tied to this node."""
        if self._sink is not None:
            _outside_tool(self._sink, self.node, str(message))

    def annotate(self, level: str, message: str, *, file: str | None = None,
                 line: int | None = None, col: int | None = None, end_line: int | None = None,
                 title: str | None = None) -> None:
        """Emit a `log` event that also places a finding on a file's line (see wfe.annotate)."""
        if self._sink is not None:
            _outside_tool(self._sink, self.node, str(message),
                          _annotation(level, file, line, col, end_line, title))


class StepInfo:
    """Where a line of execution stands: the run, the node, its step, visit and attempt."""

    __slots__ = ("attempt", "in_tool", "node", "partial", "partial_size", "run_id", "sink",
                 "step", "visit")

    def __init__(self, run_id: str, sink: LogSink | None) -> None:
        self.run_id = run_id
        self.sink = sink
        self.node = ""
        self.step = 0
        self.visit = 0
        self.attempt = 0
        #: A sync tool of this line of execution runs inline now (wfe.engine.tool_calls): what
        #: is printed where this is the current step goes to its node.
        self.in_tool = False
        #: What the running tool printed after its last newline, and its length.
        self.partial: list[str] = []
        self.partial_size = 0

    def copy(self) -> StepInfo:
        twin = StepInfo(self.run_id, self.sink)
        twin.node, twin.step, twin.visit, twin.attempt = (
            self.node, self.step, self.visit, self.attempt
        )
        return twin

    def context(self) -> ToolContext:
        key = f"{self.run_id}:{self.node}:{self.visit}"
        return ToolContext(self.run_id, self.node, self.step, self.attempt, key, self.sink)

    def log(self, message: str, annotation: Annotation | None = None) -> None:
        if self.sink is not None:
            _outside_tool(self.sink, self.node, str(message), annotation)

    def printed(self, text: str) -> None:
        """Text the running tool wrote to stdout or stderr: a `log` event per complete line. Of
        a longer line only its first MAX_PRINTED_LINE characters are held, and the event says
        how many more were cut (so what is held is bounded, and many small writes cost linear
        time)."""
        if "\n" not in text:
            self._hold(text)
            return
        head, *lines = text.split("\n")
        self._hold(head)
        self.end_output(blank=True)
        tail = lines.pop()
        for line in lines:
            self._log_line(line, len(line))
        if tail:
            self._hold(tail)

    def _hold(self, text: str) -> None:
        room = MAX_PRINTED_LINE - self.partial_size
        if room > 0:
            self.partial.append(text[:room])
        self.partial_size += len(text)

    def end_output(self, *, blank: bool = False) -> None:
        """The tool ended (or a line did): what it printed since the last newline is a line.
        An empty one is logged only when `blank` (a newline ended it)."""
        line = "".join(self.partial)
        size = self.partial_size
        self.partial.clear()
        self.partial_size = 0
        if line or blank:
            self._log_line(line, size)

    def _log_line(self, line: str, size: int) -> None:
        if size > MAX_PRINTED_LINE:
            line = f"{line[:MAX_PRINTED_LINE]}... [{size - MAX_PRINTED_LINE} more characters cut]"
        self.log(line)


_current: ContextVar[StepInfo | None] = ContextVar("wfe_step", default=None)
#: The step whose tool runs here, only while it runs: where its output goes. (A tool called
#: inline marks the current step `in_tool` instead: cheaper than setting this on the hot path.)
_printing: ContextVar[StepInfo | None] = ContextVar("wfe_printing", default=None)
#: Set as `_printing` while wfe itself speaks from inside a tool's call (a listener printing the
#: tool's log line): no tool's output, whatever the current step says.
_NOBODY = StepInfo("", None)

#: The current line of execution's step (`_current.get`, without a frame): the engine's own, for
#: whose inline calls it marks `in_tool`.
current_step = _current.get


def _printing_step() -> StepInfo | None:
    """Whose tool's output text written here is: a tool in another thread or task, or one
    called inline by the current step, or nobody's."""
    info = _printing.get()
    if info is None:
        current = _current.get()
        return current if current is not None and current.in_tool else None
    return None if info is _NOBODY else info


def _running() -> StepInfo | None:
    info = _printing.get()
    return _current.get() if info is None or info is _NOBODY else info


def current_context() -> ToolContext | None:
    """The context of the tool running in this task or thread, if any."""
    info = _running()
    return info.context() if info is not None else None


def log(message: str) -> None:
    """Emit a `log` event from inside a tool; outside a run it does nothing."""
    info = _running()
    if info is not None:
        info.log(message)


def annotate(level: str, message: str, *, file: str | None = None, line: int | None = None,
             col: int | None = None, end_line: int | None = None,
             title: str | None = None) -> None:
    """Emit a `log` event from inside a tool that also places a finding on a line of a file:
    `level` is `notice`, `warning` or `error`. Where wfe writes plain lines (CI), it is also
    written as a GitHub Actions workflow command, escaped (wfe.tools.annotations). Outside a run it
    does nothing; a bad level or line number raises ValueError."""
    annotation = _annotation(level, file, line, col, end_line, title)
    info = _running()
    if info is not None:
        info.log(message, annotation)


def _annotation(level: str, file: str | None, line: int | None, col: int | None,
                end_line: int | None, title: str | None) -> Annotation:
    from wfe.tools.annotations import make_annotation  # only tools that annotate need it

    return make_annotation(level, file=file, line=line, col=col, end_line=end_line, title=title)


_tool_console: Callable[[], Console] | None = None


def console() -> Console | None:
    """The Rich console of the live view showing this run, for a tool's rich output (a table,
    a panel): what it prints goes above the live area, after the run's earlier log lines. None
    when no live view shows the run (plain lines in CI, `--json`, `--quiet`, the API, another
    process): print nothing then, or `log` lines. Take it when you print, not before."""
    get = _tool_console
    return None if get is None else get()


def show_tool_output_on(get_console: Callable[[], Console] | None) -> None:
    """Set (or clear, with None) where `console()` points: the live view that is drawing."""
    global _tool_console
    _tool_console = get_console


def set_step(info: StepInfo | None) -> object:
    """Make info current in this task or thread; returns a token for `reset_step`."""
    if info is not None:
        capture_output()
    return _current.set(info)


def reset_step(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


#: `begin_output(info)`: a tool of `info` starts here, and what it prints becomes its node's log
#: lines; returns the token for `end_output`. (The context variable's own method: no frame.)
begin_output = _printing.set
#: `stop_output(token)`: the tool of `begin_output` returned (then `info.partial` holds any line
#: it left without a newline). The context variable's own method: no frame.
stop_output = _printing.reset


def end_output(token: Token[StepInfo | None], info: StepInfo) -> None:
    _printing.reset(token)
    if info.partial:
        info.end_output()


def call_tool(fn: Callable[..., Any], kwargs: dict[str, Any], info: StepInfo) -> Any:
    """Call a sync tool here and now, its output going to `info`'s node."""
    token = _printing.set(info)
    try:
        return fn(**kwargs)
    finally:
        _printing.reset(token)
        if info.partial:
            info.end_output()


def _outside_tool(sink: LogSink, node: str, message: str,
                  annotation: Annotation | None = None) -> None:
    # The sink emits an event; a listener that prints it must reach the real stream.
    token = _printing.set(_NOBODY)
    try:
        if annotation is None:
            sink(node, message)
        else:
            sink(node, message, annotation)
    finally:
        _printing.reset(token)


class ToolOutput(io.TextIOBase):
    """sys.stdout or sys.stderr while runs go on: a tool's text to its node's log, the rest to
    the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        info = _printing_step()
        if info is None:
            return self.stream.write(text)
        if not isinstance(text, str):  # as the stream itself would say
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        info.printed(text)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return _printing_step() is None and self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def terminal_stream(stream: TextIO) -> TextIO:
    """The stream under the proxies wrapped around it (ours, rich's Live redirect)."""
    while True:
        inner = stream.stream if isinstance(stream, ToolOutput) else getattr(
            stream, "rich_proxied_file", None)
        if inner is None:
            return stream
        stream = inner


def capture_output() -> None:
    """Wrap sys.stdout and sys.stderr (once; again if someone replaced them since)."""
    if not isinstance(sys.stdout, ToolOutput) and sys.stdout is not None:
        sys.stdout = cast(TextIO, ToolOutput(sys.stdout))
    if not isinstance(sys.stderr, ToolOutput) and sys.stderr is not None:
        sys.stderr = cast(TextIO, ToolOutput(sys.stderr))
