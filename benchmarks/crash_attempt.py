"""What runs inside one attempt of the crash campaign (crash_campaign.py): the real command line,
with the plan's hooks armed in this process only (the engine's own code path is untouched).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from wfe.errors import Location  # noqa: E402
from wfe.store import Store, writes  # noqa: E402
from wfe.tools.discovery import import_module  # noqa: E402

# Imported as `--import` would: then the campaign's workflow, which lives in a scratch folder
# outside this project, may name it.
tools = import_module("crash_campaign_tools", HERE, Location(str(HERE)))


def _arm(plan: list[str]) -> None:
    """The returned/between/commit plans: wrap the store's checkpoint (before or after it) or
    its write of a step row (commit); a random SIGINT/SIGTERM: a timer in the run. In this
    process only."""
    if plan[0] in ("returned", "between"):
        _arm_checkpoint(int(plan[1]), after=plan[0] == "between")
    elif plan[0] == "commit":
        _arm_commit(int(plan[1]), int(plan[2]), plan[-1])
    elif plan[0] == "random" and plan[-1] != "KILL":
        _arm_timer(int(plan[1]) / 1000)


def _arm_checkpoint(target: int, *, after: bool) -> None:
    original = Store.checkpoint

    def hooked(store: Store, lease: Any, checkpoint: Any) -> bool:
        if not after and checkpoint.step >= target:
            tools.die()
        cancelled = original(store, lease, checkpoint)
        if after and checkpoint.step >= target:
            tools.die()
        return cancelled

    Store.checkpoint = hooked  # type: ignore[method-assign]


def _arm_timer(delay: float) -> None:
    """Signal this process `delay` s after its run began (never once the run has ended)."""
    from wfe.cli import run_command

    original, lock, running = run_command.stop_on_signals, threading.Lock(), [False]

    def strike() -> None:
        time.sleep(delay)
        with lock:
            if running[0]:
                tools.die()

    @contextlib.contextmanager
    def timed() -> Iterator[None]:
        with original():
            running[0] = True
            threading.Thread(target=strike, daemon=True).start()
            try:
                yield
            finally:
                with lock:
                    running[0] = False

    run_command.stop_on_signals = timed


def _arm_commit(target: int, delay_us: int, sig: str) -> None:
    original, armed = writes._insert_step, threading.Event()

    def hooked(conn: sqlite3.Connection, run_no: int, lease: Any, row: Any) -> None:
        if row[0] >= target and not armed.is_set():
            armed.set()
            tools.note(f"#commit {lease.run_id} {row[0]} {delay_us}")
            conn.set_trace_callback(_commit_killer(conn, delay_us / 1e6, sig))
        original(conn, run_no, lease, row)

    writes._insert_step = hooked


def _commit_killer(conn: sqlite3.Connection, delay: float, sig: str) -> Callable[[str], None]:
    """A statement hook: SIGKILL at the start of the statement that commits the step (COMMIT,
    or the step's INSERT when it is a transaction of its own), or `delay` seconds into it (it
    runs without the GIL, so a waiting thread can strike while SQLite writes). SIGINT and
    SIGTERM come from that thread too (raised in a trace hook, SQLite would swallow them)."""
    wake = threading.Event()

    def killer() -> None:
        wake.wait()
        time.sleep(delay)
        tools.die()

    threading.Thread(target=killer, daemon=True).start()

    def on_statement(sql: str) -> None:
        commits = sql == "COMMIT" or (sql.startswith("INSERT INTO steps")
                                      and not conn.in_transaction)
        if commits:
            if not delay and sig == "KILL":
                tools.die()
            wake.set()

    return on_statement


def child_main(argv: list[str], plan: str) -> None:
    """Run the CLI with `argv` under `plan`; never returns."""
    code = 70
    try:
        random.seed()
        os.environ["WFE_CRASH_PLAN"] = plan
        _arm(plan.split(":"))
        cli().main(args=argv, prog_name="wfe")
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@functools.cache
def cli() -> Any:
    """wfe's command line as Click sees it, built once (Typer builds it on every call)."""
    from wfe.cli import app

    return typer.main.get_command(app)


def spawned() -> None:
    """The entry point of an attempt in a fresh interpreter (--spawn)."""
    child_main(json.loads(os.environ["WFE_CRASH_ARGV"]), os.environ["WFE_CRASH_PLAN"])
