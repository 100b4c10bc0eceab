"""A store that cannot be written or is not a wfe store, at the command line: a full disk fails
the run cleanly and leaves the store usable and the run resumable; a damaged or foreign file is
a clear error and is never written to."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.store import NewRun, Store, schema
from wfe.store import store as store_module

runner = CliRunner()

GROWING = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  blob: {type: str, default: ""}
nodes:
  grow:
    tool: grow
    next:
      - when: i < 60
        then: grow
      - then: end
"""

# Every step stores a new 16 KiB state: a small disk fills up within a few dozen steps.
TOOLS = """
@tool
def grow(i: int) -> dict:
    return {"i": i + 1, "blob": str(i) * (16384 // len(str(i)))}
"""

REFERENCE = {"i": 60, "blob": "59" * 8192}


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _only_run(path: Path) -> dict:
    listed = invoke("runs", "--json", "--store", path)
    assert listed.exit_code == 0, listed.output
    [run] = json.loads(listed.stdout)
    return dict(run)


def _assert_full_disk_error(stderr: str, store: Path, run_id: str) -> None:
    assert stderr == (f"error: {store}: database or disk is full; run {run_id} stopped and can be "
                      f"resumed once the store can be written again (`wfe resume {run_id}`)\n")


def _resume_to_the_end(store: Path, run_id: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    resumed = invoke("resume", run_id, "--quiet", "--store", store, "--output", out)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(out.read_text()) == REFERENCE
    assert _only_run(store)["status"] == "succeeded"


def test_a_full_store_fails_the_run_cleanly_and_it_resumes_once_there_is_room(
    write_workflow, tmp_path, monkeypatch
):
    """SQLITE_FULL simulated with `PRAGMA max_page_count` on the store's connections."""
    store = tmp_path / "full.db"
    Store.open(store).close()
    with sqlite3.connect(store) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    configure = schema.configure

    def capped(conn: sqlite3.Connection, path: str, durability: str) -> None:
        configure(conn, path, durability)  # type: ignore[arg-type]
        conn.execute(f"PRAGMA max_page_count = {pages + 40}")

    path = write_workflow(GROWING, TOOLS)
    with monkeypatch.context() as patch:
        patch.setattr(schema, "configure", capped)
        patch.setattr(store_module, "configure", capped)
        failed = invoke("run", path, "--quiet", "--store", store)
    assert failed.exit_code == 2
    run = _only_run(store)
    _assert_full_disk_error(failed.stderr, store, run["run_id"])
    assert run["status"] == "interrupted" and 0 < run["steps"] < 60
    assert _integrity(store) == "ok"
    _resume_to_the_end(store, run["run_id"], tmp_path)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs; the test may grow it with `mount -o remount,size=...`."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _grow(disk: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)


def test_a_full_disk_fails_the_run_cleanly_and_it_resumes_once_there_is_room(
    write_workflow, tiny_disk, tmp_path
):
    store = tiny_disk / "wfe.db"
    path = write_workflow(GROWING, TOOLS)
    failed = subprocess.run([sys.executable, "-m", "wfe", "run", str(path), "--quiet",
                             "--store", str(store)], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2
    run = _only_run(store)
    _assert_full_disk_error(failed.stderr, store, run["run_id"])
    assert run["status"] == "interrupted" and 0 < run["steps"] < 60
    assert _integrity(store) == "ok"
    _grow(tiny_disk, "64m")
    _resume_to_the_end(store, run["run_id"], tmp_path)


def test_runs_are_listed_on_a_full_disk_even_one_whose_owner_died(write_workflow, tiny_disk):
    store = tiny_disk / "wfe.db"
    _grow(tiny_disk, "4m")
    path = write_workflow(GROWING.replace("i < 60", "i < 3"), TOOLS)
    assert invoke("run", path, "--quiet", "--store", store).exit_code == 0
    with sqlite3.connect(store) as db:  # as if its process had been killed: still "running"
        db.execute("UPDATE runs SET status = 'running', owner_pid = 999999999,"
                   " owner_host = ?, heartbeat_at = 0", (os.uname().nodename,))
    # Unbuffered: a write that only partly fits must not leave bytes for close() to raise on.
    with pytest.raises(OSError), open(tiny_disk / "filler", "wb", buffering=0) as filler:
        while True:
            filler.write(b"\0" * 65536)
    assert _only_run(store)["status"] == "interrupted"  # shown so, though it cannot be stored


# --- files that are not wfe stores -------------------------------------------------------------


def _random_bytes(path: Path, tmp_path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(64 * 1024))


def _truncated_store(path: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    with Store.open(real) as opened:
        opened.create_run(NewRun("01real", "w", "/w.yaml", "0" * 64, b"x" * 20000, {}, {}, "a"))
    data = real.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign_database(path: Path, tmp_path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO invoices (total) VALUES (12.5)")
    db.close()


@pytest.mark.parametrize("make", [_random_bytes, _truncated_store, _foreign_database],
                         ids=["random bytes", "truncated store", "another app's database"])
@pytest.mark.parametrize("command", [["run", "WORKFLOW"], ["runs"], ["resume", "01real"]],
                         ids=["run", "runs", "resume"])
def test_a_file_that_is_not_a_wfe_store_is_refused_and_left_byte_identical(
    write_workflow, tmp_path, make, command
):
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "wfe.db"
    make(path, tmp_path)
    before = path.read_bytes()
    workflow = write_workflow(GROWING, TOOLS)
    args = [str(workflow) if arg == "WORKFLOW" else arg for arg in command]
    result = invoke(*args, "--store", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: ")
    assert result.stderr.endswith("wfe leaves it untouched (use --store or WFE_STORE to pick "
                                  "another file)\n")
    assert len(result.stderr.splitlines()) == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["wfe.db"]


def test_a_store_created_by_another_process_while_it_is_checked_is_not_taken_for_damaged(
    tmp_path,
):
    """The check reads the tables and the schema version in one snapshot."""
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as empty:
        empty.execute("PRAGMA journal_mode = WAL")
    empty.close()
    checking = sqlite3.connect(path, isolation_level=None)

    def create_meanwhile(sql: str) -> None:
        if sql.startswith("PRAGMA user_version"):
            checking.set_trace_callback(None)
            Store.open(path).close()

    checking.set_trace_callback(create_meanwhile)
    try:
        assert schema.check_file(checking, str(path)) == 0
    finally:
        checking.close()
    with Store.open(path) as opened:
        assert opened.list_runs() == []
