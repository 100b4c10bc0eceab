"""Mermaid `flowchart TD`: every name and expression escaped so that it renders."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from wfe.diagram.edges import (
    STATUS_COLOURS,
    Annotations,
    DiagramEdge,
    NodeAnnotation,
    edge_caption,
    edge_colour,
    graph_edges,
    inlined_edges,
    inlined_nodes,
    node_lines,
    referenced_end,
)
from wfe.graph.model import END, Graph

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


def _mermaid_arrow(edge: DiagramEdge) -> str:
    dashed = edge.kind in ("on_error", "exhausted", "timeout")
    arrow = "-.->" if dashed else "==>" if edge.back_edge else "-->"
    caption = edge_caption(edge)
    return arrow if caption is None else f'{arrow}|"{mermaid_escape(caption)}"|'


def to_mermaid(graph: Graph, annotations: Annotations = None, expand: bool = False) -> str:
    """A `flowchart TD`: start circle, a box per node, `end` double circle, labelled edges.

    Error and exhausted routes are dashed, back-edges (loops) thick; with annotations each box
    shows visits and status, coloured by status. With `expand`, each `workflow:` node is followed
    by a `subgraph` block holding its child's nodes (`call/child`) and their edges.
    """
    edges = graph_edges(graph)
    ids = mermaid_ids(graph)
    inner = _mermaid_inlined(graph, ids, annotations) if expand else []
    inner_edges = inlined_edges(graph) if expand else []
    lines = [
        "---",
        f"title: {json.dumps(graph.name, ensure_ascii=False)}",  # JSON is YAML
        "---",
        "flowchart TD",
        f'    {_MERMAID_START}(("start"))',
    ]
    for name, node in graph.nodes.items():
        lines.append(f"    {ids[name]}[{_mermaid_label(node_lines(node, annotations))}]")
    lines += inner
    if referenced_end(edges):
        lines.append(f'    {_MERMAID_END}((("end")))')
    lines.append(f"    {_MERMAID_START} --> {ids[graph.start]}")
    for edge in edges + inner_edges:
        target = _MERMAID_END if edge.target == END else ids[edge.target]
        lines.append(f"    {ids[edge.source]} {_mermaid_arrow(edge)} {target}")
    lines += _mermaid_link_styles(edges + inner_edges)
    if annotations is not None:
        lines += _mermaid_status_classes(graph, ids, annotations)
    return "\n".join(lines) + "\n"


def _mermaid_inlined(graph: Graph, ids: dict[str, str], annotations: Annotations) -> list[str]:
    """One `subgraph` block per `workflow:` node, nested as the children are; adds their ids."""
    lines: list[str] = []
    open_blocks: list[str] = []
    for inlined in inlined_nodes(graph):
        while open_blocks and not inlined.name.startswith(open_blocks[-1] + "/"):
            open_blocks.pop()
            lines.append("    " * (len(open_blocks) + 1) + "end")
        if not open_blocks or open_blocks[-1] != inlined.parent:
            ids.setdefault(inlined.parent, f"n{len(ids)}_" + _mermaid_word(inlined.parent))
            block = f"sg_{ids[inlined.parent]}"
            title = _mermaid_label([inlined.parent])
            lines.append("    " * (len(open_blocks) + 1) + f"subgraph {block} [{title}]")
            open_blocks.append(inlined.parent)
        ids[inlined.name] = f"n{len(ids)}_" + _mermaid_word(inlined.name)
        label = _mermaid_label(node_lines(inlined.node, annotations, inlined.name))
        lines.append("    " * (len(open_blocks) + 1) + f"{ids[inlined.name]}[{label}]")
    while open_blocks:
        open_blocks.pop()
        lines.append("    " * (len(open_blocks) + 1) + "end")
    return lines


def _mermaid_word(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _mermaid_link_styles(edges: list[DiagramEdge]) -> list[str]:
    by_colour: dict[str, list[str]] = {}
    for index, edge in enumerate(edges, start=1):  # link 0 is the one from `start`
        colour = edge_colour(edge)
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
        if annotation is not None and annotation.status in STATUS_COLOURS:
            members.setdefault(annotation.status, []).append(ids[name])
    lines = []
    for status, node_ids in members.items():
        fill, stroke = STATUS_COLOURS[status]
        lines.append(f"    classDef status_{status} fill:{fill},stroke:{stroke}")
        lines.append(f"    class {','.join(node_ids)} status_{status}")
    return lines


