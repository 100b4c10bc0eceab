"""Diagrams of a compiled Graph: an edge model with its loops found, then Mermaid, DOT and JSON.

Pure functions over `wfe.graph.Graph`, and no rich import, so `wfe graph --format
mermaid|dot|json` and `wfe serve` stay light. The terminal tree lives in `wfe.render.tree`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from wfe.graph import END, Graph, GraphNode

__all__ = [
    "DiagramEdge",
    "DiagramFormat",
    "EdgeKind",
    "Loop",
    "NodeAnnotation",
    "annotation_text",
    "dot_label",
    "dot_quote",
    "edge_caption",
    "find_loops",
    "graph_edges",
    "mermaid_escape",
    "mermaid_ids",
    "node_lines",
    "referenced_end",
    "render_text",
    "to_dot",
    "to_json",
    "to_mermaid",
]

EdgeKind = Literal["next", "default", "on_error", "exhausted"]
DiagramFormat = Literal["mermaid", "dot", "json"]


@dataclass(frozen=True, slots=True)
class NodeAnnotation:
    """What one run did at a node (`wfe graph --run`)."""

    visits: int
    status: str | None = None


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


Annotations = Mapping[str, NodeAnnotation] | None

_ERROR_COLOUR = "#dc2626"
_LOOP_COLOUR = "#b45309"
# Fill and stroke per node status (the statuses of `wfe.render._model.NodeStatus`).
_STATUS_COLOURS = {
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
    return "on_exhausted"


def annotation_text(annotation: NodeAnnotation) -> str:
    """The visit count after a multiplication sign, then the status; 0 for a node never run."""
    text = f"\N{MULTIPLICATION SIGN}{annotation.visits}"
    return f"{text} · {annotation.status}" if annotation.status else text


def node_lines(node: GraphNode, annotations: Annotations = None) -> list[str]:
    """A node's box in a diagram, line by line: name, kind and tool, guard, run annotation."""
    lines = [node.name, f"{node.kind}: {node.tool.name}" if node.tool is not None else node.kind]
    if node.max_visits is not None:
        lines.append(f"max_visits: {node.max_visits}")
    if annotations is not None:
        lines.append(annotation_text(annotations.get(node.name, NodeAnnotation(0))))
    return lines


def render_text(graph: Graph, fmt: DiagramFormat, annotations: Annotations = None) -> str:
    """The text `wfe graph --format FMT` prints, ending with a newline."""
    if fmt == "mermaid":
        return to_mermaid(graph, annotations)
    if fmt == "dot":
        return to_dot(graph, annotations)
    return json.dumps(to_json(graph, annotations), indent=2, ensure_ascii=False) + "\n"


# --- JSON --------------------------------------------------------------------------------------


def _json_node(node: GraphNode | None, name: str, annotations: Annotations) -> dict[str, Any]:
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
    return item


def to_json(graph: Graph, annotations: Annotations = None) -> dict[str, Any]:
    """`{name, start, nodes, edges}`: nodes in file order then `end` (kind "end") if reached.

    Every node has `id kind tool description max_visits` (+ `visits status` with annotations);
    every edge `from to condition kind back_edge errors`, in the order `graph_edges` gives.
    """
    edges = graph_edges(graph)
    nodes = [_json_node(node, name, annotations) for name, node in graph.nodes.items()]
    if referenced_end(edges):
        nodes.append(_json_node(None, END, annotations))
    return {
        "name": graph.name,
        "start": graph.start,
        "nodes": nodes,
        "edges": [
            {
                "from": edge.source,
                "to": edge.target,
                "condition": edge.label,
                "kind": edge.kind,
                "back_edge": edge.back_edge,
                "errors": list(edge.errors) if edge.errors is not None else None,
            }
            for edge in edges
        ],
    }


# --- Mermaid -----------------------------------------------------------------------------------

# Entity codes for every character that could end a quoted label, start Mermaid markup (markdown
# strings, HTML, entities) or split a link; the renderer decodes them back to the same text.
_MERMAID_ENTITIES = {
    '"': "#quot;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    **{char: f"#{ord(char)};" for char in "#|`[]{}\r\n"},
}
_MERMAID_SAFE_ID = re.compile(r"[A-Za-z0-9_]+")
_MERMAID_START = "wfe_start"
_MERMAID_END = "wfe_end"


def mermaid_escape(text: str) -> str:
    """Text for inside a double-quoted Mermaid label: risky characters as entity codes."""
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in text)


def mermaid_ids(graph: Graph) -> dict[str, str]:
    """Node name -> Mermaid id: `n_NAME` where NAME is a plain word, else `nINDEX_...`.

    The `n_` prefix keeps ids off Mermaid's keywords (`end`, `style`, `class`, ...); the index
    form (file position) keeps names that differ only in punctuation apart.
    """
    ids: dict[str, str] = {}
    for index, name in enumerate(graph.nodes):
        if _MERMAID_SAFE_ID.fullmatch(name):
            ids[name] = f"n_{name}"
        else:
            ids[name] = f"n{index}_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ids


