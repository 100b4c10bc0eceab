"""Interrupt timeouts: `interrupt: {timeout, on_timeout}`, honoured inline, by `wfe resume`
without `-i` once due, and by `wfe schedule` / `wfe serve --schedule`, which wake due runs."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.store import Store

runner = CliRunner()

TOOLS = """
@tool
def note(what: str) -> dict:
    return {"log": what}
"""

ASK = """
imports: [TOOLS]
state:
  ok: {type: bool, default: false}
  log: {type: "list[str]", reduce: append, default: []}
nodes:
  approve:
    interrupt: {message: ship it?, expects: {ok: bool}, timeout: TIMEOUT, on_timeout: late}
    next: shipped
  shipped: {tool: note, with: {what: shipped}, next: end}
  late: {tool: note, with: {what: late}}
"""


def flow(write_workflow, timeout: str = "1s", on_timeout: bool = True) -> Path:
    yaml = ASK.replace("TIMEOUT", timeout)
    if not on_timeout:
        yaml = yaml.replace(", on_timeout: late", "").replace("  late: {tool: note, with: "
                                                              "{what: late}}\n", "")
    return write_workflow(yaml, TOOLS)


def waiting_run(path: Path) -> tuple[str, float]:
    started = runner.invoke(app, ["run", str(path), "--quiet"])
    assert started.exit_code == 3, started.output
    record = only_run()
    deadline = record.waiting["deadline"]
    assert isinstance(deadline, float)
    return record.run_id, deadline


def only_run():
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
        return record


def until(deadline: float) -> None:
    while time.time() <= deadline:
        time.sleep(max(0.01, deadline - time.time()))


def shown(run_id: str) -> dict:
    return json.loads(runner.invoke(app, ["show", run_id, "--json"]).stdout)


def test_the_deadline_is_committed_with_the_waiting_entry_and_does_not_move(write_workflow):
    run_id, deadline = waiting_run(flow(write_workflow, "1h"))
    early = runner.invoke(app, ["resume", run_id, "--quiet"])
    assert early.exit_code == 3
    assert "times out at" in early.stderr
    assert only_run().waiting["deadline"] == deadline


def test_a_due_run_resumed_without_answers_takes_on_timeout(write_workflow):
    run_id, deadline = waiting_run(flow(write_workflow))
    until(deadline)
    resumed = runner.invoke(app, ["resume", run_id, "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    record = shown(run_id)
    assert record["state"]["log"] == ["late"]
    assert [s["node"] for s in record["steps"]] == ["approve", "late"]


def test_a_due_run_without_on_timeout_fails_saying_why(write_workflow):
    run_id, deadline = waiting_run(flow(write_workflow, on_timeout=False))
    until(deadline)
    resumed = runner.invoke(app, ["resume", run_id, "--quiet"])
    assert resumed.exit_code == 1
    assert "no answer within the interrupt's timeout (1 s)" in resumed.stderr
    assert shown(run_id)["error"]["type"] == "AnswerTimeout"


def test_an_answer_given_with_resume_wins_even_after_the_deadline(write_workflow):
    run_id, deadline = waiting_run(flow(write_workflow))
    until(deadline)
    resumed = runner.invoke(app, ["resume", run_id, "-i", "ok=true", "--quiet"])
    assert resumed.exit_code == 0
    assert shown(run_id)["state"] == {"ok": True, "log": ["shipped"]}


def test_wfe_schedule_once_resumes_a_run_whose_timeout_passed(write_workflow, tmp_path):
    run_id, deadline = waiting_run(flow(write_workflow))
    yearly = tmp_path / "yearly.yaml"
    yearly.write_text("schedule: {cron: '0 0 1 1 *'}\nnodes:\n  nap: {wait: 0}\n")
    until(deadline)
    done = runner.invoke(app, ["schedule", str(yearly), "--once"])
    assert done.exit_code == 0, done.output
    assert f"resumed run {run_id}" in done.stdout
    for _ in range(600):
        if only_run().status != "waiting" and only_run().status != "running":
            break
        time.sleep(0.05)
    assert shown(run_id)["state"]["log"] == ["late"]


def test_wfe_schedule_leaves_a_run_that_is_not_due_waiting(write_workflow, tmp_path):
    run_id, _ = waiting_run(flow(write_workflow, "1h"))
    yearly = tmp_path / "yearly.yaml"
    yearly.write_text("schedule: {cron: '0 0 1 1 *'}\nnodes:\n  nap: {wait: 0}\n")
    done = runner.invoke(app, ["schedule", str(yearly), "--once"])
    assert done.exit_code == 0 and run_id not in done.stdout
    assert only_run().status == "waiting"


def test_wfe_serve_with_schedule_wakes_a_run_whose_timeout_passed(write_workflow, tmp_path):
    pytest.importorskip("uvicorn")
    path = flow(write_workflow)
    run_id, _ = waiting_run(path)
    process = subprocess.Popen(
        [sys.executable, "-m", "wfe", "serve", str(path.parent), "--schedule", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if f"resumed run {run_id}" in line:
                break
        for _ in range(600):
            if only_run().status not in ("waiting", "running"):
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert shown(run_id)["state"]["log"] == ["late"]


def test_the_terminal_prompt_gives_up_at_the_deadline_and_takes_on_timeout(write_workflow,
                                                                           tmp_path):
    main, attached = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wfe", "run", str(flow(write_workflow, "0.5s"))],
        stdin=attached, stdout=attached, stderr=attached, cwd=tmp_path, env=os.environ)
    os.close(attached)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert process.wait(timeout=60) == 0
    text = b"".join(chunks).decode()
    assert "no answer in time" in text and "late" in text


@pytest.mark.parametrize(("interrupt", "message"), [
    ("{expects: {ok: bool}, timeout: 1m, on_timeout: latte}", "unknown node 'latte'"),
    ("{expects: {ok: bool}, on_timeout: late}", "on_timeout needs a `timeout:`"),
    ("{expects: {ok: bool}, timeout: soon}", "timeout"),
])
def test_validate_places_a_wrong_timeout_at_its_key(write_workflow, interrupt, message):
    yaml = ("imports: [TOOLS]\nstate:\n  ok: bool\n  log: {type: 'list[str]', reduce: append}\n"
            f"nodes:\n  approve:\n    interrupt: {interrupt}\n"
            "  late: {tool: note, with: {what: late}}\n")
    path = write_workflow(yaml, TOOLS)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:7:" in result.output and message in result.output


def test_the_on_timeout_node_counts_as_reached(write_workflow):
    result = runner.invoke(app, ["validate", str(flow(write_workflow))])
    assert result.exit_code == 0 and "never reached" not in result.output


def test_graph_and_dry_run_show_the_on_timeout_route(write_workflow):
    path = flow(write_workflow, "2m")
    mermaid = runner.invoke(app, ["graph", str(path), "--format", "mermaid"]).stdout
    assert 'n_approve -.->|"on_timeout"| n_late' in mermaid
    plan = runner.invoke(app, ["run", str(path), "--dry-run"]).stdout
    assert "-> late on_timeout after 120 s" in plan
