"""`workflow: FILE`: run another workflow file as one step (a subgraph)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.graph.subgraph_compile import ChildCall, compile_subgraph
from wfe.nodes._base import KindBase, Outcome
from wfe.spec.models import (
    WORKFLOW_FILE,
    ErrorRoute,
    NodeCommon,
    inputs_key,
    on_error_key,
    outputs_key,
)
from wfe.spec.record import field
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class WorkflowNode(NodeCommon):
    """A node that runs another workflow file as one step (a subgraph)."""

    workflow: str = field(WORKFLOW_FILE, doc="a workflow file, relative to this one")
    inputs: dict[str, Any] | None = inputs_key()
    outputs: dict[str, str] | None = outputs_key()
    on_error: str | list[ErrorRoute] | None = on_error_key()


class WorkflowKind(KindBase):
    name = "workflow"
    record = WorkflowNode

    def compile(self, compiler: Compiling, compiled: GraphNode, node: WorkflowNode,
                path: YamlPath) -> GraphNode:
        compile_child(compiler, compiled, node, path)
        return compiled.finish()

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.run_subgraph(node)

    def describe(self, node: GraphNode) -> str:
        return f"workflow {node.subgraph.file}" if node.subgraph is not None else "workflow"


def compile_child(compiler: Compiling, compiled: GraphNode, node: ChildCall,
                  path: YamlPath) -> None:
    """The child graph, its inputs and outputs (a `map:` item's too)."""
    compile_subgraph(compiler, compiled, node, path)
    compiler.local_names = frozenset()


KIND = WorkflowKind()
