"""Diagrams of a compiled Graph: an edge model with its loops found, then Mermaid, DOT and JSON.

Pure functions over `wfe.graph.model.Graph`, and no rich import, so `wfe graph --format
mermaid|dot|json` and `wfe serve` stay light. The terminal tree lives in `wfe.render.tree`.
"""

from __future__ import annotations

import json
from typing import Any

from wfe.diagram.dot import dot_label, dot_quote, to_dot
from wfe.diagram.edges import (
    Annotations,
    DiagramEdge,
    DiagramFormat,
    EdgeKind,
    Inlined,
    Loop,
    NodeAnnotation,
    annotation_text,
    edge_caption,
    find_loops,
    graph_edges,
    inlined_edges,
    inlined_nodes,
    node_detail,
    node_lines,
    referenced_end,
)
from wfe.diagram.mermaid import mermaid_escape, mermaid_ids, to_mermaid
from wfe.graph.model import END as _END
from wfe.graph.model import Graph as _Graph
from wfe.graph.model import GraphNode as _GraphNode

__all__ = [
    "DiagramEdge",
    "DiagramFormat",
    "EdgeKind",
    "Inlined",
    "Loop",
    "NodeAnnotation",
    "annotation_text",
    "dot_label",
    "dot_quote",
    "edge_caption",
    "find_loops",
    "graph_edges",
    "inlined_edges",
    "inlined_nodes",
    "mermaid_escape",
    "mermaid_ids",
    "node_detail",
    "node_lines",
    "referenced_end",
    "render_text",
    "to_dot",
    "to_json",
    "to_mermaid",
]


def render_text(
    graph: _Graph, fmt: DiagramFormat, annotations: Annotations = None, expand: bool = False
) -> str:
    """The text `wfe graph --format FMT` prints, ending with a newline."""
    if fmt == "mermaid":
        return to_mermaid(graph, annotations, expand)
    if fmt == "dot":
        return to_dot(graph, annotations, expand)
    document = to_json(graph, annotations, expand)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- JSON --------------------------------------------------------------------------------------


def _json_edge(edge: DiagramEdge) -> dict[str, Any]:
    return {
        "from": edge.source,
        "to": edge.target,
        "condition": edge.label,
        "kind": edge.kind,
        "back_edge": edge.back_edge,
        "errors": list(edge.errors) if edge.errors is not None else None,
    }


def _json_node(node: _GraphNode | None, name: str, annotations: Annotations) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": name,
        "kind": node.kind if node is not None else "end",
        "tool": node.tool.name if node is not None and node.tool is not None else None,
        "description": node.description if node is not None else "",
        "max_visits": node.max_visits if node is not None else None,
    }
    if annotations is not None:
        annotation = annotations.get(name, NodeAnnotation(0))
        item["visits"] = annotation.visits
        item["status"] = annotation.status
        if annotation.skipped:
            item["skipped"] = annotation.skipped
    return item


def to_json(graph: _Graph, annotations: Annotations = None, expand: bool = False) -> dict[str, Any]:
    """`{name, start, nodes, edges}`: nodes in file order then `end` (kind "end") if reached.

    Every node has `id kind tool description max_visits` (+ `visits status` with annotations);
    every edge `from to condition kind back_edge errors`, in the order `graph_edges` gives. With
    `expand`, the child nodes of `workflow:` nodes follow (ids `call/child`, plus `parent`), and
    their edges (a child's edges to its own `end` left out) follow the graph's.
    """
    edges = graph_edges(graph)
    nodes = [_json_node(node, name, annotations) for name, node in graph.nodes.items()]
    if expand:
        for inlined in inlined_nodes(graph):
            nodes.append(_json_node(inlined.node, inlined.name, annotations))
            nodes[-1]["parent"] = inlined.parent
    if referenced_end(edges):
        nodes.append(_json_node(None, _END, annotations))
    if expand:
        edges = edges + inlined_edges(graph)
    return {
        "name": graph.name,
        "start": graph.start,
        "nodes": nodes,
        "edges": [_json_edge(edge) for edge in edges],
    }