def _mermaid_label(lines: list[str]) -> str:
    return '"' + "<br>".join(mermaid_escape(line) for line in lines) + '"'


def _edge_colour(edge: DiagramEdge) -> str | None:
    if edge.kind == "on_error":
        return _ERROR_COLOUR
    return _LOOP_COLOUR if edge.back_edge else None


def _mermaid_arrow(edge: DiagramEdge) -> str:
    dashed = edge.kind in ("on_error", "exhausted")
    arrow = "-.->" if dashed else "==>" if edge.back_edge else "-->"
    caption = edge_caption(edge)
    return arrow if caption is None else f'{arrow}|"{mermaid_escape(caption)}"|'


def to_mermaid(graph: Graph, annotations: Annotations = None) -> str:
    """A `flowchart TD`: start circle, a box per node, `end` double circle, labelled edges.

    Error and exhausted routes are dashed, back-edges (loops) thick; with annotations each box
    shows visits and status, coloured by status.
    """
    edges = graph_edges(graph)
    ids = mermaid_ids(graph)
    lines = [
        "---",
        f"title: {json.dumps(graph.name, ensure_ascii=False)}",  # JSON is YAML
        "---",
        "flowchart TD",
        f'    {_MERMAID_START}(("start"))',
    ]
    for name, node in graph.nodes.items():
        lines.append(f"    {ids[name]}[{_mermaid_label(node_lines(node, annotations))}]")
    if referenced_end(edges):
        lines.append(f'    {_MERMAID_END}((("end")))')
    lines.append(f"    {_MERMAID_START} --> {ids[graph.start]}")
    for edge in edges:
        target = _MERMAID_END if edge.target == END else ids[edge.target]
        lines.append(f"    {ids[edge.source]} {_mermaid_arrow(edge)} {target}")
    lines += _mermaid_link_styles(edges)
    if annotations is not None:
        lines += _mermaid_status_classes(graph, ids, annotations)
    return "\n".join(lines) + "\n"


def _mermaid_link_styles(edges: list[DiagramEdge]) -> list[str]:
    by_colour: dict[str, list[str]] = {}
    for index, edge in enumerate(edges, start=1):  # link 0 is the one from `start`
        colour = _edge_colour(edge)
        if colour is not None:
            by_colour.setdefault(colour, []).append(str(index))
    return [
        f"    linkStyle {','.join(indices)} stroke:{colour},color:{colour}"
        for colour, indices in by_colour.items()
    ]


def _mermaid_status_classes(
    graph: Graph, ids: Mapping[str, str], annotations: Mapping[str, NodeAnnotation]
) -> list[str]:
    members: dict[str, list[str]] = {}
    for name in graph.nodes:
        annotation = annotations.get(name)
        if annotation is not None and annotation.status in _STATUS_COLOURS:
            members.setdefault(annotation.status, []).append(ids[name])
    lines = []
    for status, node_ids in members.items():
        fill, stroke = _STATUS_COLOURS[status]
        lines.append(f"    classDef status_{status} fill:{fill},stroke:{stroke}")
        lines.append(f"    class {','.join(node_ids)} status_{status}")
    return lines


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


def _dot_node(node: GraphNode, annotations: Annotations) -> str:
    attributes = [f"label={dot_label(chr(10).join(node_lines(node, annotations)))}"]
    if node.description:
        attributes.append(f"tooltip={dot_label(node.description)}")
    annotation = annotations.get(node.name) if annotations is not None else None
    if annotation is not None and annotation.status in _STATUS_COLOURS:
        fill, stroke = _STATUS_COLOURS[annotation.status]
        attributes.append(f'style="rounded,filled", fillcolor="{fill}", color="{stroke}"')
    return f"    {dot_quote(node.name)} [{', '.join(attributes)}];"


def _dot_edge(edge: DiagramEdge, end: str) -> str:
    attributes = []
    caption = edge_caption(edge)
    if caption is not None:
        attributes.append(f"label={dot_label(caption)}")
    if edge.kind in ("on_error", "exhausted"):
        attributes.append("style=dashed")
    colour = _edge_colour(edge)
    if colour is not None:
        attributes.append(f'color="{colour}", fontcolor="{colour}"')
    if edge.back_edge:
        attributes.append("penwidth=2")
    suffix = f" [{', '.join(attributes)}]" if attributes else ""
    target = end if edge.target == END else edge.target
    return f"    {dot_quote(edge.source)} -> {dot_quote(target)}{suffix};"


def to_dot(graph: Graph, annotations: Annotations = None) -> str:
    """A Graphviz `digraph`, top to bottom: start point, rounded boxes, `end` double circle.

    Error and exhausted routes are dashed (errors red), back-edges (loops) bold and amber.
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
    if referenced_end(edges):
        lines.append(f'    {dot_quote(end)} [label="end", shape=doublecircle];')
    lines.append(f"    {dot_quote(start)} -> {dot_quote(graph.start)};")
    lines += [_dot_edge(edge, end) for edge in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
