"""Graphviz DOT: a `digraph` with every id and label quoted."""

from __future__ import annotations

from collections.abc import Mapping

from wfe.diagram.edges import (
    STATUS_COLOURS,
    Annotations,
    DiagramEdge,
    edge_caption,
    edge_colour,
    graph_edges,
    inlined_edges,
    inlined_nodes,
    node_lines,
    referenced_end,
)
from wfe.graph.model import END, Graph, GraphNode

# --- Graphviz DOT ------------------------------------------------------------------------------


def dot_quote(text: str) -> str:
    """A DOT double-quoted string: backslash and quote escaped, line breaks as `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    lines = escaped.replace("\r\n", "\n").replace("\r", "\n")
    return '"' + lines.replace("\n", "\\n") + '"'


def dot_label(text: str) -> str:
    """A quoted DOT label: as `dot_quote`, and `&` as `&amp;` (Graphviz decodes entities)."""
    return dot_quote(text.replace("&", "&amp;"))


def _terminal_id(base: str, names: Mapping[str, object]) -> str:
    # Node names start with a letter, so `__start__` is free unless a hand-built graph took it.
    ident = f"__{base}__"
    while ident in names:
        ident += "_"
    return ident


def _dot_node(node: GraphNode, annotations: Annotations, name: str | None = None) -> str:
    name = node.name if name is None else name
    attributes = [f"label={dot_label(chr(10).join(node_lines(node, annotations, name)))}"]
    if node.description:
        attributes.append(f"tooltip={dot_label(node.description)}")
    annotation = annotations.get(name) if annotations is not None else None
    if annotation is not None and annotation.status in STATUS_COLOURS:
        fill, stroke = STATUS_COLOURS[annotation.status]
        attributes.append(f'style="rounded,filled", fillcolor="{fill}", color="{stroke}"')
    return f"    {dot_quote(name)} [{', '.join(attributes)}];"


def _dot_edge(edge: DiagramEdge, end: str) -> str:
    attributes = []
    caption = edge_caption(edge)
    if caption is not None:
        attributes.append(f"label={dot_label(caption)}")
    if edge.kind in ("on_error", "exhausted", "timeout"):
        attributes.append("style=dashed")
    colour = edge_colour(edge)
    if colour is not None:
        attributes.append(f'color="{colour}", fontcolor="{colour}"')
    if edge.back_edge:
        attributes.append("penwidth=2")
    suffix = f" [{', '.join(attributes)}]" if attributes else ""
    target = end if edge.target == END else edge.target
    return f"    {dot_quote(edge.source)} -> {dot_quote(target)}{suffix};"


def _dot_clusters(graph: Graph, annotations: Annotations) -> list[str]:
    """`--expand`: a `cluster_` subgraph per `workflow:` node, nested, holding its child nodes."""
    lines: list[str] = []
    open_blocks: list[str] = []
    for inlined in inlined_nodes(graph):
        while open_blocks and not inlined.name.startswith(open_blocks[-1] + "/"):
            open_blocks.pop()
            lines.append("    " * (len(open_blocks) + 1) + "}")
        if not open_blocks or open_blocks[-1] != inlined.parent:
            indent = "    " * (len(open_blocks) + 1)
            lines.append(f"{indent}subgraph {dot_quote('cluster_' + inlined.parent)} {{")
            lines.append(f"{indent}    label={dot_label(inlined.parent)}; style=dashed;")
            open_blocks.append(inlined.parent)
        node = _dot_node(inlined.node, annotations, inlined.name)
        lines.append("    " * len(open_blocks) + node)
    while open_blocks:
        open_blocks.pop()
        lines.append("    " * (len(open_blocks) + 1) + "}")
    return lines


def to_dot(graph: Graph, annotations: Annotations = None, expand: bool = False) -> str:
    """A Graphviz `digraph`, top to bottom: start point, rounded boxes, `end` double circle.

    Error and exhausted routes are dashed (errors red), back-edges (loops) bold and amber. With
    `expand`, each `workflow:` node's child nodes (`call/child`) sit in a `cluster_` subgraph.
    """
    edges = graph_edges(graph)
    start, end = _terminal_id("start", graph.nodes), _terminal_id("end", graph.nodes)
    lines = [
        f"digraph {dot_quote(graph.name)} {{",
        f'    graph [rankdir=TB, labelloc=t, fontname="Helvetica", label={dot_label(graph.name)}];',
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        f'    {dot_quote(start)} [label="start", shape=circle];',
    ]
    lines += [_dot_node(node, annotations) for node in graph.nodes.values()]
    if expand:
        lines += _dot_clusters(graph, annotations)
        edges = edges + inlined_edges(graph)
    if referenced_end(edges):
        lines.append(f'    {dot_quote(end)} [label="end", shape=doublecircle];')
    lines.append(f"    {dot_quote(start)} -> {dot_quote(graph.start)};")
    lines += [_dot_edge(edge, end) for edge in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
