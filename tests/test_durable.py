"""Durable runs from the command line: stored, shown, resumed, paused, cancelled, detached."""

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

runner = CliRunner()

COUNTER = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 3}
  error: any
nodes:
  inc:
    tool: inc
    next:
      - when: i < n
        then: inc
      - then: end
"""

TOOLS = """
import os, pathlib, time

def _effect(name):
    log = os.environ.get("WFE_TEST_EFFECTS")
    if log:
        with open(log, "a") as stream:
            stream.write(name + "\\n")

@tool
def inc(i: int, ctx) -> dict:
    _effect(f"inc:{ctx.idempotency_key}")
    time.sleep(float(os.environ.get("WFE_TEST_DELAY", "0")))
    if pathlib.Path(os.environ.get("WFE_TEST_FAIL_AT", "/nonexistent")).exists() and i == 2:
        raise RuntimeError("the disk is on fire")
    return {"i": i + 1}
"""

APPROVAL = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  approved: bool
  note: {type: str, default: ""}
nodes:
  inc: {tool: inc, next: approve}
  approve:
    interrupt:
      message: Ship it?
      expects: {approved: bool, note: str}
    next:
      - {when: approved, then: inc2}
      - then: end
  inc2: {tool: inc}
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def wfe_process(*args: object, env: dict[str, str] | None = None, **kw):
    return subprocess.Popen([sys.executable, "-m", "wfe", *map(str, args)],
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def runs_json() -> list[dict]:
    return json.loads(invoke("runs", "--json").stdout)


def show_json(run_id: str) -> dict:
    result = invoke("show", run_id, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_run_is_stored_with_its_steps_and_events(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    assert invoke("run", path, "--quiet").exit_code == 0
    [run] = runs_json()
    assert run["status"] == "succeeded" and run["steps"] == 3
    shown = show_json(run["run_id"])
    assert [s["node"] for s in shown["steps"]] == ["inc", "inc", "inc"]
    assert shown["state"] == {"i": 3, "n": 3}
    lines = invoke("logs", run["run_id"], "--json").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["event"] == "run_finished"


def test_no_store_keeps_no_record(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    assert invoke("run", path, "--quiet", "--no-store").exit_code == 0
    assert not Path(os.environ["WFE_STORE"]).exists()


def test_a_failed_run_resumes_from_its_last_committed_step(write_workflow, tmp_path, monkeypatch):
    path = write_workflow(COUNTER, TOOLS)
    fail_flag, effects = tmp_path / "fail", tmp_path / "effects.log"
    fail_flag.touch()
    monkeypatch.setenv("WFE_TEST_FAIL_AT", str(fail_flag))
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(effects))
    first = invoke("run", path, "--quiet")
    assert first.exit_code == 1 and "the disk is on fire" in first.stderr
    [run] = runs_json()
    assert run["status"] == "failed"
    fail_flag.unlink()
    resumed = invoke("resume", run["run_id"][:8], "--quiet", "--output", tmp_path / "out.json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((tmp_path / "out.json").read_text())["i"] == 3
    keys = effects.read_text().split()
    # steps 1 and 2 committed once; step 3 failed once and ran again on resume
    rid = run["run_id"]
    assert keys == [f"inc:{rid}:inc:1", f"inc:{rid}:inc:2", f"inc:{rid}:inc:3",
                    f"inc:{rid}:inc:3"]


def test_interrupt_pauses_with_exit_3_and_resume_continues(write_workflow):
    path = write_workflow(APPROVAL, TOOLS)
    first = invoke("run", path, "--quiet")
    assert first.exit_code == 3
    assert "waiting at 'approve': Ship it?" in first.stderr
    [run] = runs_json()
    assert run["status"] == "waiting"
    missing = invoke("resume", run["run_id"], "-i", "approved=true")
    assert missing.exit_code == 2 and "note (str)" in missing.stderr
    wrong = invoke("resume", run["run_id"], "-i", "approved=maybe", "-i", "note=x")
    assert wrong.exit_code == 2 and "expected bool" in wrong.stderr
    done = invoke("resume", run["run_id"], "-i", "approved=true", "-i", "note=ok", "--quiet")
    assert done.exit_code == 0, done.output
    shown = show_json(run["run_id"])
    assert shown["status"] == "succeeded"
    assert shown["state"] == {"i": 2, "approved": True, "note": "ok"}
    assert [s["node"] for s in shown["steps"]] == ["inc", "approve", "inc2"]


def test_resume_refuses_a_changed_workflow_unless_forced(write_workflow):
    path = write_workflow(APPROVAL, TOOLS)
    invoke("run", path, "--quiet")
    [run] = runs_json()
    path.write_text(path.read_text().replace("Ship it?", "Ship it now?"))
    refused = invoke("resume", run["run_id"], "-i", "approved=false", "-i", "note=n")
    assert refused.exit_code == 2 and "changed since run" in refused.stderr
    forced = invoke("resume", run["run_id"], "-i", "approved=false", "-i", "note=n", "--force",
                    "--quiet")
    assert forced.exit_code == 0, forced.output


def test_resume_of_a_succeeded_run_is_refused(write_workflow):
    invoke("run", write_workflow(COUNTER, TOOLS), "--quiet")
    [run] = runs_json()
    result = invoke("resume", run["run_id"])
    assert result.exit_code != 0 and "succeeded" in result.stderr


def test_resume_from_a_node_starts_a_linked_run_with_the_state_there(write_workflow, tmp_path):
    path = write_workflow(APPROVAL, TOOLS)
    invoke("run", path, "--quiet")
    [old] = runs_json()
    out = tmp_path / "state.json"
    result = invoke("resume", old["run_id"], "--from", "inc", "--quiet", "--output", out)
    assert result.exit_code == 3  # it reaches the approval again
    new = next(r for r in runs_json() if r["run_id"] != old["run_id"])
    assert new["parent_run_id"] == old["run_id"]
    assert show_json(new["run_id"])["state"]["i"] == 1


@pytest.mark.parametrize("prefix", ["zzzz", "1"])
def test_unknown_run_id_is_a_clear_error(prefix, write_workflow):
    invoke("run", write_workflow(COUNTER, TOOLS), "--quiet")
    result = invoke("show", prefix)
    assert result.exit_code == 2
    assert f"no run '{prefix}'" in result.stderr
    assert "Traceback" not in result.output


def test_ambiguous_prefix_lists_the_candidates(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    invoke("run", path, "--quiet")
    invoke("run", path, "--quiet")
    result = invoke("show", "0")
    assert result.exit_code == 2 and "matches 2 runs" in result.stderr


def test_cancel_stops_a_running_run_at_a_step_boundary(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    process = wfe_process("run", path, "-i", "n=200", "--quiet",
                          env={"WFE_TEST_DELAY": "0.05"})
    run_id = _wait_for_run()
    assert invoke("cancel", run_id[:10]).exit_code == 0
    assert process.wait(timeout=20) == 1
    shown = show_json(run_id)
    assert shown["status"] == "cancelled" and shown["state"]["i"] < 200


@pytest.mark.parametrize(("sig", "code"),
                         [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)])
def test_a_stopped_run_shows_interrupted_and_resumes_to_the_same_end(write_workflow, tmp_path,
                                                                       monkeypatch, sig, code):
    path = write_workflow(COUNTER, TOOLS)
    effects = tmp_path / "effects.log"
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(effects))
    process = wfe_process("run", path, "-i", "n=30", "--quiet", env={"WFE_TEST_DELAY": "0.4"})
    _wait_for_lines(effects, 3)  # steps 1 and 2 are done; the tool of step 3 is running
    process.send_signal(sig)
    assert process.wait(timeout=20) == code
    assert "Traceback" not in process.stderr.read()
    [run] = runs_json()
    shown = show_json(run["run_id"])
    assert shown["status"] == "interrupted"
    assert [s["step"] for s in shown["steps"]] == [1, 2]  # the last finished step is persisted
    resumed = invoke("resume", run["run_id"], "--quiet", "--output", tmp_path / "out.json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((tmp_path / "out.json").read_text())["i"] == 30
    keys = effects.read_text().split()
    # Only the step in flight ran again, with the same idempotency key.
    assert keys == [f"inc:{run['run_id']}:inc:{n}" for n in (1, 2, 3, *range(3, 31))]


def _wait_for_lines(path: Path, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and len(path.read_text().splitlines()) >= count):
        assert time.monotonic() < deadline, f"{path} never reached {count} lines"
        time.sleep(0.01)


def test_ctrl_c_stops_at_once_with_exit_130_and_leaves_the_run_resumable(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    process = wfe_process("run", path, "-i", "n=30", "--quiet", env={"WFE_TEST_DELAY": "0.3"})
    run_id = _wait_for_run(min_steps=1)
    time.sleep(0.1)
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 130
    assert time.monotonic() - began < 3  # it did not sit out the remaining steps
    assert "Traceback" not in process.stderr.read()
    assert show_json(run_id)["status"] == "interrupted"


def test_detach_prints_the_id_and_logs_follow_streams_to_the_end(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    started = time.perf_counter()
    detached = invoke("run", path, "-i", "n=5", "--detach")
    assert detached.exit_code == 0, detached.output
    run_id = detached.stdout.strip()
    assert len(run_id) == 14
    followed = subprocess.run([sys.executable, "-m", "wfe", "logs", run_id, "--follow", "--json"],
                              capture_output=True, text=True, timeout=60, env={**os.environ})
    events = [json.loads(line) for line in followed.stdout.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "succeeded"
    assert time.perf_counter() - started < 60


def test_logs_follow_of_a_resumed_run_goes_past_its_earlier_pause(write_workflow):
    path = write_workflow(APPROVAL, TOOLS)
    assert invoke("run", path, "--quiet").exit_code == 3
    [run] = runs_json()
    resumed = wfe_process("resume", run["run_id"], "-i", "approved=true", "-i", "note=ok",
                          "--quiet", env={"WFE_TEST_DELAY": "1.5"})
    deadline = time.monotonic() + 30
    while runs_json()[0]["status"] != "running":
        assert time.monotonic() < deadline and resumed.poll() is None, "resume never started"
        time.sleep(0.02)
    followed = subprocess.run([sys.executable, "-m", "wfe", "logs", run["run_id"], "--follow",
                               "--json"], capture_output=True, text=True, timeout=60)
    assert resumed.wait(timeout=60) == 0
    finished = [json.loads(line) for line in followed.stdout.splitlines()
                if json.loads(line)["event"] == "run_finished"]
    assert [e["status"] for e in finished] == ["waiting", "succeeded"]


def test_graph_run_annotates_visits(write_workflow):
    path = write_workflow(COUNTER, TOOLS)
    invoke("run", path, "--quiet")
    [run] = runs_json()
    document = json.loads(invoke("graph", path, "--format", "json", "--run", run["run_id"]).stdout)
    node = next(n for n in document["nodes"] if n["id"] == "inc")
    assert node["visits"] == 3


def _wait_for_run(min_steps: int = 1, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = invoke("runs", "--json")
        if result.exit_code == 0:
            runs = json.loads(result.stdout)
            if runs and runs[0]["steps"] >= min_steps:
                return str(runs[0]["run_id"])
        time.sleep(0.05)
    raise AssertionError("the run never started")


def test_terminal_prompt_asks_until_each_value_fits(monkeypatch, capsys):
    from wfe.cli.prompt import prompt_for

    answers = iter(["maybe", "yes", "true", "fine"])
    monkeypatch.setattr("builtins.input", lambda _prompt: next(answers))
    values = prompt_for("approve", "Ship it?", {"approved": "bool", "note": "str"})
    assert values == {"approved": True, "note": "fine"}
    assert "expected bool" in capsys.readouterr().err


def test_terminal_prompt_gives_up_at_end_of_input(monkeypatch):
    from wfe.cli.prompt import prompt_for

    def closed(_prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", closed)
    assert prompt_for("approve", "", {"approved": "bool"}) is None


MAPPED = """
imports: [TOOLS]
state:
  numbers: {type: "list[int]", default: [1, 2, 3]}
  doubled: "list[int]"
nodes:
  each: {map: numbers, as: n, tool: double, concurrency: 2, collect: doubled}
"""


def test_show_lists_the_records_of_a_maps_items(write_workflow):
    path = write_workflow(MAPPED, "@tool\nasync def double(n: int) -> int:\n    return 2 * n\n")
    assert invoke("run", path, "--quiet").exit_code == 0
    [run] = runs_json()
    shown = show_json(run["run_id"])
    assert shown["state"]["doubled"] == [2, 4, 6]
    [step] = shown["steps"]
    assert [item["status"] for item in step["items"]] == ["succeeded"] * 3
    text = invoke("show", run["run_id"]).stdout
    assert "items: 3 succeeded" in text


@pytest.mark.parametrize("args", [["--status", "finished"], ["--limit", "0"]])
def test_runs_rejects_bad_filters(args):
    result = invoke("runs", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_runs_filters_by_status(write_workflow):
    invoke("run", write_workflow(COUNTER, TOOLS), "--quiet")
    assert json.loads(invoke("runs", "--status", "failed", "--json").stdout) == []
    assert len(json.loads(invoke("runs", "--status", "succeeded", "--json").stdout)) == 1
