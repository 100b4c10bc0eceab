"""`wfe history RUN` shows the state after every step and what it changed; `wfe fork RUN --at
STEP -i k=v` starts a new linked run from the state after STEP, edited, at the node that
followed it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.store import Store

runner = CliRunner()

GROW = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 4}
  seen: {type: "list[int]", reduce: append, default: []}
nodes:
  grow:
    tool: grow
    next: [{when: i < n, then: grow}, {then: done}]
  done:
    tool: finish
"""
TOOLS = """
@tool
def grow(i: int) -> dict:
    return {"i": i + 1, "seen": i * 10}

@tool
def finish(seen: list) -> dict:
    return {"n": len(seen)}
"""


@pytest.fixture
def run_id(write_workflow: Any) -> str:
    result = runner.invoke(app, ["run", str(write_workflow(GROW, TOOLS)), "-q"])
    assert result.exit_code == 0, result.output
    with Store.open(os.environ["WFE_STORE"]) as store:
        return store.list_runs()[0].run_id


def _stored(run: str) -> tuple[Any, ...]:
    with Store.open(os.environ["WFE_STORE"]) as store:
        record = store.get_run(run)
        return record.status, record.state, record.visits, record.step, record.parent_run_id


def test_history_json_has_the_state_after_every_step(run_id: str) -> None:
    result = runner.invoke(app, ["history", run_id[:8], "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["step"], line["node"], line["updates"]) for line in lines] == [
        (0, None, {}), (1, "grow", {"i": 1, "seen": 0}), (2, "grow", {"i": 2, "seen": 10}),
        (3, "grow", {"i": 3, "seen": 20}), (4, "grow", {"i": 4, "seen": 30}),
        (5, "done", {"n": 4})]
    assert [line["state"]["seen"] for line in lines] == [
        [], [0], [0, 10], [0, 10, 20], [0, 10, 20, 30], [0, 10, 20, 30]]
    assert lines[-1]["state"] == _stored(run_id)[1]


def test_history_on_a_terminal_shows_what_each_step_changed(run_id: str) -> None:
    result = runner.invoke(app, ["history", run_id])
    assert result.exit_code == 0, result.output
    assert "step 0  start  -> grow\n  + i: 0\n  + n: 4\n  + seen: []\n" in result.stdout
    assert "step 2  grow  succeeded" in result.stdout
    assert "  ~ i: 1 -> 2\n  ~ seen: [0] -> [0, 10]\n" in result.stdout
    assert "  ~ n: 4 -> 4" not in result.stdout  # unchanged: not shown


@pytest.mark.parametrize(("at", "edits", "state", "visits", "last"), [
    (2, ["-i", "i=3"], {"i": 4, "n": 3, "seen": [0, 10, 30]}, {"grow": 3, "done": 1}, 4),
    (0, [], {"i": 4, "n": 4, "seen": [0, 10, 20, 30]}, {"grow": 4, "done": 1}, 5),
    (4, ["-i", "seen=[7]"], {"i": 4, "n": 1, "seen": [7]}, {"grow": 4, "done": 1}, 5),
], ids=["mid-run, edited", "from the start", "last step of a loop, list replaced"])
def test_fork_runs_from_the_state_after_the_step(run_id: str, at: int, edits: list[str],
                                                 state: dict[str, Any], visits: dict[str, int],
                                                 last: int) -> None:
    result = runner.invoke(app, ["fork", run_id, "--at", str(at), *edits, "-q"])
    assert result.exit_code == 0, result.output
    forked = result.stderr.split()[1].rstrip(":")
    assert result.stderr.startswith(f"run {forked}: from run {run_id} after step {at}")
    assert _stored(forked) == ("succeeded", state, visits, last, run_id)


@pytest.mark.parametrize(("args", "message"), [
    (["--at", "9"], "--at 9: run RUN has no step 9 (its steps are 0 to 5)"),
    (["--at", "-1"], "--at -1: run RUN has no step -1"),
    (["--at", "2", "-i", "nope=1"], "unknown input 'nope'"),
    (["--at", "2", "-i", "i=many"], "state key 'i' must be int"),
], ids=["past the end", "negative", "unknown key", "wrong type"])
def test_fork_refuses_a_step_or_value_it_cannot_use(run_id: str, args: list[str],
                                                    message: str) -> None:
    result = runner.invoke(app, ["fork", run_id, *args])
    assert result.exit_code == 2
    assert message.replace("RUN", run_id) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["history", "nope"], ["fork", "nope", "--at", "1"]])
def test_an_unknown_run_is_one_line_and_exit_2(run_id: str, command: list[str],
                                               tmp_path: Path) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no run 'nope'"
