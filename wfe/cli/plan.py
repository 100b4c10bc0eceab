"""What `wfe run --dry-run` prints."""

from __future__ import annotations

import json
from typing import Any

from wfe.graph.model import Graph
from wfe.nodes import kind_of


def plan_text(graph: Graph, state: dict[str, Any]) -> str:
    """The nodes in order, their tools, bindings and edges, and the initial state."""
    lines = [f"workflow {graph.name} ({graph.file})", f"start: {graph.start}"]
    lines.extend(f"on_end {which}: {node}" for which, node in graph.on_end.items())
    lines.append("nodes:")
    for node in graph.nodes.values():
        lines.append(f"  {node.name}: {kind_of(node.kind).describe(node)}")
        if node.guard is not None:
            lines.append(f"    if {node.guard.source}")
        lines.extend(f"    {b.param} <- {b.source.value}" for b in node.bindings)
        lines.extend(f"    expects {key}: {type_text}" for key, type_text in node.expects.items())
        for edge in node.edges:
            condition = f" when {edge.text}" if edge.text else ""
            lines.append(f"    -> {edge.target}{condition}")
        if node.on_timeout is not None:
            lines.append(f"    -> {node.on_timeout} on_timeout after {node.answer_timeout:g} s")
    lines.append("initial state:")
    lines.extend(f"  {key} = {json.dumps(value)}" for key, value in state.items())
    lines.append("no tool was called (dry run)")
    return "\n".join(lines) + "\n"
