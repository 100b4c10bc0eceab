"""Reachability in a compiled graph: what a node can reach, and which nodes can reach `end`.

A node from which no path reaches `end` is a loop with no way out: the compiler rejects it, so
neither `wfe run` nor `wfe validate` lets such a workflow start.
"""

from __future__ import annotations

from collections.abc import Mapping

from wfe.errors import Problem
from wfe.graph.model import END, GraphNode

Nodes = Mapping[str, GraphNode]


def successors(nodes: Nodes, name: str) -> set[str]:
    node = nodes[name]
    targets = {edge.target for edge in node.edges} | {route.target for route in node.on_error}
    if node.on_exhausted is not None:
        targets.add(node.on_exhausted)
    if node.on_timeout is not None:
        targets.add(node.on_timeout)
    return targets


def reachable_from(nodes: Nodes, *starts: str) -> set[str]:
    """The nodes some path from `starts` (the start node, the `on_end:` handlers) reaches."""
    seen = {start for start in starts if start in nodes}
    todo = list(seen)
    while todo:
        for target in successors(nodes, todo.pop()):
            if target != END and target not in seen and target in nodes:
                seen.add(target)
                todo.append(target)
    return seen


def reaches_end(nodes: Nodes) -> set[str]:
    """Nodes from which some path reaches `end` (a fixpoint over reversed edges)."""
    predecessors: dict[str, set[str]] = {name: set() for name in nodes}
    good: set[str] = set()
    for name in nodes:
        for target in successors(nodes, name):
            if target == END:
                good.add(name)
            else:
                predecessors[target].add(name)
    todo = list(good)
    while todo:
        for source in predecessors[todo.pop()]:
            if source not in good:
                good.add(source)
                todo.append(source)
    return good


def dead_ends(nodes: Nodes, *starts: str) -> list[Problem]:
    good = reaches_end(nodes)
    reachable = reachable_from(nodes, *starts)
    problems = []
    for name, node in nodes.items():
        if name not in good and name in reachable:
            cycle = _cycle_text(nodes, name)
            problems.append(Problem("WFE023", f"no path from '{name}' reaches end{cycle}",
                                    node.location))
    return problems


def _cycle_text(nodes: Nodes, name: str) -> str:
    path, current = [name], name
    while True:
        nexts = sorted(t for t in successors(nodes, current) if t != END)
        if not nexts:
            return ""
        current = nexts[0]
        if current in path:
            return f" (cycle {' → '.join([*path[path.index(current):], current])})"
        path.append(current)


