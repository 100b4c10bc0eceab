"""Timeouts for async tools that block the event loop (`while True: pass`, `time.sleep(100)`).

An async tool runs on the engine's event loop, where a call costs a few microseconds (a `map:`
of 10,000 items relies on it). A tool that never awaits holds the loop, so no timer of the loop
can fire: neither its node's `timeout:` nor `limits.timeout`. Moving every async tool to a loop
of its own in another thread would keep the engine's loop free, but every call would pay a
thread hop, and a tool that keeps a client bound to its loop across calls would break.

So the loop is watched instead. While async tools are in flight, a daemon thread pings each
loop they run on every PERIOD seconds; a loop that leaves a ping unanswered that long is blocked,
and the thread signals the loop's thread (the main thread: Python runs signal handlers there
only). The handler runs inside whatever blocks, Python code or a sleep alike, in the context of
the task that blocks, and raises TimeoutError there only if that task is inside an async tool's
call (the context variable `calling`, set by the executor around the call) whose own deadline, or
whose run's (`run_deadline`, set by the engine), has passed; otherwise it returns and the code
goes on. The node then fails with
that TimeoutError, as with any timeout: retried, routed by `on_error`, or failing the run.

The signal is a real-time one the process does not use (SIGUSR2 where there are none); if
someone else handles it, or the loop runs in another thread, nothing is signalled and a blocked
loop stays blocked, as before. A blocking async tool is still a bug to fix: with `isolation:
process` its timeout kills it outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
import weakref
from contextvars import ContextVar
from types import FrameType

#: Seconds between pings, and how long an unanswered ping means a blocked loop.
PERIOD = 0.1
#: A real-time signal past those C libraries keep for themselves; SIGUSR2 where there are none.
SIGNAL = (signal.SIGRTMIN + 3) if hasattr(signal, "SIGRTMIN") else signal.SIGUSR2


class _Watched:
    """A loop with async tools in flight, as the watching thread sees it."""

    __slots__ = ("answered", "in_flight", "loop", "sent", "thread")

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: int) -> None:
        self.loop = weakref.ref(loop)
        self.thread = thread
        self.in_flight = 0
        self.answered = True
        self.sent = 0.0


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watched] = (
    weakref.WeakKeyDictionary())
#: The record of the last loop asked about: calls ask about the same loop again and again.
_last: _Watched | None = None
_lock = threading.Lock()
_watcher: threading.Thread | None = None
_handler_installed = False
#: Inside an async tool's call: its timeout in seconds and its deadline on the monotonic clock
#: (None for no timeout of its own).
calling: ContextVar[tuple[float, float] | None] = ContextVar("wfe_async_call", default=None)
#: The deadline of the run's `limits.timeout` on the monotonic clock, set by the engine.
run_deadline: ContextVar[float | None] = ContextVar("wfe_run_deadline", default=None)
#: A call's value of `calling` when it has no timeout of its own.
NO_TIMEOUT = (0.0, float("inf"))


def watch(loop: asyncio.AbstractEventLoop) -> _Watched | None:
    """An async tool starts on `loop` (running in this thread): watch it while any is in flight
    (the caller decrements `in_flight` when the tool ends). None when a blocked loop could not
    be interrupted here (not the main thread, or the signal is someone else's)."""
    watched = _last
    if watched is None or watched.loop() is not loop:
        watched = _record(loop)
        if watched is None:
            return None
    watched.in_flight += 1
    return watched


def _record(loop: asyncio.AbstractEventLoop) -> _Watched | None:
    global _last
    watched = _loops.get(loop)
    if watched is None:
        if threading.current_thread() is not threading.main_thread() or not _install_handler():
            return None
        with _lock:
            watched = _loops[loop] = _Watched(loop, threading.get_ident())
    _last = watched
    _start_watcher()
    return watched


def _install_handler() -> bool:
    global _handler_installed
    if not _handler_installed:
        if signal.getsignal(SIGNAL) not in (signal.SIG_DFL, None):
            return False
        signal.signal(SIGNAL, _on_signal)
        _handler_installed = True
    return signal.getsignal(SIGNAL) is _on_signal


def _start_watcher() -> None:
    global _watcher
    with _lock:
        if _watcher is None:
            _watcher = threading.Thread(target=_watch_loops, name="wfe-loop-guard", daemon=True)
            _watcher.start()


def _watch_loops() -> None:
    global _watcher
    while True:
        time.sleep(PERIOD)
        with _lock:
            loops = [(loop, w) for loop, w in list(_loops.items()) if not loop.is_closed()]
            if not loops:
                _watcher = None
                return
        now = time.monotonic()
        for loop, watched in loops:
            if watched.in_flight <= 0:
                continue
            if watched.answered:
                watched.answered, watched.sent = False, now
                try:
                    loop.call_soon_threadsafe(_answer, watched)
                except RuntimeError:  # closed meanwhile
                    continue
            elif now - watched.sent >= PERIOD:
                with contextlib.suppress(OSError):  # the thread has just ended
                    signal.pthread_kill(watched.thread, SIGNAL)


def _answer(watched: _Watched) -> None:
    watched.answered = True


def _on_signal(signum: int, frame: FrameType | None) -> None:
    reason = _expired()
    if reason is not None:
        raise TimeoutError(reason)


def _expired() -> str | None:
    """Why the async tool running here must stop now, or None (not in a tool, or in time)."""
    call = calling.get()
    if call is None:
        return None
    now = time.monotonic()
    timeout, deadline = call
    if now >= deadline:
        return (f"timed out after {timeout:g} s; the tool blocked the event loop (an async tool "
                "must await)")
    run_ends = run_deadline.get()
    if run_ends is not None and now >= run_ends:
        return ("the run's limits.timeout passed while the tool blocked the event loop (an "
                "async tool must await)")
    return None
