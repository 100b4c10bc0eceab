"""`wfe schedule`: the scheduler in the foreground, for systemd, cron or a terminal.

It logs a line per slot it starts, skips or queues; SIGTERM or Ctrl-C stops it between ticks
(runs it started go on: each is a process of its own), exit 0.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from wfe.cli.run_options import open_store
from wfe.cli.scheduler import Scheduler, no_schedules, stamped
from wfe.errors import UsageError
from wfe.spec.project_config import configured_keep

DEFAULT_TARGETS = (Path("workflows"),)


def schedule(targets: list[Path], once: bool, store_path: Path | None) -> int:
    targets = targets or list(DEFAULT_TARGETS)
    missing = [t for t in targets if not t.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or folder")
    configured_keep()  # a `keep` that does not parse is a usage error now, not at every tick
    with open_store(store_path, None) as store:
        scheduler = Scheduler(targets, store, stamped(_out), stamped(_err))
        if not scheduler.load() and not scheduler.invalid:
            raise no_schedules(targets)
        if once:
            scheduler.tick(_now())
            return 2 if scheduler.invalid else 0
        shown = ", ".join(str(t) for t in targets)
        with _stop_on_signals() as stop:
            scheduler.say(f"scheduling {len(scheduler.entries)} schedules of {shown} "
                          f"(store {store.path})")
            scheduler.run_until(stop)
        scheduler.say("stopped")
    return 0


def _now() -> float:
    return time.time()


def _out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT, the handlers before restored afterwards."""
    stop = threading.Event()

    def handle(number: int, frame: FrameType | None) -> None:
        stop.set()

    before = {number: signal.signal(number, handle) for number in (signal.SIGTERM,
                                                                    signal.SIGINT)}
    try:
        yield stop
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
