"""`parallel:`: run named branches at once, each a tool call, joined by `join:`."""

from __future__ import annotations

from typing import Literal

from wfe.engine.fanout import run_compound, run_parallel
from wfe.engine.run_context import RunContext
from wfe.graph.compile_context import Compiling
from wfe.graph.fanout_compile import compile_parallel
from wfe.graph.model import GraphNode
from wfe.nodes._base import Outcome, tolerance
from wfe.spec.models import Node
from wfe.spec.yaml_loader import YamlPath


class ParallelKind:
    name: Literal["parallel"] = "parallel"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        return compile_parallel(compiler, compiled, node, path)

    async def run(self, run: RunContext, node: GraphNode) -> Outcome:
        return await run_compound(run, node, run_parallel)

    def describe(self, node: GraphNode) -> str:
        count = len(node.branches)
        join = ("all" if node.needed == count else "any" if node.needed == 1
                else f"at least {node.needed}")
        names = ", ".join(b.name.rsplit("/", 1)[-1] + (
            f": workflow {b.subgraph.file}" if b.subgraph is not None else "")
            for b in node.branches)
        return f"parallel {count} branches ({names}), join {join}{tolerance(node)}"


KIND = ParallelKind()
