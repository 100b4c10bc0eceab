"""What every node kind provides: the interface the compiler, the engine and the dry run use."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode
from wfe.spec.models import KindName, Node
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext

__all__ = ["NodeKind", "Outcome", "tolerance"]

#: What running a node gives the engine: the attempts it took and the state updates written.
Outcome = tuple[int, dict[str, Any]]


class NodeKind(Protocol):
    """One kind of node (`tool:`, `parallel:`, ...): how it compiles, runs and is described."""

    @property
    def name(self) -> KindName: ...

    def compile(self, compiler: Compiling, compiled: GraphNode, node: Node,
                path: YamlPath) -> GraphNode:
        """Fill in `compiled` from the file's node, reporting problems to `compiler`."""
        ...

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        """Run the node as one step of `run` (an `async def` does; a kind may also hand back
        the run's own awaitable, as `tool:` does, to spare the hot path a coroutine frame).
        A kind whose step is exactly the run's tool call marks its compiled nodes `is_call`,
        and the engine then makes that call itself, sparing the hot path this frame too."""
        ...

    def describe(self, node: GraphNode) -> str:
        """What the node does, in a few words (`wfe run --dry-run`)."""
        ...


def tolerance(node: GraphNode) -> str:
    """`tolerate:` and `errors:` of a fan-out node, as its description ends."""
    tolerated = f", tolerate {node.tolerate} failed" if node.tolerate is not None else ""
    return tolerated + (f", failures to {node.errors_key}" if node.errors_key else "")
