"""`wfe graph` on a terminal: the workflow as a Rich tree, read top to bottom at a glance.

The root names the workflow and its file (and its loops); then the start, every node in file
order with its kind, tool, guard and description, each with its outgoing edges as children; then
`end`. Glyphs carry the meaning, so the tree reads the same without colour.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from rich.tree import Tree

from wfe.diagram import (
    DiagramEdge,
    Loop,
    NodeAnnotation,
    annotation_text,
    find_loops,
    graph_edges,
    inlined_edges,
    inlined_nodes,
    node_detail,
    referenced_end,
)
from wfe.graph.model import END, Graph, GraphNode

__all__ = ["graph_tree"]

_STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "running": "cyan",
    "retrying": "yellow",
    "waiting": "yellow",
    "stopped": "dim",
}
_LOOP_STYLE = "magenta"
_ERROR_STYLE = "red"
_CONDITION_STYLE = "yellow"


def graph_tree(
    graph: Graph, annotations: Mapping[str, NodeAnnotation] | None = None, expand: bool = False
) -> Tree:
    """The tree of `graph`; with `annotations` (from a run) each node shows visits and status.

    With `expand`, a `workflow:` node's child nodes (`call/child`) hang under it, with their edges.
    """
    edges = graph_edges(graph)
    tree = Tree(_root_label(graph, find_loops(graph)), guide_style="dim")
    tree.add(Text.assemble(("▶ start", "bold green"), " → ", (graph.start, "bold")))
    for which, handler in graph.on_end.items():
        tree.add(Text.assemble((f"◀ on_end {which}", "bold"), " → ", (handler, "bold")))
    outgoing: dict[str, list[DiagramEdge]] = {name: [] for name in graph.nodes}
    for edge in edges:
        outgoing[edge.source].append(edge)
    reachable = set().union(*(_reachable(root, outgoing)
                              for root in (graph.start, *graph.on_end.values())))
    branches: dict[str, Tree] = {}
    for name, node in graph.nodes.items():
        label = _node_label(node, annotations, reachable=name in reachable)
        branch = branches[name] = tree.add(label)
        for edge in outgoing[name]:
            branch.add(_edge_label(edge, node))
    if expand:
        _add_inlined(graph, branches, annotations)
    if referenced_end(edges):
        tree.add(Text("■ end", style="bold"))
    return tree


def _add_inlined(
    graph: Graph, branches: dict[str, Tree], annotations: Mapping[str, NodeAnnotation] | None
) -> None:
    """Hang each child graph's nodes, named `call/child`, and their edges under their parent."""
    outgoing: dict[str, list[DiagramEdge]] = {}
    for edge in inlined_edges(graph):
        outgoing.setdefault(edge.source, []).append(edge)
    for inlined in inlined_nodes(graph):
        if inlined.parent not in branches:  # a parallel branch's sub-flow: under its node
            owner = branches[inlined.parent.rsplit("/", 1)[0]]
            branches[inlined.parent] = owner.add(Text(inlined.parent, style="bold"))
        label = _node_label(inlined.node, annotations, reachable=True, name=inlined.name)
        branch = branches[inlined.name] = branches[inlined.parent].add(label)
        for edge in outgoing.get(inlined.name, ()):
            branch.add(_edge_label(edge, inlined.node))


def _root_label(graph: Graph, loops: list[Loop]) -> Text:
    label = Text.assemble((graph.name, "bold"), "  ", (graph.file, "dim"))
    if graph.description:
        label.append("\n" + graph.description.strip(), style="dim")
    for loop in loops:
        cycle = " → ".join([*loop.nodes, loop.head])
        label.append(f"\n↺ loop: {cycle}", style=_LOOP_STYLE)
    return label


def _reachable(start: str, outgoing: Mapping[str, list[DiagramEdge]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for edge in outgoing.get(todo.pop(), ()):
            if edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen


def _node_label(
    node: GraphNode,
    annotations: Mapping[str, NodeAnnotation] | None,
    *,
    reachable: bool,
    name: str | None = None,
) -> Text:
    name = node.name if name is None else name
    label = Text.assemble((name, "bold"))
    detail = node_detail(node).replace(": ", " ", 1) if node.kind == "tool" else node_detail(node)
    label.append(f" · {detail}", style="cyan")
    if node.max_visits is not None:
        label.append(f" · max_visits {node.max_visits}", style=_LOOP_STYLE)
    if node.guard is not None:
        label.append(f" · if {node.guard.source}", style="cyan")
    if not reachable:
        label.append("  (unreachable from start)", style=_ERROR_STYLE)
    if annotations is not None:
        label.append("  ")
        label.append_text(_annotation(annotations.get(name, NodeAnnotation(0))))
    if node.description:
        label.append("\n" + node.description.strip(), style="dim")
    return label


def _annotation(annotation: NodeAnnotation) -> Text:
    if annotation.visits == 0 and annotation.status is None and not annotation.skipped:
        return Text("not run", style="dim")
    return Text(annotation_text(annotation), style=_STATUS_STYLES.get(annotation.status or "", ""))


def _edge_label(edge: DiagramEdge, node: GraphNode) -> Text:
    target = Text(edge.target, style="bold" if edge.target == END else "")
    if edge.kind == "on_error":
        label = Text.assemble(("⚠ on_error", _ERROR_STYLE), " → ", target)
        if edge.errors:
            label.append(f"  ({', '.join(edge.errors)})", style=_ERROR_STYLE)
    elif edge.kind == "timeout":
        label = Text.assemble(("⏱ on_timeout", _LOOP_STYLE), " → ", target)
        if node.answer_timeout is not None:
            label.append(f"  after {node.answer_timeout:g} s", style="dim")
    elif edge.kind == "exhausted":
        label = Text.assemble(("⊘ on_exhausted", _LOOP_STYLE), " → ", target)
        if node.max_visits is not None:
            label.append(f"  after {node.max_visits} visits", style="dim")
    else:
        arrow = ("↺ ", _LOOP_STYLE) if edge.back_edge else ("→ ", "")
        label = Text.assemble(arrow, target)
        if edge.label is not None:
            label.append_text(Text.assemble("  when ", (edge.label, _CONDITION_STYLE)))
        elif edge.kind == "default":
            label.append("  otherwise", style="dim")
    if edge.back_edge:
        label.append("  (loop)", style=_LOOP_STYLE)
    return label
