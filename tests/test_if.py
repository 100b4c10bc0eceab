"""`if:` on a node: when false the node is skipped, its `next` followed as usual."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.engine.memory_journal import MemoryJournal
from wfe.errors import StepLimitExceeded
from wfe.render import make_renderer
from wfe.render._model import RunModel

runner = CliRunner()

FLOW = """
state:
  fast: {type: bool, default: true}
  i: {type: int, default: 0}
nodes:
  slow:
    if: not fast
    wait: 0
    next:
      - when: i == 0
        then: zero
      - then: other
  zero: {wait: 0}
  other: {wait: 0}
"""


def test_a_false_if_skips_the_node_and_follows_its_first_matching_branch(make_workflow):
    events: list[dict] = []
    result = make_workflow(FLOW).run(listeners=[events.append])
    assert result.status == "succeeded"
    kinds = [(e["event"], e.get("node") or e.get("to")) for e in events[1:-1]]
    assert kinds == [("node_skipped", "slow"), ("edge", "zero"), ("node_started", "zero"),
                     ("node_finished", "zero"), ("edge", "end")]
    assert events[1]["step"] == 1


def test_a_true_if_runs_the_node(make_workflow):
    events: list[dict] = []
    make_workflow(FLOW).run({"fast": False}, listeners=[events.append])
    assert "node_skipped" not in [e["event"] for e in events]
    assert any(e["event"] == "node_started" and e["node"] == "slow" for e in events)


def test_a_skip_takes_a_step_but_is_not_a_visit(make_workflow):
    result = make_workflow(FLOW).run()
    assert result.visits == {"zero": 1}
    assert result.steps == 2


def test_a_skip_is_committed_as_a_step(make_workflow):
    journal = MemoryJournal()
    make_workflow(FLOW).run(journal=journal)
    assert [(s.node, s.outcome, s.next_node) for s in journal.steps] == [
        ("slow", "skipped", "zero"), ("zero", "succeeded", "end")]


def test_nodes_that_skip_each_other_forever_stop_at_max_steps(make_workflow):
    result = make_workflow("""
limits: {max_steps: 50}
state:
  go: {type: bool, default: false}
nodes:
  a: {if: go, wait: 0, next: b}
  b:
    if: go
    wait: 0
    next: [{when: "not go", then: a}, {then: end}]
""").run()
    assert isinstance(result.error, StepLimitExceeded)


def test_an_if_that_cannot_be_evaluated_fails_the_run_naming_the_node(make_workflow):
    result = make_workflow("""
state:
  items: {type: list, default: []}
nodes:
  a: {if: "items[3] > 1", wait: 0}
""").run()
    assert result.status == "failed"
    assert result.error.node == "a" and "if `items[3] > 1`" in result.error.message


@pytest.mark.parametrize(("guard", "message"), [
    ("i", "WFE042"),
    ("fats", "unknown name 'fats'"),
    ("i >", "syntax error"),
])
def test_a_bad_if_is_refused_at_its_position(write_workflow, guard, message):
    path = write_workflow("state:\n  i: int\n  fast: bool\nnodes:\n"
                          f"  a: {{wait: 0, if: '{guard}'}}\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:5:" in result.output and message in result.output


def test_plain_output_and_the_live_view_show_a_skipped_node(make_workflow):
    stream = io.StringIO()
    events: list[dict] = []
    make_workflow(FLOW).run(listeners=[make_renderer("plain", stream=stream), events.append])
    assert "slow skipped, its `if` is false (step 1)" in stream.getvalue()
    model = RunModel.for_nodes("flow", ["slow", "zero", "other"])
    for event in events:
        model.apply(event, 0.0)
    assert [view.status for view in model.nodes.values()] == ["skipped", "succeeded", "pending"]


def test_show_and_graph_run_mark_skipped_nodes(write_workflow):
    path = write_workflow(FLOW)
    assert runner.invoke(app, ["run", str(path), "--quiet"]).exit_code == 0
    [run] = json.loads(runner.invoke(app, ["runs", "--json"]).stdout)
    shown = runner.invoke(app, ["show", run["run_id"]]).stdout
    assert "slow" in shown and "skipped" in shown
    drawn = runner.invoke(app, ["graph", str(path), "--run", run["run_id"], "--format", "json"])
    nodes = {node["id"]: node for node in json.loads(drawn.stdout)["nodes"]}
    assert (nodes["slow"]["visits"], nodes["slow"]["skipped"]) == (0, 1)
    tree = runner.invoke(app, ["graph", str(path), "--run", run["run_id"]]).stdout
    assert "\N{MULTIPLICATION SIGN}0 · 1 skipped" in tree


def test_the_dry_run_and_the_schema_show_if(write_workflow):
    plan = runner.invoke(app, ["run", str(write_workflow(FLOW)), "--dry-run"]).stdout
    assert "  slow: wait 0 s\n    if not fast\n" in plan
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert schema["$defs"]["WaitNode"]["properties"]["if"]["type"] == "string"
