"""What every node kind provides: the interface the compiler, the engine and the dry run use."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode, Tolerance
from wfe.spec.models import NodeCommon
from wfe.spec.yaml_loader import YamlPath
from wfe.state.types import fits, is_list_type, parse_type

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext

__all__ = ["KindBase", "NodeKind", "Outcome", "compile_tolerance", "tolerance"]

#: What running a node gives the engine: the attempts it took and the state updates written.
Outcome = tuple[int, dict[str, Any]]


#: A kind's record: the keys every node takes and the kind's own (wfe.spec.models.NodeCommon).
R = TypeVar("R", bound=NodeCommon)
#: A record of `errors:`, for checking that the key's type holds it.
_A_FAILURE = {"index": 0, "item": None, "branch": "b", "type": "ValueError", "message": "m"}


class NodeKind(Protocol[R]):
    """One kind of node (`tool:`, `parallel:`, ...): its keys in the file, how it compiles,
    runs and is described. Its name is the key that makes a node of this kind."""

    @property
    def name(self) -> str: ...

    @property
    def record(self) -> type[R]:
        """The node as the file gives it: the common keys and this kind's own."""
        ...

    @property
    def own_keys(self) -> frozenset[str]:
        """The keys this kind takes beyond the common ones (what the README lists)."""
        ...

    @property
    def borrowed_keys(self) -> frozenset[str]:
        """Keys of other kinds this kind also takes (a `map:` those of what it runs per item)."""
        ...

    def keys(self, given: Mapping[str, Any]) -> tuple[frozenset[str], str]:
        """The keys a node with the `given` ones may have, and what messages call it."""
        ...

    def hint_for(self, key: str) -> str:
        """What to add to the error for a key of another kind on such a node ("" or text)."""
        ...

    def compile(self, compiler: Compiling, compiled: GraphNode, node: R,
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


class KindBase:
    """What most kinds' keys are: their record's; a kind with more to say overrides `keys`."""

    name: ClassVar[str]
    record: ClassVar[type[NodeCommon]]
    borrowed_keys: ClassVar[frozenset[str]] = frozenset()

    @property
    def own_keys(self) -> frozenset[str]:
        return frozenset(self.record.fields) - frozenset(NodeCommon.fields) - self.borrowed_keys

    def keys(self, given: Mapping[str, Any]) -> tuple[frozenset[str], str]:
        article = "an" if self.name[0] in "aeiou" else "a"
        return frozenset(self.record.fields), f"{article} {self.name} node"

    def hint_for(self, key: str) -> str:
        return ""


class FanOutKeys(Protocol):
    """`tolerate:` and `errors:`, which `map:` and `parallel:` nodes both take."""

    @property
    def tolerate(self) -> int | str | None: ...

    @property
    def errors(self) -> str | None: ...


def compile_tolerance(compiler: Compiling, compiled: GraphNode, node: FanOutKeys,
                      path: YamlPath) -> None:
    """`tolerate:` and `errors:` of a map or parallel node."""
    if isinstance(node.tolerate, str):
        compiled.tolerate = Tolerance(percent=float(node.tolerate[:-1]))
    elif node.tolerate is not None:
        compiled.tolerate = Tolerance(count=node.tolerate)
    compiled.errors_key = node.errors
    if node.errors is None:
        return
    if node.errors not in compiler.state_keys:
        compiler.undeclared(node.errors, (*path, "errors"))
    elif not is_list_type(compiler.fields[node.errors].type) or not fits(
            parse_type(compiler.fields[node.errors].type), [_A_FAILURE]):
        compiler.problem("WFE050", f"errors: state key '{node.errors}' must be a list that "
                         "holds the failures' records (list, or list[dict])", (*path, "errors"))
    elif compiler.fields[node.errors].reduce not in ("replace", "append", "extend"):
        compiler.problem("WFE050", f"errors: state key '{node.errors}' must have reduce "
                         "replace, append or extend, to which the failures are appended",
                         (*path, "errors"))


def tolerance(node: GraphNode) -> str:
    """`tolerate:` and `errors:` of a fan-out node, as its description ends."""
    tolerated = f", tolerate {node.tolerate} failed" if node.tolerate is not None else ""
    return tolerated + (f", failures to {node.errors_key}" if node.errors_key else "")
