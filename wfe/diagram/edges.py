"""The edge model of a compiled Graph: every edge with its kind and label, loops found.

Pure functions over `wfe.graph.model.Graph`, shared by every format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from wfe.graph.model import END, Graph, GraphNode

EdgeKind = Literal["next", "default", "on_error", "exhausted", "timeout"]
DiagramFormat = Literal["mermaid", "dot", "json"]


@dataclass(frozen=True, slots=True)
class NodeAnnotation:
    """What one run did at a node (`wfe graph --run`)."""

    visits: int
    status: str | None = None
    #: How often its `if:` was false (a skip is not a visit).
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """One arrow. `label` is the `when` expression, or None; `errors` filters an on_error route."""

    source: str
    target: str
    label: str | None
    kind: EdgeKind
    back_edge: bool = False
    errors: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Loop:
    """A cycle closed by one back-edge `tail -> head`; `nodes` runs from head to tail."""

    head: str
    tail: str
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Inlined:
    """A node of a `workflow:` node's child graph, drawn inside its parent (`--expand`).

    `name` is `parent/child` (deeper children `a/b/c`), as the run's events name it.
    """

    name: str
    node: GraphNode
    parent: str


Annotations = Mapping[str, NodeAnnotation] | None

ERROR_COLOUR = "#dc2626"
LOOP_COLOUR = "#b45309"
# Fill and stroke per node status (the statuses of `wfe.render._model.NodeStatus`).
STATUS_COLOURS = {
    "succeeded": ("#dcfce7", "#16a34a"),
    "failed": ("#fee2e2", "#dc2626"),
    "running": ("#e0f2fe", "#0284c7"),
    "retrying": ("#fef9c3", "#ca8a04"),
    "waiting": ("#fef9c3", "#ca8a04"),
    "stopped": ("#f3f4f6", "#6b7280"),
}


# --- the edge model ----------------------------------------------------------------------------


def _node_edges(node: GraphNode) -> Iterator[DiagramEdge]:
    conditional = len(node.edges) > 1 or any(e.condition is not None for e in node.edges)
    for edge in node.edges:
        kind: EdgeKind = "default" if conditional and edge.text is None else "next"
        yield DiagramEdge(node.name, edge.target, edge.text, kind)
    for route in node.on_error:
        errors = tuple(sorted(route.errors)) if route.errors is not None else None
        yield DiagramEdge(node.name, route.target, None, "on_error", errors=errors)
    if node.on_exhausted is not None:
        yield DiagramEdge(node.name, node.on_exhausted, None, "exhausted")
    if node.on_timeout is not None:
        yield DiagramEdge(node.name, node.on_timeout, None, "timeout")


def _analyse(graph: Graph) -> tuple[list[DiagramEdge], list[Loop]]:
    """Every edge in file order, back-edges flagged by a DFS from the start in edge order."""
    edges = [edge for node in graph.nodes.values() for edge in _node_edges(node)]
    outgoing: dict[str, list[int]] = {name: [] for name in graph.nodes}
    for index, edge in enumerate(edges):
        outgoing[edge.source].append(index)
    roots = [graph.start, *(name for name in graph.nodes if name != graph.start)]
    back: set[int] = set()
    loops: list[Loop] = []
    done: set[str] = set()
    for root in roots:
        if root in graph.nodes and root not in done:
            _dfs(root, edges, outgoing, done, back, loops)
    flagged = [replace(e, back_edge=True) if i in back else e for i, e in enumerate(edges)]
    return flagged, loops


def _dfs(
    root: str,
    edges: list[DiagramEdge],
    outgoing: dict[str, list[int]],
    done: set[str],
    back: set[int],
    loops: list[Loop],
) -> None:
    # Iterative, so a long chain of nodes cannot hit Python's recursion limit.
    path = [root]
    on_path = {root}
    pending = [iter(outgoing[root])]
    while pending:
        index = next(pending[-1], None)
        if index is None:
            finished = path.pop()
            on_path.discard(finished)
            done.add(finished)
            pending.pop()
            continue
        target = edges[index].target
        if target in on_path:
            back.add(index)
            head = path.index(target)
            loop = Loop(target, path[-1], tuple(path[head:]))
            if loop not in loops:  # an error route can close the same cycle as `next`
                loops.append(loop)
        elif target in outgoing and target not in done:
            path.append(target)
            on_path.add(target)
            pending.append(iter(outgoing[target]))


def graph_edges(graph: Graph) -> list[DiagramEdge]:
    """Every edge of the graph in file order (per node: next, on_error, on_exhausted)."""
    return _analyse(graph)[0]


def find_loops(graph: Graph) -> list[Loop]:
    """The cycles, one per back-edge, in the order the DFS from the start meets them."""
    return _analyse(graph)[1]


def child_graphs(graph: Graph, prefix: str = "") -> list[tuple[str, Graph]]:
    """The child graphs of `graph`'s nodes, each with the name it is run under: a `workflow:`
    or `map:` node's (`call`), a parallel branch's sub-flow (`fan/deep`)."""
    found = []
    for name, node in graph.nodes.items():
        if node.subgraph is not None:
            found.append((prefix + name, node.subgraph))
        found += [(prefix + b.name, b.subgraph) for b in node.branches if b.subgraph is not None]
    return found


def inlined_nodes(graph: Graph, prefix: str = "") -> list[Inlined]:
    """Every child graph's nodes, depth first, each right after its own parent's children."""
    found: list[Inlined] = []
    for parent, child_graph in child_graphs(graph, prefix):
        for child_name, child in child_graph.nodes.items():
            found.append(Inlined(f"{parent}/{child_name}", child, parent))
        found += inlined_nodes(child_graph, parent + "/")
    return found


def inlined_edges(graph: Graph, prefix: str = "") -> list[DiagramEdge]:
    """The edges inside every child graph, renamed `parent/child`; a child's `end` left out."""
    found: list[DiagramEdge] = []
    for parent, child_graph in child_graphs(graph, prefix):
        inner = parent + "/"
        found += [
            replace(edge, source=inner + edge.source, target=inner + edge.target)
            for edge in graph_edges(child_graph) if edge.target != END
        ]
        found += inlined_edges(child_graph, inner)
    return found


