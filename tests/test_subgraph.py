"""`workflow:` nodes: a child workflow as one step, with inputs, outputs, paths and recursion."""

from __future__ import annotations

from pathlib import Path

import pytest

from wfe import Workflow
from wfe.errors import NodeFailed, SpecError

TOOLS = """from wfe import tool

@tool
def double(x: int) -> dict:
    if x < 0:
        raise ValueError(f"negative: {x}")
    return {"y": 2 * x}
"""

CHILD = """
imports: [sub_tools]
state:
  x: int
  y: int
nodes:
  double: {tool: double}
"""

PARENT = """
state:
  n: {type: int, default: 4}
  result: int
  numbers: {type: "list[int]", default: [1, 2, 3]}
  results: list
  error: any
nodes:
  call:
    workflow: child.yaml
    inputs: {x: "n + 1"}
    outputs: {result: y}
    next: each
  each:
    map: numbers
    as: number
    workflow: child.yaml
    inputs: {x: number}
    outputs: {out: y}
    concurrency: 2
    collect: results
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sub_tools.py").write_text(TOOLS)
    (tmp_path / "child.yaml").write_text(CHILD)
    (tmp_path / "parent.yaml").write_text(PARENT)
    return tmp_path


def test_a_subgraph_runs_as_one_step_with_inputs_and_outputs(folder):
    result = Workflow.load(folder / "parent.yaml").run()
    assert result.ok, result.error
    assert result.state["result"] == 10
    assert result.state["results"] == [{"out": 2}, {"out": 4}, {"out": 6}]
    assert result.steps == 2


def test_child_events_carry_the_parent_run_and_a_path(folder):
    events: list[dict] = []
    result = Workflow.load(folder / "parent.yaml").run(listeners=[events.append])
    assert {e["run_id"] for e in events} == {result.run_id}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    started = [e["node"] for e in events if e["event"] == "node_started"]
    assert "call/double" in started and "each[1]/double" in started
    assert [e["event"] for e in events].count("run_finished") == 1


def test_a_failing_child_fails_the_node_or_routes_it(folder):
    parent = (folder / "parent.yaml").read_text()
    (folder / "parent.yaml").write_text(parent.replace('"n + 1"', '"-n"'))
    failed = Workflow.load(folder / "parent.yaml").run()
    assert isinstance(failed.error, NodeFailed) and failed.error.node == "call"
    assert "negative: -4" in str(failed.error)
    routed = parent.replace('"n + 1"', '"-n"').replace("    next: each\n",
                                                       "    next: each\n    on_error: end\n")
    (folder / "parent.yaml").write_text(routed)
    assert Workflow.load(folder / "parent.yaml").run().ok


def test_recursion_is_rejected_at_load(tmp_path):
    (tmp_path / "a.yaml").write_text("nodes:\n  go: {workflow: b.yaml}\n")
    (tmp_path / "b.yaml").write_text("nodes:\n  back: {workflow: a.yaml}\n")
    with pytest.raises(SpecError) as caught:
        Workflow.load(tmp_path / "a.yaml")
    assert "subgraph recursion: a.yaml → b.yaml → a.yaml" in str(caught.value)


def test_a_missing_subgraph_file_is_reported_where_it_is_named(tmp_path):
    (tmp_path / "a.yaml").write_text("nodes:\n  go: {workflow: nope.yaml}\n")
    with pytest.raises(SpecError) as caught:
        Workflow.load(tmp_path / "a.yaml")
    assert ":2:18: error[WFE070]: subgraph nope.yaml: no such file" in str(caught.value)


def test_an_invalid_subgraph_reports_its_own_problems(folder):
    (folder / "child.yaml").write_text(CHILD.replace("tool: double", "tool: duble"))
    with pytest.raises(SpecError) as caught:
        Workflow.load(folder / "parent.yaml")
    text = str(caught.value)
    assert "child.yaml:7:18: error[WFE030]: unknown tool 'duble'" in text
    assert "error[WFE070]: subgraph child.yaml is invalid (1 problem" in text


def test_inputs_and_outputs_must_name_keys_the_child_has(folder):
    parent = (folder / "parent.yaml").read_text()
    (folder / "parent.yaml").write_text(parent.replace('{x: "n + 1"}', '{z: "n + 1"}')
                                        .replace("{result: y}", "{result: w}"))
    with pytest.raises(SpecError) as caught:
        Workflow.load(folder / "parent.yaml")
    assert "the subgraph has no state key 'z'" in str(caught.value)
    assert "the subgraph has no state key 'w'" in str(caught.value)
