"""Node kinds: one module each, one table, and what the rest of wfe asks of them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.nodes import KINDS
from wfe.spec.models import NodeCommon

runner = CliRunner()

TOOLS = """
@tool
def lint() -> dict:
    return {}

@tool
def test() -> dict:
    return {}

@tool
def one(item: int) -> int:
    return item
"""


def test_every_kind_has_a_record_of_its_own_keys_beside_the_common_ones():
    assert list(KINDS) == ["tool", "parallel", "map", "workflow", "interrupt", "wait", "fail"]
    for name, kind in KINDS.items():
        assert issubclass(kind.record, NodeCommon)
        assert name in kind.own_keys  # the key that makes a node of the kind is its own
        assert set(kind.record.fields) == set(NodeCommon.fields) | kind.own_keys \
            | kind.borrowed_keys


@pytest.mark.parametrize(("node", "described"), [
    ("{tool: lint}", "check: tool lint"),
    ("{parallel: {a: {tool: lint}, b: {tool: test}}}",
     "check: parallel 2 branches (a, b), join all"),
    ("{parallel: {a: {tool: lint}, b: {tool: test}}, join: any}",
     "check: parallel 2 branches (a, b), join any"),
    ("{map: '[1, 2]', tool: one, concurrency: 2}",
     "check: map over `[1, 2]` as item, tool one per item, 2 at once"),
    ("{map: '[1, 2]', tool: one, concurrency: 2, tolerate: '50%'}",
     "check: map over `[1, 2]` as item, tool one per item, 2 at once, tolerate 50% failed"),
    ("{parallel: {a: {tool: lint}, b: {tool: test}}, tolerate: 1}",
     "check: parallel 2 branches (a, b), join all, tolerate 1 failed"),
    ("{interrupt: {message: Go on?}}", "check: interrupt Go on?"),
    ("{interrupt: {}}", "check: interrupt a person's input"),
    ("{wait: 90s}", "check: wait 90 s"),
    ("{wait: '${ 2 * 3 }'}", "check: wait ${ 2 * 3 }"),
    ("{fail: 'too low: ${ 1 + 1 }'}", "check: fail too low: ${ 1 + 1 }"),
])
def test_dry_run_describes_each_kind(write_workflow, node, described):
    path = write_workflow(f"imports: [TOOLS]\nnodes:\n  check: {node}\n", TOOLS)
    result = runner.invoke(app, ["run", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"  {described}\n" in result.stdout


@pytest.mark.parametrize(("fmt", "shown"), [
    ("tree", "check · wait: 90 s"), ("mermaid", "check<br>wait: 90 s"),
    ("dot", "wait: 90 s"), ("json", '"kind": "wait"'),
])
def test_graph_shows_what_a_wait_node_does(write_workflow, fmt, shown):
    path = write_workflow("nodes:\n  check: {wait: 90s}\n")
    result = runner.invoke(app, ["graph", str(path), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert shown in result.stdout


@pytest.mark.parametrize(("node", "is_call"), [
    ("{tool: lint}", True),
    ("{tool: lint, retry: {attempts: 2}, cache: true, timeout: 5s}", True),
    ("{map: '[1, 2]', tool: one}", False),
    ("{parallel: {a: {tool: lint}, b: {tool: test}}}", False),
    ("{wait: 1s}", False),
    ("{fail: no}", False),
    ("{interrupt: {}}", False),
])
def test_only_a_tool_node_is_run_as_the_engines_own_call(write_workflow, node, is_call):
    """The engine's fast path skips the kind for `is_call` nodes: any other kind must keep
    running through its own NodeKind.run."""
    from wfe import Workflow

    path = write_workflow(f"imports: [TOOLS]\nnodes:\n  check: {node}\n", TOOLS)
    assert Workflow.load(path).graph.nodes["check"].is_call is is_call


HALF_ADDED = '''
from typing import Any

from wfe.graph.model import GraphNode
from wfe.nodes import NodeKind
from wfe.nodes._base import KindBase
from wfe.spec.models import NodeCommon


class PauseNode(NodeCommon):
    pass


class PauseKind(KindBase):
    name = "pause"
    record = PauseNode

    def compile(self, compiler: Any, compiled: GraphNode, node: PauseNode,
                path: Any) -> GraphNode:
        return compiled
{run}

KINDS: tuple[NodeKind[Any], ...] = (PauseKind(),)
'''
RUN = '''
    async def run(self, run: Any, node: GraphNode) -> tuple[int, dict[str, Any]]:
        return 1, {}

    def describe(self, node: GraphNode) -> str:
        return "pause"
'''


@pytest.mark.parametrize(("run", "complete"), [(RUN, True), ("", False)],
                         ids=["a whole kind", "a kind without its run step"])
def test_the_table_of_kinds_takes_only_a_whole_kind(tmp_path, run, complete):
    """mypy checks each entry of the table against NodeKind: a kind half added is an error."""
    import sys

    api = pytest.importorskip("mypy.api")
    module = tmp_path / "pause_kind.py"
    module.write_text(HALF_ADDED.format(run=run))
    # A cache of its own: xdist may run the cases at once, and mypy's cache is not shared-safe.
    out, _, status = api.run(["--strict", "--no-error-summary", "--cache-dir",
                              str(tmp_path / "cache"), "--python-executable", sys.executable,
                              str(module)])
    assert (status == 0) is complete, out
    if not complete:
        assert "NodeKind" in out
