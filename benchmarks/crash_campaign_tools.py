"""The tools of the crash campaign's workflow (see crash_campaign.py).

Each call appends `PID KEY` to the side-effect ledger named by WFE_CRASH_LEDGER (one O_APPEND
write: it survives the process being killed), KEY being its `ctx.idempotency_key`. A call may then
stop its own process, as the attempt's plan in WFE_CRASH_PLAN says (the plan's last field is the
signal: KILL, or INT and TERM, which wfe handles as Ctrl-C and SIGTERM):

    tool:STEP:SIG          the first `work` call at or after step STEP stops inside the tool
    map:STEP:INDEX:SIG     item INDEX of the first map at or after STEP stops, a sibling in flight
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time

from wfe import tool

MODULUS = 1_000_003


def note(line: str) -> None:
    """Append `PID LINE` to the ledger."""
    fd = os.open(os.environ["WFE_CRASH_LEDGER"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{os.getpid()} {line}\n".encode())
    finally:
        os.close(fd)


SIGNALS = {"KILL": signal.SIGKILL, "INT": signal.SIGINT, "TERM": signal.SIGTERM}


def die() -> None:
    """Send the plan's signal to this process (SIGINT and SIGTERM raise in its main thread)."""
    os.kill(os.getpid(), SIGNALS.get(_plan()[-1], signal.SIGKILL))


def _plan() -> list[str]:
    return os.environ.get("WFE_CRASH_PLAN", "none").split(":")


@tool
def work(i: int, total: int, seed: int, ctx) -> dict:
    note(ctx.idempotency_key)
    plan = _plan()
    if plan[0] == "tool" and ctx.step >= int(plan[1]):
        die()
    time.sleep(random.random() * 0.002)
    return {"i": i + 1, "total": (total * 31 + i * seed + 7) % MODULUS, "trail": i}


@tool
async def square(n: int, ctx) -> int:
    note(ctx.idempotency_key)
    await asyncio.sleep(random.random() * 0.004)
    plan = _plan()
    if plan[0] == "map" and ctx.step >= int(plan[1]) and ctx.node.endswith(f"[{plan[2]}]"):
        die()
    return n * n


@tool
def fold(total: int, squares: list[int], ctx) -> dict:
    note(ctx.idempotency_key)
    return {"total": (total + sum(squares)) % MODULUS}
