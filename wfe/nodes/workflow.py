"""`workflow: FILE`: run another workflow file as one step (a subgraph)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Literal

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.graph.subgraph_compile import check_item_pauses, compile_subgraph
from wfe.nodes._base import Outcome
from wfe.spec.models import Node
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class WorkflowKind:
    name: Literal["workflow"] = "workflow"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        compile_child(compiler, compiled, node, path)
        return compiled.finish()

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.run_subgraph(node)

    def describe(self, node: GraphNode) -> str:
        return f"workflow {node.subgraph.file}" if node.subgraph is not None else "workflow"


def compile_child(compiler: Compiling, compiled: GraphNode, node: Node, path: YamlPath) -> None:
    """The child graph, its inputs and outputs (a `map:` item's too)."""
    compile_subgraph(compiler, compiled, node, path)
    check_item_pauses(compiler, compiled, node, path)
    compiler.local_names = frozenset()


KIND = WorkflowKind()
