"""`tool: NAME`: call one tool with its retries, timeout and cache."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.nodes._base import KindBase, Outcome
from wfe.spec.models import (
    CACHE,
    TEXT,
    CacheSpec,
    ErrorRoute,
    NodeCommon,
    Retry,
    isolation_key,
    on_error_key,
    retry_key,
    timeout_key,
    with_key,
)
from wfe.spec.record import field
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext


class ToolNode(NodeCommon):
    """A node that calls one registered tool."""

    tool: str = field(TEXT, doc="the registered tool to call")
    with_: dict[str, Any] = with_key()
    out: str | None = field(TEXT, default=None, doc="the state key the result is written to")
    retry: Retry | None = retry_key()
    timeout: float | None = timeout_key()
    on_error: str | list[ErrorRoute] | None = on_error_key()
    cache: bool | CacheSpec | None = field(CACHE, default=None)
    isolation: Literal["thread", "process"] | None = isolation_key()


class ToolKind(KindBase):
    name = "tool"
    record = ToolNode

    def compile(self, compiler: Compiling, compiled: GraphNode, node: ToolNode,
                path: YamlPath) -> GraphNode:
        compile_call(compiler, compiled, node, path)
        compiled.is_call = True
        return compiled.finish()

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.execute(node)  # the call itself: no coroutine frame of this kind's own

    def describe(self, node: GraphNode) -> str:
        return f"tool {node.tool.name}" if node.tool is not None else "tool"


class CallKeys(Protocol):
    """What names a tool call: a `tool:` node's keys, or a `map:` node's per item."""

    @property
    def tool(self) -> str | None: ...

    @property
    def with_(self) -> dict[str, Any]: ...


def compile_call(compiler: Compiling, compiled: GraphNode, node: CallKeys,
                 path: YamlPath) -> None:
    """The node's tool and where each of its arguments comes from (a `map:` item's too)."""
    if node.tool is not None:
        compiled.tool = compiler.tool_def(node.tool, (*path, "tool"))
        if compiled.tool is not None:
            compiled.bindings = compiler.bindings(compiled.tool, node.with_, path)
    compiler.local_names = frozenset()


KIND = ToolKind()
