"""`wait: DURATION` or `wait: "${ expr }"`: a durable timer.

The deadline is committed before the wait begins (as the step's one finished item, which the
journal keeps until the step commits), so a run stopped while waiting and resumed waits only for
what remains. With a journal the wait looks for `wfe cancel` as it sleeps (the run's
`deadline` and `sleep_until`: wfe.engine.cancel_watch).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from wfe.errors import ExpressionError
from wfe.expr.expression import printable
from wfe.expr.template import Template
from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.nodes._base import KindBase, Outcome
from wfe.spec.models import TEXT, NodeCommon
from wfe.spec.record import field
from wfe.spec.rules import MAX_DURATION, Duration, Either
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


def _is_expression(value: Any) -> bool:
    return type(value) is str and value.lstrip().startswith("${")


#: `wait:` seconds (`10`, `5m`), or a `"${ expr }"` giving them when the node runs.
WAIT = Either(lambda value: TEXT if _is_expression(value) else Duration(ge=0, le=MAX_DURATION),
              [Duration(ge=0, le=MAX_DURATION), TEXT])


class WaitNode(NodeCommon):
    """A node that waits, durably: its deadline is committed before the wait begins."""

    wait: float | str = field(WAIT, doc="seconds, or a \"${ expr }\" giving them")


class WaitKind(KindBase):
    name = "wait"
    record = WaitNode

    def compile(self, compiler: Compiling, compiled: GraphNode, node: WaitNode,
                path: YamlPath) -> GraphNode:
        if isinstance(node.wait, str):
            compiled.template = compiler.template(node.wait, (*path, "wait"))
            compiled.summary = node.wait
            _check_seconds(compiler, compiled.template, (*path, "wait"))
        else:
            compiled.seconds = node.wait
            compiled.summary = f"{node.wait:g} s"
        return compiled.finish()

    async def run(self, run: RunContext, node: GraphNode) -> Outcome:
        began = time.monotonic()
        run.report_started(node.name)
        await run.sleep_until(run.deadline(node, lambda: _seconds(run, node)))
        run.report_finished(node.name, {}, began)
        return 1, {}

    def describe(self, node: GraphNode) -> str:
        return f"wait {node.summary}"


def _check_seconds(compiler: Compiling, template: Template | None, path: YamlPath) -> None:
    """A `wait:` text must be one "${ expr }" that can give a number."""
    if template is None:
        return  # reported by compiler.template
    if template.builds_text:
        compiler.problem("WFE042", f"`wait: {printable(template.source)}` must be one "
                         "\"${ expr }\" giving seconds, or a duration such as 10s", path)
        return
    kind = compiler.facts.kind(template.expressions[0].tree)
    if kind in ("str", "bool"):
        compiler.problem("WFE042", f"`wait: {printable(template.source)}` gives a {kind}, not "
                         "seconds", path)


def _seconds(run: RunContext, node: GraphNode) -> float:
    if node.template is None:
        return node.seconds
    try:
        value = node.template.render(run.scope)
    except ExpressionError as error:
        raise ExpressionError(f"wait `{node.summary}`: {error}", node=node.name) from None
    if type(value) not in (int, float) or not 0 <= value <= MAX_DURATION or math.isnan(value):
        raise ExpressionError(f"wait `{node.summary}` must give seconds from 0 to "
                              f"{MAX_DURATION:.0f}, got {value!r}", node=node.name)
    return float(value)


KIND = WaitKind()
