"""The compiled Graph: nodes with their tools bound and expressions parsed (see wfe.graph.compiler).

The Graph is what every front end shares: the engine runs it, the validator inspects it and the
renderers draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from wfe.errors import Location, Problem
from wfe.expr.expression import Expression
from wfe.expr.template import Template
from wfe.spec.load import LoadedSpec
from wfe.spec.models import END, Retry
from wfe.state.schema import StateSchema
from wfe.tools.registry import Registry, ToolDef

__all__ = [
    "END", "Binding", "Edge", "ErrorRoute", "Graph", "GraphNode", "RetryPolicy", "Source",
]


class Source(Enum):
    """Where a tool argument comes from."""

    CONSTANT = "constant"
    TEMPLATE = "template"
    STATE = "state"
    WHOLE_STATE = "whole_state"
    CONTEXT = "context"
    ITEM = "item"  # the current item of a `map:` node


@dataclass(frozen=True, slots=True)
class Binding:
    """Where one argument of a tool call comes from."""

    param: str
    source: Source
    value: Any = None  # the constant, the Template, or the state key


@dataclass(frozen=True, slots=True)
class Edge:
    """A way out of a node: to `target`, when `condition` holds (always, without one)."""

    target: str
    condition: Expression | None = None

    @property
    def text(self) -> str | None:
        return self.condition.source if self.condition is not None else None


@dataclass(frozen=True, slots=True)
class Tolerance:
    """`tolerate:` of a fan-out node: a count of failures, or a percentage of its items."""

    count: int | None = None
    percent: float | None = None

    def allowed(self, total: int) -> int:
        """How many of `total` items or branches may fail without failing the node."""
        if self.percent is not None:
            return int(total * self.percent / 100)
        return self.count or 0

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else str(self.count)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a node's tool is retried (from `retry:`)."""

    attempts: int = 1
    delay: float = 1.0
    backoff: float = 2.0
    max_delay: float = 60.0
    jitter: bool = False
    on: frozenset[str] | None = None

    @classmethod
    def of(cls, retry: Retry) -> RetryPolicy:
        """The policy a node's (or the defaults') `retry:` mapping stands for."""
        return cls(retry.attempts, retry.delay, retry.backoff, retry.max_delay, retry.jitter,
                   frozenset(retry.on) if retry.on is not None else None)

    def delay_before(self, attempt: int, random: float) -> float:
        """Seconds to wait before `attempt` (2, 3, ...): capped exponential, full jitter."""
        ceiling = min(self.max_delay, self.delay * self.backoff ** (attempt - 2))
        return ceiling * random if self.jitter else ceiling


@dataclass(frozen=True, slots=True)
class ErrorRoute:
    """An `on_error` route: to `target` when the error's type is one of `errors` (any, without)."""

    target: str
    errors: frozenset[str] | None = None


@dataclass(eq=False, slots=True)
class GraphNode:
    """A compiled node. Later node kinds add their own fields; `kind` names which."""

    name: str
    kind: str
    location: Location
    tool: ToolDef | None = None
    bindings: tuple[Binding, ...] = ()
    out: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float | None = None
    on_error: tuple[ErrorRoute, ...] = ()
    max_visits: int | None = None
    on_exhausted: str | None = None
    edges: tuple[Edge, ...] = ()
    #: `if:` the node runs only when this holds; otherwise it is skipped.
    guard: Expression | None = None
    description: str = ""
    message: str = ""
    expects: dict[str, str] = field(default_factory=dict)
    #: `interrupt:` how long a person has to answer, and where the run goes after that.
    answer_timeout: float | None = None
    on_timeout: str | None = None
    #: `parallel:` branches (each a tool node named `node/branch`), and how many must succeed.
    branches: tuple[GraphNode, ...] = ()
    needed: int = 0
    #: `map:` the list expression, the item's name, at most this many at once, the result key.
    items: Expression | None = None
    item_name: str = "item"
    concurrency: int = 1
    collect: str | None = None
    #: `tolerate:` the failures a map or parallel node survives; `errors:` the key they go to.
    tolerate: Tolerance | None = None
    errors_key: str | None = None
    #: `workflow:` the child graph, its inputs (key -> expression or constant), its outputs
    #: (parent key -> child key).
    subgraph: Graph | None = None
    sub_inputs: tuple[tuple[str, Expression | None, Any], ...] = ()
    sub_outputs: dict[str, str] = field(default_factory=dict)
    #: `wait:` the seconds, or the template giving them; `fail:` the message's template (its
    #: text, without one, is `message`). `summary`: what a diagram shows of such a node.
    seconds: float = 0.0
    template: Template | None = None
    summary: str = ""
    #: `cache:` reuse results for this many seconds (inf: no expiry); None: no caching.
    cache_ttl: float | None = None
    #: `isolation:` where a sync tool runs: "thread" or "process" (a hard timeout).
    isolation: str = "thread"
    #: `pool:` the pool whose slot the node holds while it runs, and the pool's size.
    pool: str | None = None
    pool_size: int = 0
    #: Derived once at compile time, for the engine's hot path.
    wants_context: bool = False
    wants_state: bool = False
    runs_inline: bool = False
    #: The node's step is the run's own tool call (`tool:`): the engine makes it without a
    #: detour through the kind (NodeKind.run), one call frame less on the hot path.
    is_call: bool = False

    def finish(self) -> GraphNode:
        self.wants_context = any(b.source is Source.CONTEXT for b in self.bindings)
        self.wants_state = any(b.source is Source.WHOLE_STATE for b in self.bindings)
        self.runs_inline = (
            self.tool is not None and not self.tool.is_async and self.timeout is None
            and self.isolation == "thread"
        )
        return self


@dataclass(eq=False)
class Graph:
    """A compiled workflow: its nodes, where it starts, its state schema and its limits."""

    name: str
    description: str
    file: str
    start: str
    nodes: dict[str, GraphNode]
    schema: StateSchema
    max_steps: int
    timeout: float
    loaded: LoadedSpec
    registry: Registry
    #: `on_end:` {which: node}, which is succeeded, failed, cancelled or always.
    on_end: dict[str, str] = field(default_factory=dict)
    #: What compiling found worth a look but no reason to refuse the file (`wfe validate`).
    warnings: list[Problem] = field(default_factory=list)
