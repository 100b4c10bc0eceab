"""`interrupt:`: pause the run until a person gives the values the node expects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.nodes._base import Outcome
from wfe.spec.models import Node
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class InterruptKind:
    name: Literal["interrupt"] = "interrupt"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        assert node.interrupt is not None
        compiled.message = node.interrupt.message
        compiled.expects = compiler.expects(node.interrupt.expects, (*path, "interrupt"))
        compiled.answer_timeout = node.interrupt.timeout
        compiled.on_timeout = node.interrupt.on_timeout
        if node.interrupt.on_timeout is not None and node.interrupt.timeout is None:
            compiler.problem("WFE012", "on_timeout needs a `timeout:` to take it after",
                             (*path, "interrupt", "on_timeout"))
        return compiled.finish()

    async def run(self, run: RunContext, node: GraphNode) -> Outcome:
        return run.interrupt(node)

    def describe(self, node: GraphNode) -> str:
        return "interrupt " + (node.message or "a person's input")


KIND = InterruptKind()
