"""`parallel:`: run named branches at once, each a tool call, joined by `join:`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Literal

from wfe.graph.compile_context import Compiling
from wfe.graph.fanout_compile import compile_parallel
from wfe.graph.model import GraphNode
from wfe.nodes._base import Outcome, tolerance
from wfe.spec.models import Node
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class ParallelKind:
    name: Literal["parallel"] = "parallel"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        return compile_parallel(compiler, compiled, node, path)

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.run_branches(node)

    def describe(self, node: GraphNode) -> str:
        count = len(node.branches)
        join = ("all" if node.needed == count else "any" if node.needed == 1
                else f"at least {node.needed}")
        names = ", ".join(b.name.rsplit("/", 1)[-1] + (
            f": workflow {b.subgraph.file}" if b.subgraph is not None else "")
            for b in node.branches)
        return f"parallel {count} branches ({names}), join {join}{tolerance(node)}"


KIND = ParallelKind()
