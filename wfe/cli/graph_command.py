"""`wfe graph`: the compiled graph as a terminal tree, Mermaid, DOT or JSON."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from wfe.diagram import NodeAnnotation, render_text
from wfe.errors import UsageError
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_file
from wfe.tools.discovery import build_registry

if TYPE_CHECKING:
    from wfe.graph.model import Graph
    from wfe.store import RunRecord

FORMATS = ("tree", "mermaid", "dot", "json")


def print_graph(file: Path, output: str, imports: list[str], run: str | None = None,
                store: Path | None = None, expand: bool = False) -> None:
    loaded = load_spec_file(file)
    graph = compile_graph(loaded, build_registry(loaded, imports))
    annotations = run_annotations(run, store, graph) if run is not None else None
    if output == "tree":
        # deferred: Rich (~15 ms) draws the tree only; mermaid, dot and json go without it
        from rich.console import Console

        from wfe.render.tree import graph_tree

        Console().print(graph_tree(graph, annotations, expand))
        return
    sys.stdout.write(render_text(graph, output, annotations, expand))  # type: ignore[arg-type]


def run_annotations(run: str, store_path: Path | None,
                    graph: Graph) -> dict[str, NodeAnnotation]:
    """Each node's visits in a stored run of this graph's workflow, and the outcome of its last
    step."""
    # deferred: only --run reads the store; the run options (~1 ms) stay out of a plain `graph`
    from wfe.cli.run_options import open_store

    with open_store(store_path, None) as store:
        record = store.get_run(store.resolve(run))
        _check_same_workflow(record, graph)
        steps = store.steps(record.run_id)
    last: dict[str, str] = {s.node: s.outcome for s in steps if s.outcome != "skipped"}
    skipped = Counter(s.node for s in steps if s.outcome == "skipped")
    failed_at = (record.error or {}).get("node")
    if failed_at:
        last[failed_at] = "failed"
    if record.waiting:
        last[record.waiting["node"]] = "waiting"
    return {node: NodeAnnotation(record.visits.get(node, 0), last.get(node), skipped[node])
            for node in {**record.visits, **skipped}}


def _check_same_workflow(record: RunRecord, graph: Graph) -> None:
    """A run of another workflow would draw every node as not run: refuse it."""
    strangers = [node for node in record.visits if node not in graph.nodes]
    if record.workflow == graph.name and not strangers:
        return
    raise UsageError(f"--run {record.run_id} is a run of workflow '{record.workflow}' "
                     f"({record.workflow_path}), not of '{graph.name}' ({graph.file})")
