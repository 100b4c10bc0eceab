"""`map: EXPR`: run a tool or a workflow once per item of a list, `concurrency` at a time."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Literal

from wfe.graph.compile_context import Compiling
from wfe.graph.fanout_compile import compile_map
from wfe.graph.model import GraphNode
from wfe.nodes import tool, workflow
from wfe.nodes._base import Outcome, tolerance
from wfe.spec.models import Node
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class MapKind:
    name: Literal["map"] = "map"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        compile_map(compiler, compiled, node, path)
        if node.workflow is not None:
            workflow.compile_child(compiler, compiled, node, path)
        else:
            tool.compile_call(compiler, compiled, node, path)
        if node.tool is None and node.workflow is None:
            return compiled  # reported by compile_map: nothing to run per item
        return compiled.finish()

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.run_items(node)

    def describe(self, node: GraphNode) -> str:
        source = node.items.source if node.items is not None else "?"
        runs = (f"workflow {node.subgraph.file}" if node.subgraph is not None
                else f"tool {node.tool.name}" if node.tool is not None else "nothing")
        collect = f", collect {node.collect}" if node.collect is not None else ""
        return (f"map over `{source}` as {node.item_name}, {runs} per item, "
                f"{node.concurrency} at once{collect}{tolerance(node)}")


KIND = MapKind()
