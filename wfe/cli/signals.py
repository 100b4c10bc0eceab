"""Ctrl-C and SIGTERM during a run: stop at once, leave the run resumable, exit 130 or 143.

The first signal raises inside whatever runs, a sync tool included (asyncio's own SIGINT handler
would only cancel the task at its next await, which inline tools never reach), so the engine
records the run as interrupted. From then on a second signal exits the process at once: the
store needs no clean-up to stay consistent (a commit cut short is rolled back, and a run whose
owner is gone reads as interrupted). A sync tool still running in a worker thread cannot be
stopped: it gets GRACE_SECONDS to return (its result is dropped; the step runs again on resume)
before the process exits without it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

EXIT_SIGINT = 130
EXIT_SIGTERM = 143
#: How long an interrupted process waits for sync tools still running in worker threads.
GRACE_SECONDS = 5.0

#: The exit code of the first signal, once one came during a run.
_interrupted: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so the same clean-up runs."""


def _code(signum: int) -> int:
    return EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT


def _exit_now(signum: int, frame: FrameType | None) -> None:
    os.write(2, b"interrupted again: exiting now\n")
    os._exit(_code(signum))


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if not _interrupted:
        _interrupted.append(_code(signum))
        signal.signal(signal.SIGINT, _exit_now)
        signal.signal(signal.SIGTERM, _exit_now)
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Signals raise while the block runs; after one came, a second one exits at once."""
    _interrupted.clear()
    previous = signal.signal(signal.SIGINT, _on_signal), signal.signal(signal.SIGTERM, _on_signal)
    try:
        yield
    finally:
        if not _interrupted:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])


def exit_code_for(interrupt: KeyboardInterrupt) -> int:
    return EXIT_SIGTERM if isinstance(interrupt, Terminated) else EXIT_SIGINT


def run_until_done(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, except that an interrupted run does not wait for its tool threads
    (asyncio.run would, for as long as they take); `leave_tool_threads` bounds that wait."""
    # deferred: asyncio and the executor (~15 ms) are for runs; every command imports this module
    import asyncio

    from wfe.executors.executor import release_tool_threads

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(main)
    try:
        return loop.run_until_complete(task)
    finally:
        try:
            _cancel_the_rest(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            if not _interrupted:
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            if task.done() and not task.cancelled():
                task.exception()  # seen: the caller reports an interrupt (else asyncio would)
            asyncio.set_event_loop(None)
            loop.close()
            # A tool abandoned at its timeout may still run: `leave_tool_threads` bounds that.
            release_tool_threads()


def _cancel_the_rest(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and finish the tasks still pending: cancelling the engine's task is what lets it
    record the run as interrupted."""
    # deferred as in run_until_done, its only caller: asyncio (~15 ms) is for runs only
    import asyncio

    while pending := [task for task in asyncio.all_tasks(loop) if not task.done()]:
        for task in pending:
            task.cancel()
        try:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        except KeyboardInterrupt:
            # A task (the engine's, a branch's) ended with the interrupt it was handling, and
            # asyncio raises that out of the loop once more: it is the same interrupt.
            continue


def _tool_threads() -> list[threading.Thread]:
    main = threading.main_thread()
    return [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


def leave_tool_threads(code: int) -> None:
    """After a command: give tool threads still running (after an interrupt, or abandoned at
    their timeout) GRACE_SECONDS, then exit without them with the command's exit code.

    Without this, the interpreter would wait for every worker thread at exit, however long.
    """
    threads = _tool_threads()
    if not threads:
        return
    deadline = time.monotonic() + GRACE_SECONDS
    told = False
    for thread in threads:
        thread.join(min(0.2, max(0.0, deadline - time.monotonic())))  # idle ones end at once
        if thread.is_alive() and not told:
            sys.stderr.write(f"waiting up to {GRACE_SECONDS:g} s for a running tool to return "
                             "(interrupt again to exit now)\n")
            sys.stderr.flush()
            told = True
        thread.join(max(0.0, deadline - time.monotonic()))
    if _tool_threads():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_interrupted[0] if _interrupted else code)
