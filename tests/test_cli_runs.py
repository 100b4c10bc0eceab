"""The commands that read and end stored runs: `wfe graph --run`, `runs`, `show`, `cancel`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from wfe.cli import app

runner = CliRunner()

COUNTER = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 2}
nodes:
  inc:
    tool: inc
    next: [{when: i < n, then: inc}]
"""
TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}
"""
OTHER = """
imports: [TOOLS]
state: {i: {type: int, default: 0}}
nodes:
  first: {tool: inc, next: second}
  second: {tool: inc}
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def last_run_id() -> str:
    return str(json.loads(invoke("runs", "--json").stdout)[0]["run_id"])


def test_graph_of_a_run_of_another_workflow_is_an_error_naming_both(write_workflow):
    counter, other = write_workflow(COUNTER, TOOLS), write_workflow(OTHER, TOOLS)
    assert invoke("run", counter, "--quiet").exit_code == 0
    run_id = last_run_id()
    result = invoke("graph", other, "--run", run_id)
    assert result.exit_code == 2
    assert result.stderr == (f"error: --run {run_id} is a run of workflow '{counter.stem}' "
                             f"({counter.resolve()}), not of '{other.stem}' ({other})\n")
    assert invoke("graph", counter, "--run", run_id).exit_code == 0
