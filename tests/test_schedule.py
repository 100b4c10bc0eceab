"""`schedule:`, `wfe schedule` and `wfe serve --schedule`, through real processes on one store.

The slots tests need in the past are made by editing the store's `schedule_slots` rows (time
travel), never by waiting for the clock.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

EVERY_MINUTE = """
imports: [tick_tools]
state: {who: {type: str, default: nobody}}
schedule: {cron: "* * * * *", inputs: {who: "cron été"}, OVERLAP}
nodes:
  hello: {tool: hello}
"""
TOOLS = """
import os, time
from wfe import tool

@tool
def hello(who: str) -> dict:
    while os.path.exists("hold"):  # the test keeps the run running while the file exists
        time.sleep(0.02)
    return {}
"""
MINUTE = 60.0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "tick_tools.py").write_text(TOOLS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(project: Path, overlap: str = "overlap: skip", text: str = EVERY_MINUTE) -> None:
    (project / "workflows" / "tick.yaml").write_text(text.replace("OVERLAP", overlap))


def _wfe(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wfe", *args], capture_output=True, text=True,
                          timeout=timeout)


def _store() -> Path:
    return Path(os.environ["WFE_STORE"])


def _slots() -> list[tuple[float, str, str | None]]:
    with sqlite3.connect(_store()) as conn:
        return conn.execute("SELECT slot, outcome, run_id FROM schedule_slots ORDER BY slot"
                            ).fetchall()


def _move_slots_back(minutes: int) -> None:
    """As if every recorded slot had come `minutes` earlier."""
    with sqlite3.connect(_store()) as conn:
        conn.execute("UPDATE schedule_slots SET slot = slot - ?", (minutes * MINUTE,))


def _runs() -> list[dict[str, object]]:
    listed: list[dict[str, object]] = json.loads(_wfe("runs", "--json", "--limit", "200").stdout)
    return listed


def _wait_until_finished() -> None:
    deadline = time.monotonic() + 60
    while any(r["status"] == "running" for r in _runs()) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_once_starts_the_due_slot_with_its_inputs_and_a_second_call_starts_nothing(
        project: Path) -> None:
    _write(project)
    first, second = _wfe("schedule", "--once"), _wfe("schedule", "--once")
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    slots = _slots()
    assert [outcome for _, outcome, _ in slots].count("started") == len(slots)
    started = _runs()
    assert len(started) == len(slots) >= 1  # two, if a minute turned between the calls
    assert "started run" in first.stdout and " of tick slot " in first.stdout
    _wait_until_finished()
    shown = json.loads(_wfe("show", str(started[-1]["run_id"]), "--json").stdout)
    assert shown["inputs"] == {"who": "cron été"}


def test_two_schedulers_at_once_start_each_slot_once(project: Path) -> None:
    _write(project)
    command = [sys.executable, "-m", "wfe", "schedule", "--once"]
    both = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    logs = [process.communicate(timeout=120)[0] for process in both]
    started = "".join(logs).count("started run")
    assert started == len(_slots()) == len(_runs()) >= 1


@pytest.mark.parametrize(("overlap", "outcome"), [("overlap: skip", "skipped"),
                                                  ("overlap: queue", "queued")])
def test_a_slot_that_comes_while_the_last_run_still_runs_is_skipped_or_queued(
        project: Path, overlap: str, outcome: str) -> None:
    _write(project, overlap)
    (project / "hold").touch()
    assert _wfe("schedule", "--once").returncode == 0
    _move_slots_back(1)
    later = _wfe("schedule", "--once")
    assert f"{outcome} tick slot" in later.stdout, later.stdout + later.stderr
    assert "is still running" in later.stdout
    assert len(_runs()) == 1
    (project / "hold").unlink()
    _wait_until_finished()
    after = _wfe("schedule", "--once")
    if outcome == "queued":  # its turn has come now that the run before it has ended
        assert "(queued)" in after.stdout
    else:  # a skipped slot never runs (a new minute's slot may, if one has begun)
        assert "(queued)" not in after.stdout
    assert len(_runs()) == 1 + after.stdout.count("started run")


def test_overlap_allow_starts_beside_a_running_run(project: Path) -> None:
    _write(project, "overlap: allow")
    (project / "hold").touch()
    assert _wfe("schedule", "--once").returncode == 0
    _move_slots_back(1)
    assert "started run" in _wfe("schedule", "--once").stdout
    assert [r["status"] for r in _runs()] == ["running", "running"]
    (project / "hold").unlink()
    _wait_until_finished()


@pytest.mark.parametrize(("catch_up", "runs"), [("catch_up: false, overlap: allow", 1),
                                                ("catch_up: true, overlap: allow", 5)])
def test_missed_slots_run_once_or_each_with_catch_up(
        project: Path, catch_up: str, runs: int) -> None:
    _write(project, catch_up)
    assert _wfe("schedule", "--once").returncode == 0
    _wait_until_finished()
    _move_slots_back(5)  # the scheduler was down for five minutes
    later = _wfe("schedule", "--once")
    assert later.stdout.count("started run") == runs, later.stdout + later.stderr


def test_sigterm_stops_the_foreground_scheduler_cleanly(project: Path) -> None:
    _write(project)
    process = subprocess.Popen([sys.executable, "-m", "wfe", "schedule"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert "scheduling 1 schedules of workflows" in process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.rstrip().endswith("stopped")
    assert "Traceback" not in err


def test_serve_with_schedule_starts_due_slots(project: Path) -> None:
    pytest.importorskip("uvicorn")
    _write(project)
    process = subprocess.Popen([sys.executable, "-m", "wfe", "serve", "--schedule", "--port",
                                "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # SIGTERM is the server's to handle once it listens
            if "wfe serve: listening on" in line:
                break
        deadline = time.monotonic() + 60
        while not (_store().exists() and _runs()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_runs()) >= 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM  # as `wfe serve` ends on SIGTERM


def test_the_keep_policy_prunes_old_runs(project: Path) -> None:
    _write(project)
    assert _wfe("schedule", "--once").returncode == 0
    _wait_until_finished()
    with sqlite3.connect(_store()) as conn:
        conn.execute("UPDATE runs SET finished_at = finished_at - 3 * 86400")
    (project / "pyproject.toml").write_text('[tool.wfe]\nkeep = "2d"\n')
    _move_slots_back(1)
    pruned = _wfe("schedule", "--once")
    assert "pruned 1 finished runs older than [tool.wfe] keep" in pruned.stdout
    assert all(r["status"] == "running" or r["status"] == "succeeded" for r in _runs())
    assert len(_runs()) == pruned.stdout.count("started run")


@pytest.mark.parametrize(("schedule", "message"), [
    ('{cron: "61 * * * *"}', "tick.yaml:4:18: error[WFE011]: schedule.cron: cron '61 * * * *' "
                             "does not parse: Bad minute"),
    ('[{cron: "0 6 * * *"}, {cron: "0 7 * * *", timezone: Europe/Pariss}]',
     "tick.yaml:4:63: error[WFE011]: schedule[1].timezone: unknown time zone 'Europe/Pariss'"),
    ('{cron: "0 6 * * *", inputs: {whom: x}}',
     "tick.yaml:4:46: error[WFE050]: state key 'whom' is not declared under `state:`"),
    ('{cron: "0 6 * * *", overlap: wait}',
     "tick.yaml:4:40: error[WFE011]: schedule.overlap: input should be 'skip', 'queue' or"),
])
def test_a_schedule_that_does_not_parse_is_a_validation_error_at_its_position(
        project: Path, schedule: str, message: str) -> None:
    text = EVERY_MINUTE.replace('{cron: "* * * * *", inputs: {who: "cron été"}, OVERLAP}',
                                schedule)
    _write(project, text=text)
    checked = _wfe("validate", "workflows/tick.yaml")
    assert checked.returncode == 2
    assert message in checked.stdout, checked.stdout
    assert _wfe("schedule", "--once").returncode == 2


def test_no_workflow_with_a_schedule_is_a_usage_error(project: Path) -> None:
    _write(project, text="\n".join(line for line in EVERY_MINUTE.split("\n")
                                    if not line.startswith("schedule:")))
    result = _wfe("schedule", "--once")
    assert result.returncode == 2
    assert "no workflow in workflows has a `schedule:`" in result.stderr


def test_a_keep_that_does_not_parse_is_a_usage_error(project: Path) -> None:
    _write(project)
    (project / "pyproject.toml").write_text('[tool.wfe]\nkeep = "a month"\n')
    result = _wfe("schedule")
    assert result.returncode == 2
    assert "[tool.wfe] keep: 'a month' is not an age such as 30d" in result.stderr
    assert "Traceback" not in result.stderr
