"""An `interrupt` inside a subgraph: the parent run waits (exit 3), `wfe resume -i` answers it,
and the child goes on from where it stopped, then the parent."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe import Workflow
from wfe.cli import app

runner = CliRunner()

TOOLS = """
import os
from wfe import tool

def _effect(name):
    with open(os.environ["WFE_TEST_EFFECTS"], "a") as stream:
        stream.write(name + "\\n")

@tool
def prepare(x: int) -> dict:
    _effect("prepare")
    return {"y": x * 10}

@tool
def finish(y: int, approved: bool) -> dict:
    _effect("finish")
    return {"y": y + 1 if approved else 0}

@tool
def report(result: int) -> dict:
    _effect("report")
    return {"result": result * 2}
"""

CHILD = """
imports: [pause_tools]
state:
  x: int
  y: int
  approved: bool
nodes:
  prepare: {tool: prepare, next: approve}
  approve:
    interrupt: {message: Ship it?, expects: {approved: bool}}
    next: finish
  finish: {tool: finish}
"""

MIDDLE = """
state:
  x: int
  y: int
nodes:
  inner:
    workflow: child.yaml
    inputs: {x: x}
    outputs: {y: y}
"""

PARENT = """
imports: [pause_tools]
state:
  n: {type: int, default: 4}
  result: int
nodes:
  check:
    workflow: CHILD_FILE
    inputs: {x: n}
    outputs: {result: y}
    next: report
  report: {tool: report}
"""


@pytest.fixture
def effects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder holds the workflows and their tools; returns the file tools log calls to."""
    (tmp_path / "pause_tools.py").write_text(textwrap.dedent(TOOLS))
    (tmp_path / "child.yaml").write_text(CHILD)
    (tmp_path / "middle.yaml").write_text(MIDDLE)
    for child in ("child", "middle"):
        parent = PARENT.replace("CHILD_FILE", f"{child}.yaml")
        (tmp_path / f"parent_{child}.yaml").write_text(parent)
    log = tmp_path / "effects.log"
    log.touch()
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(log))
    return log


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def only_run() -> dict:
    [run] = json.loads(invoke("runs", "--json").stdout)
    return dict(run)


@pytest.mark.parametrize(("child", "waits_at"), [("child", "check/approve"),
                                                 ("middle", "check/inner/approve")])
def test_the_parent_waits_for_the_child_s_interrupt(effects, tmp_path, child, waits_at):
    first = invoke("run", tmp_path / f"parent_{child}.yaml", "--quiet")
    assert first.exit_code == 3, first.output
    assert f"waiting at '{waits_at}': Ship it?" in first.stderr
    assert "-i approved=..." in first.stderr
    assert only_run()["status"] == "waiting"


@pytest.mark.parametrize("child", ["child", "middle"])
def test_resume_answers_the_child_and_continues_it_then_the_parent(effects, tmp_path, child):
    invoke("run", tmp_path / f"parent_{child}.yaml", "--quiet")
    run_id = only_run()["run_id"]
    done = invoke("resume", run_id, "-i", "approved=true", "--quiet")
    assert done.exit_code == 0, done.output
    shown = json.loads(invoke("show", run_id, "--json").stdout)
    assert shown["status"] == "succeeded"
    assert shown["state"] == {"n": 4, "result": 82}
    assert [step["node"] for step in shown["steps"]] == ["check", "report"]
    # The child went on from its interrupt: what it did before is not done again.
    assert effects.read_text().split() == ["prepare", "finish", "report"]


def test_the_waiting_event_names_the_child_s_interrupt_and_what_it_expects(effects, tmp_path):
    result = invoke("run", tmp_path / "parent_child.yaml", "--json")
    [waiting] = [e for e in map(json.loads, result.stdout.splitlines())
                 if e["event"] == "run_waiting"]
    assert {k: waiting[k] for k in ("node", "message", "expects")} == {
        "node": "check/approve", "message": "Ship it?", "expects": {"approved": "bool"}}
    assert "within" not in waiting  # the child's state stays in the store


def test_resume_checks_the_answer_against_the_child_s_type(effects, tmp_path):
    invoke("run", tmp_path / "parent_child.yaml", "--quiet")
    run_id = only_run()["run_id"]
    wrong = invoke("resume", run_id, "-i", "approved=maybe")
    assert wrong.exit_code == 2 and "expected bool" in wrong.stderr
    missing = invoke("resume", run_id)
    assert missing.exit_code == 2 and "approved (bool)" in missing.stderr
    assert only_run()["status"] == "waiting"


def test_a_child_changed_while_paused_fails_the_resume_with_one_line(effects, tmp_path):
    invoke("run", tmp_path / "parent_child.yaml", "--quiet")
    run_id = only_run()["run_id"]
    child = tmp_path / "child.yaml"
    renamed = child.read_text().replace("  approve:", "  approval:")
    child.write_text(renamed.replace("next: approve}", "next: approval}"))
    done = invoke("resume", run_id, "-i", "approved=true")
    assert done.exit_code == 1
    assert "child.yaml changed since the run paused: it has no node 'approve'" in done.stderr
    assert "Traceback" not in done.output


def test_a_prompt_answers_the_child_s_interrupt_inline(effects, tmp_path):
    asked = []

    def ask(node: str, message: str, expects: dict[str, str]) -> dict[str, bool]:
        asked.append((node, message, expects))
        return {"approved": True}

    workflow = Workflow.load(tmp_path / "parent_middle.yaml")
    result = asyncio.run(workflow.arun(ask=ask))
    assert result.ok and result.state["result"] == 82
    assert asked == [("check/inner/approve", "Ship it?", {"approved": "bool"})]
