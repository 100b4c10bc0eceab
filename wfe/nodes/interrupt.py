"""`interrupt:`: pause the run until a person gives the values the node expects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.nodes._base import KindBase, Outcome
from wfe.spec.models import NODE_NAME, POSITIVE_DURATION, STATE_KEY, TEXT, NodeCommon
from wfe.spec.record import Record, Section, field
from wfe.spec.rules import MapOf
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class Interrupt(Record):
    """Pause the run until a person supplies `expects` (state key -> type)."""

    message: str = field(TEXT, default="")
    expects: dict[str, str] = field(MapOf(STATE_KEY, TEXT), default_factory=dict)
    timeout: float | None = field(POSITIVE_DURATION, default=None,
                                  doc="how long to wait for the values")
    on_timeout: str | None = field(NODE_NAME, default=None,
                                   doc="where the run goes once `timeout` has passed "
                                       "(without it, the run fails)")


class InterruptNode(NodeCommon):
    """A node that pauses the run for a person's input."""

    interrupt: Interrupt = field(Section(Interrupt))


class InterruptKind(KindBase):
    name = "interrupt"
    record = InterruptNode

    def compile(self, compiler: Compiling, compiled: GraphNode, node: InterruptNode,
                path: YamlPath) -> GraphNode:
        compiled.message = node.interrupt.message
        compiled.expects = compiler.expects(node.interrupt.expects, (*path, "interrupt"))
        compiled.answer_timeout = node.interrupt.timeout
        compiled.on_timeout = node.interrupt.on_timeout
        if node.interrupt.on_timeout is not None:
            compiler.check_target(node.interrupt.on_timeout, (*path, "interrupt", "on_timeout"))
        if node.interrupt.on_timeout is not None and node.interrupt.timeout is None:
            compiler.problem("WFE012", "on_timeout needs a `timeout:` to take it after",
                             (*path, "interrupt", "on_timeout"))
        return compiled.finish()

    async def run(self, run: RunContext, node: GraphNode) -> Outcome:
        return run.interrupt(node)

    def describe(self, node: GraphNode) -> str:
        return "interrupt " + (node.message or "a person's input")


KIND = InterruptKind()
