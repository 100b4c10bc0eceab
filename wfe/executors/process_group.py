"""The end of a worker process's group: what a tool started there ends with its call.

A worker of `isolation: process` leads a process group of its own, and whatever its tool starts
(a `subprocess`, and what that starts) joins it. The worker itself may end while they run on: it
returned, or it died of a SIGTERM that a process forked a moment later never got, or that one
ignores. So once the worker is gone its group gets SIGKILL, and wfe waits until no process of
the group is left alive. Such orphans belong to init afterwards, which may leave them as zombies
for a while; a zombie has ended and is not waited for (Linux: read from /proc).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

#: The longest wait for a killed group's processes to end (they cannot ignore SIGKILL).
KILL_WAIT = 5.0
_POLL = 0.01
_PROC = Path("/proc")


def kill_group(pgid: int) -> bool:
    """SIGKILL every process of the group; False when there is none."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def end_group(pgid: int | None) -> None:
    """Kill what is left of the group and wait until none of it runs."""
    if pgid is None or not kill_group(pgid):
        return
    deadline = time.monotonic() + KILL_WAIT
    while _members_alive(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(_POLL)
        kill_group(pgid)  # one forked meanwhile


def _members_alive(pgid: int) -> bool:
    """Whether a process of the group runs (a zombie does not)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not _PROC.is_dir():
        return True  # no /proc: every member counts until it is reaped
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False