def referenced_end(edges: list[DiagramEdge]) -> bool:
    """Whether any edge reaches `end` (only then do the diagrams draw it)."""
    return any(edge.target == END for edge in edges)


def edge_caption(edge: DiagramEdge) -> str | None:
    """The text drawn on an edge: its condition, `else`, or which route it is."""
    if edge.kind == "next":
        return edge.label
    if edge.kind == "default":
        return "else"
    if edge.kind == "on_error":
        return "on_error" + (f": {', '.join(edge.errors)}" if edge.errors else "")
    if edge.kind == "timeout":
        return "on_timeout"
    return "on_exhausted"


def annotation_text(annotation: NodeAnnotation) -> str:
    """The visit count after a multiplication sign, then the status; 0 for a node never run."""
    text = f"\N{MULTIPLICATION SIGN}{annotation.visits}"
    if annotation.skipped:
        text += f" · {annotation.skipped} skipped"
    return f"{text} · {annotation.status}" if annotation.status else text


def node_detail(node: GraphNode) -> str:
    """What a node does, in a few words: `tool: x`, `map items: x`, `parallel: a, b`."""
    runs = node.tool.name if node.tool is not None else None
    if node.subgraph is not None:
        runs = node.subgraph.file
    if node.kind == "parallel":
        return "parallel: " + ", ".join(branch_text(b) for b in node.branches)
    if node.kind == "map" and node.items is not None:
        return f"map {node.items.source}: {runs}"
    if runs is None and node.summary:  # `wait: 5 s`, `fail: the message`
        runs = node.summary
    return f"{node.kind}: {runs}" if runs is not None else node.kind


def branch_text(branch: GraphNode) -> str:
    """A parallel branch in a few words: its name, and the file of a sub-flow (`deep (x.yaml)`)."""
    name = branch.name.rsplit("/", 1)[-1]
    return f"{name} ({branch.subgraph.file})" if branch.subgraph is not None else name


def node_lines(
    node: GraphNode, annotations: Annotations = None, name: str | None = None
) -> list[str]:
    """A node's box in a diagram, line by line: name, what it runs, guard, run annotation.

    `name` is the name to show (and annotate) when not `node.name`: an inlined child's.
    """
    name = node.name if name is None else name
    lines = [name, node_detail(node)]
    if node.guard is not None:
        lines.append(f"if: {node.guard.source}")
    if node.max_visits is not None:
        lines.append(f"max_visits: {node.max_visits}")
    if annotations is not None:
        lines.append(annotation_text(annotations.get(name, NodeAnnotation(0))))
    return lines


def edge_colour(edge: DiagramEdge) -> str | None:
    if edge.kind == "on_error":
        return ERROR_COLOUR
    return LOOP_COLOUR if edge.back_edge else None
