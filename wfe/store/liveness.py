"""Is the owner of a running run still alive? A run whose owner died must not stay "running"."""

from __future__ import annotations

import os
import socket

#: A running run whose heartbeat is older than this is treated as abandoned.
LEASE_SECONDS = 15.0
#: How often the owner renews its heartbeat (well inside LEASE_SECONDS).
HEARTBEAT_SECONDS = 2.0

HOST = socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    if os.name == "nt":
        # os.kill would terminate the process on Windows; rely on the heartbeat there.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else (EPERM)
    return True


def owner_dead(pid: int | None, host: str | None, heartbeat_at: float | None, now: float) -> bool:
    """Dead: no heartbeat for LEASE_SECONDS, or on this host and its process is gone."""
    if heartbeat_at is None or now - heartbeat_at > LEASE_SECONDS:
        return True
    return host == HOST and (pid is None or not pid_alive(pid))
