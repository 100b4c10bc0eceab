"""`wfe graph`: the compiled graph as a terminal tree, Mermaid, DOT or JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from wfe.discovery import build_registry
from wfe.graph import compile_graph
from wfe.spec.load import load_spec_file

FORMATS = ("tree", "mermaid", "dot", "json")


def print_graph(file: Path, output: str, imports: list[str]) -> None:
    loaded = load_spec_file(file)
    graph = compile_graph(loaded, build_registry(loaded, imports))
    if output == "tree":
        from rich.console import Console

        from wfe.render.tree import graph_tree

        Console().print(graph_tree(graph))
        return
    from wfe.diagram import render_text

    sys.stdout.write(render_text(graph, output))  # type: ignore[arg-type]
