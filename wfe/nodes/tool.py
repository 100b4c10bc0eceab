"""`tool: NAME`: call one tool with its retries, timeout and cache."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Literal

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.nodes._base import Outcome
from wfe.spec.models import Node
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class ToolKind:
    name: Literal["tool"] = "tool"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        compile_call(compiler, compiled, node, path)
        compiled.is_call = True
        return compiled.finish()

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.execute(node)  # the call itself: no coroutine frame of this kind's own

    def describe(self, node: GraphNode) -> str:
        return f"tool {node.tool.name}" if node.tool is not None else "tool"


def compile_call(compiler: Compiling, compiled: GraphNode, node: Node, path: YamlPath) -> None:
    """The node's tool and where each of its arguments comes from (a `map:` item's too)."""
    if node.tool is not None:
        compiled.tool = compiler.tool_def(node.tool, (*path, "tool"))
        if compiled.tool is not None:
            compiled.bindings = compiler.bindings(compiled.tool, node.with_, path)
    compiler.local_names = frozenset()


KIND = ToolKind()
