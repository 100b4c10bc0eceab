"""`map: EXPR`: run a tool or a workflow once per item of a list, `concurrency` at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from wfe.expr.expression import RESERVED_NAMES
from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.graph.subgraph_compile import pauses
from wfe.nodes import tool, workflow
from wfe.nodes._base import KindBase, Outcome, compile_tolerance, tolerance
from wfe.spec.models import (
    CACHE,
    STATE_KEY,
    TEXT,
    WORKFLOW_FILE,
    CacheSpec,
    ErrorRoute,
    NodeCommon,
    Retry,
    errors_key,
    inputs_key,
    isolation_key,
    on_error_key,
    outputs_key,
    retry_key,
    timeout_key,
    tolerate_key,
    with_key,
)
from wfe.spec.record import field
from wfe.spec.rules import Whole
from wfe.spec.yaml_loader import YamlPath
from wfe.state.types import is_list_type

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext

#: Items of a `map:` node in flight at once when `concurrency:` is not given.
DEFAULT_CONCURRENCY = 8
#: What a map runs per item takes the keys of that kind, but `out` (its results go to
#: `collect`): a `tool:` call's, or a `workflow:`'s.
_TOOL_ITEM_KEYS = tool.KIND.own_keys - {"out", "on_error"}
_FLOW_ITEM_KEYS = workflow.KIND.own_keys - {"on_error"}


class MapNode(NodeCommon):
    """A node that runs a tool, or a workflow, once per item of a list."""

    map: str = field(TEXT, doc="an expression giving the list to map over")
    as_: str | None = field(STATE_KEY, default=None, key="as")
    concurrency: int | None = field(Whole(ge=1, le=100_000), default=None)
    collect: str | None = field(TEXT, default=None)
    on_error: str | list[ErrorRoute] | None = on_error_key()
    tolerate: int | str | None = tolerate_key()
    errors: str | None = errors_key()
    # What runs per item: a tool call ...
    tool: str | None = field(TEXT, default=None)
    with_: dict[str, Any] = with_key()
    retry: Retry | None = retry_key()
    timeout: float | None = timeout_key()
    cache: bool | CacheSpec | None = field(CACHE, default=None)
    isolation: Literal["thread", "process"] | None = isolation_key()
    # ... or a workflow.
    workflow: str | None = field(WORKFLOW_FILE, default=None)
    inputs: dict[str, Any] | None = inputs_key()
    outputs: dict[str, str] | None = outputs_key()


class MapKind(KindBase):
    name = "map"
    record = MapNode
    borrowed_keys = _TOOL_ITEM_KEYS | _FLOW_ITEM_KEYS

    def keys(self, given: Mapping[str, Any]) -> tuple[frozenset[str], str]:
        item = "workflow" if "workflow" in given else "tool"
        other = _TOOL_ITEM_KEYS if item == "workflow" else _FLOW_ITEM_KEYS
        return frozenset(self.record.fields) - other, f"a map node that runs a {item} per item"

    def compile(self, compiler: Compiling, compiled: GraphNode, node: MapNode,
                path: YamlPath) -> GraphNode:
        compile_map(compiler, compiled, node, path)
        if node.workflow is not None:
            workflow.compile_child(compiler, compiled, node, path)
            if compiled.subgraph is not None and pauses(compiled.subgraph):
                compiler.problem("WFE071", f"a map item's workflow cannot wait for input, and "
                                 f"{node.workflow} has an interrupt node", (*path, "workflow"))
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


def compile_map(compiler: Compiling, compiled: GraphNode, node: MapNode, path: YamlPath) -> None:
    """A `map:` node's items, item name, concurrency and `collect:` key; the item name is bound
    while the rest of the node compiles."""
    if node.tool is None and node.workflow is None:
        compiler.problem("WFE022", f"map node '{compiled.name}' needs `tool:` or `workflow:` "
                         "to run per item", path, at_key=True)
    compiled.item_name = node.as_ or "item"
    if compiled.item_name in compiler.state_keys | RESERVED_NAMES:
        compiler.problem("WFE050", f"`as: {compiled.item_name}` hides a state key or reserved "
                         "name; pick another name", (*path, "as"))
    compiled.items = compiler.expression(node.map, (*path, "map"))
    compiled.concurrency = node.concurrency or DEFAULT_CONCURRENCY
    compiled.collect = node.collect
    compile_tolerance(compiler, compiled, node, path)
    if node.collect is not None:
        if node.collect not in compiler.state_keys:
            compiler.undeclared(node.collect, (*path, "collect"))
        elif not is_list_type(compiler.fields[node.collect].type):
            compiler.problem("WFE050", f"collect: state key '{node.collect}' must be a list",
                             (*path, "collect"))
    compiler.local_names = frozenset({compiled.item_name})


KIND = MapKind()
