"""`fail: MESSAGE`: end the run as `failed` with this message (a quality gate, say)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wfe.errors import DeliberateFailure, ExpressionError
from wfe.expr.template import text_of
from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.nodes._base import KindBase, Outcome
from wfe.spec.models import NodeCommon
from wfe.spec.record import field
from wfe.spec.rules import Text
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("a fail node needs a message saying why the run fails")
    return value


class FailNode(NodeCommon):
    """A node that ends the run as failed."""

    fail: str = field(Text(refine=_reason),
                      doc="end the run failed with this message (\"${ }\" allowed)")


class FailKind(KindBase):
    name = "fail"
    record = FailNode

    def compile(self, compiler: Compiling, compiled: GraphNode, node: FailNode,
                path: YamlPath) -> GraphNode:
        compiled.message = compiled.summary = node.fail
        compiled.template = compiler.template(node.fail, (*path, "fail"))
        return compiled.finish()

    async def run(self, run: RunContext, node: GraphNode) -> Outcome:
        run.report_started(node.name)
        failure = DeliberateFailure(rendered(node, run), node=node.name)
        run.report_failed(node.name, failure)
        raise failure

    def describe(self, node: GraphNode) -> str:
        return f"fail {node.message}"


def rendered(node: GraphNode, run: RunContext) -> str:
    template = node.template
    if template is None:
        return node.message
    try:
        return text_of(template.render(run.scope))
    except ExpressionError as error:
        raise ExpressionError(f"fail `{node.message}`: {error}", node=node.name) from None


KIND = FailKind()
