"""Ctrl-C and SIGTERM at the command line, when a sync tool runs in a worker thread.

A thread cannot be stopped: the run is recorded as interrupted at once, the tool gets a grace
period to return, and a second signal exits at once. (Signals during an inline tool, and SIGKILL,
are in test_durable.py.) Times are guarded generously, never asserted: each test's tool would
otherwise block for far longer than its guard.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.cli.signals import GRACE_SECONDS

THREADED = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
nodes:
  inc:
    tool: inc
    timeout: 600            # a sync tool with a timeout runs in a worker thread
    next:
      - when: i < 6
        then: inc
      - then: end
"""

TOOLS = """
import os, time

@tool
def inc(i: int, ctx) -> dict:
    with open(os.environ["WFE_TEST_EFFECTS"], "a") as log:
        log.write(ctx.idempotency_key + "\\n")
    if i == 2 and os.environ.get("WFE_TEST_BLOCK"):
        time.sleep(300)     # far longer than any guard below
    return {"i": i + 1}
"""

HANG_GUARD = GRACE_SECONDS + 60


def _start(path: Path, effects: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "WFE_TEST_EFFECTS": str(effects), "WFE_TEST_BLOCK": "1"}
    return subprocess.Popen([sys.executable, "-m", "wfe", "run", str(path), "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_lines(path: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while not (path.exists() and len(path.read_text().splitlines()) >= count):
        assert time.monotonic() < deadline, f"{path} never reached {count} lines"
        time.sleep(0.01)


def _stopped_run(write_workflow, tmp_path: Path, signals: list[signal.Signals]
                 ) -> tuple[int, str, str]:
    """Start the run, send `signals` while step 3's tool blocks in its thread; (code, stderr,
    run id)."""
    effects = tmp_path / "effects.log"
    process = _start(write_workflow(THREADED, TOOLS), effects)
    _wait_for_lines(effects, 3)
    for number, sig in enumerate(signals):
        if number:
            _wait_for_text(process, "waiting up to")
        process.send_signal(sig)
    try:
        code = process.wait(timeout=HANG_GUARD)
    finally:
        process.kill()
    stderr = process.stderr.read() if process.stderr else ""
    run_id = json.loads(CliRunner().invoke(app, ["runs", "--json"]).stdout)[0]["run_id"]
    return code, stderr, run_id


def _wait_for_text(process: subprocess.Popen[str], text: str) -> None:
    """Read stderr up to `text` (the second signal must come once the first was handled)."""
    assert process.stderr is not None
    seen = ""
    while text not in seen:
        line = process.stderr.readline()
        assert line, f"stderr ended before {text!r}: {seen}"
        seen += line


def _resumes_to_the_end(run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = json.loads(CliRunner().invoke(app, ["show", run_id, "--json"]).stdout)
    assert shown["status"] == "interrupted"
    assert [step["step"] for step in shown["steps"]] == [1, 2]  # the finished steps are kept
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(tmp_path / "effects.log"))
    out = tmp_path / "out.json"
    resumed = CliRunner().invoke(app, ["resume", run_id, "--quiet", "--output", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(out.read_text()) == {"i": 6}
    keys = (tmp_path / "effects.log").read_text().split()
    assert keys == [f"{run_id}:inc:{n}" for n in (1, 2, 3, 3, 4, 5, 6)]


def test_one_signal_records_the_interruption_and_gives_a_threaded_tool_a_grace_period(
    write_workflow, tmp_path, monkeypatch
):
    # (The grace period is the same for SIGTERM; its exit code is checked below and in
    # test_durable.py.)
    exit_code, stderr, run_id = _stopped_run(write_workflow, tmp_path, [signal.SIGINT])
    assert exit_code == 130
    assert f"interrupted: run {run_id} can be resumed" in stderr
    assert f"waiting up to {GRACE_SECONDS:g} s for a running tool" in stderr
    assert "Traceback" not in stderr
    _resumes_to_the_end(run_id, tmp_path, monkeypatch)


@pytest.mark.parametrize(("signals", "code"), [
    ([signal.SIGINT, signal.SIGINT], 130),
    ([signal.SIGTERM, signal.SIGTERM], 143),
    ([signal.SIGTERM, signal.SIGINT], 130),
])
def test_a_second_signal_exits_at_once_and_the_run_still_resumes(
    write_workflow, tmp_path, monkeypatch, signals, code
):
    exit_code, stderr, run_id = _stopped_run(write_workflow, tmp_path, signals)
    assert exit_code == code
    assert "interrupted again: exiting now" in stderr
    assert "Traceback" not in stderr
    _resumes_to_the_end(run_id, tmp_path, monkeypatch)
