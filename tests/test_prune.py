"""`wfe runs prune`: finished runs older than an age go, with all that is stored for them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.store import Store

runner = CliRunner()
BULKY = """
imports: [TOOLS]
state:
  size: {type: int, default: 200000}
  blob: str
  answer: int
nodes:
  make: {tool: make, next: ask}
  ask:
    interrupt: {expects: {answer: int}}
"""
QUICK = """
imports: [TOOLS]
state:
  size: {type: int, default: 200000}
  blob: str
nodes:
  make: {tool: make}
"""
TOOLS = """
import random

@tool
def make(size: int) -> dict:
    return {"blob": "".join(random.choice("abcdefgh") for _ in range(size))}
"""
DAY = 86400.0


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _store() -> Path:
    return Path(os.environ["WFE_STORE"])


def _age(run_id: str, days: float) -> None:
    """Make the run look as if it ended (or paused) `days` ago."""
    with sqlite3.connect(_store()) as conn:
        when = time.time() - days * DAY
        conn.execute("UPDATE runs SET finished_at = ?, updated_at = ? WHERE run_id = ?",
                     (when, when, run_id))


def _runs() -> dict[str, str]:
    listed = json.loads(invoke("runs", "--json", "--limit", 100).stdout)
    return {row["run_id"]: row["status"] for row in listed}


def _start(path: Path, *args: str) -> str:
    result = invoke("run", path, "--json", *args)
    return str(json.loads(result.stdout.splitlines()[0])["run_id"])


def _file_size() -> int:
    return sum(Path(f"{_store()}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{_store()}{s}").exists())


def test_prune_deletes_old_finished_runs_and_keeps_new_and_waiting_ones(write_workflow) -> None:
    quick, bulky = write_workflow(QUICK, TOOLS), write_workflow(BULKY, TOOLS)
    old = [_start(quick) for _ in range(4)]
    waiting = _start(bulky)
    recent = _start(quick)
    for run_id in (*old, waiting):
        _age(run_id, 40)
    before = _file_size()
    pruned = subprocess.run([sys.executable, "-m", "wfe", "runs", "prune", "--older-than",
                             "30d"], capture_output=True, text=True, timeout=120)
    assert pruned.returncode == 0, pruned.stderr
    assert set(_runs()) == {waiting, recent}
    for run_id in old:
        assert f"removed run {run_id}\n" in pruned.stdout
    assert "removed 4 runs (4 succeeded) that ended more than 30d ago" in pruned.stdout
    assert _file_size() < before / 2
    with sqlite3.connect(_store()) as conn:
        keys = [row[0] >> 32 for row in conn.execute("SELECT key FROM steps")]
        numbers = {row[0] for row in conn.execute("SELECT run_no FROM runs")}
        assert set(keys) == numbers
        assert {row[0] >> 32 for row in conn.execute("SELECT key FROM events")} == numbers


@pytest.mark.parametrize("status", ["failed", "succeeded"])
def test_status_limits_what_prune_deletes(write_workflow, status: str) -> None:
    tools = TOOLS + "\n@tool\ndef boom() -> dict:\n    raise ValueError('no')\n"
    ok = _start(write_workflow(QUICK, tools))
    bad = _start(write_workflow("imports: [TOOLS]\nnodes:\n  b: {tool: boom}\n", tools))
    _age(ok, 2)
    _age(bad, 2)
    result = invoke("runs", "prune", "--older-than", "1d", "--status", status)
    assert result.exit_code == 0, result.output
    assert set(_runs()) == ({ok, bad} - ({bad} if status == "failed" else {ok}))


def test_a_store_made_before_incremental_vacuum_shrinks_too(write_workflow) -> None:
    Store.open(_store()).close()
    with sqlite3.connect(_store()) as conn:  # as stores made by earlier versions are
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA auto_vacuum = NONE")
        conn.execute("VACUUM")
    quick = write_workflow(QUICK, TOOLS)
    old = [_start(quick) for _ in range(3)]
    for run_id in old:
        _age(run_id, 2)
    before = _file_size()
    assert invoke("runs", "prune", "--older-than", "1d").exit_code == 0
    assert _file_size() < before / 2
    with sqlite3.connect(_store()) as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)


@pytest.mark.parametrize(("args", "message"), [
    (["--older-than", "30 days"], "--older-than: '30 days' is not an age such as 30d"),
    (["--older-than", "1d", "--status", "waiting"], "--status waiting: prune deletes finished "
                                                    "runs only"),
])
def test_a_wrong_age_or_status_is_a_usage_error(args: list[str], message: str) -> None:
    result = invoke("runs", "prune", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_nothing_to_prune_says_so() -> None:
    result = invoke("runs", "prune", "--older-than", "30d")
    assert result.output == "no finished run ended more than 30d ago\n"


def test_prune_removes_the_log_of_a_detached_run(write_workflow) -> None:
    detached = invoke("run", write_workflow(QUICK, TOOLS), "-i", "size=10", "--detach")
    run_id = detached.stdout.strip()
    log = _store().parent / "logs" / f"{run_id}.log"
    deadline = time.monotonic() + 60
    while _runs().get(run_id) != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    _age(run_id, 2)
    assert log.exists()
    assert invoke("runs", "prune", "--older-than", "1d").exit_code == 0
    assert not log.exists()
