"""Ctrl-C and SIGTERM during a run: stop at once, leave the run resumable, exit 130 or 143.

Python-level handlers raise inside whatever runs, a sync tool included; asyncio's own SIGINT
handler would only cancel the task at its next await, which inline tools never reach.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered like Ctrl-C so the same clean-up runs."""


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def stop_on_signals() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, _on_sigint), signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def exit_code_for(interrupt: KeyboardInterrupt) -> int:
    return EXIT_SIGTERM if isinstance(interrupt, Terminated) else EXIT_SIGINT
