"""`wfe run`: load, bind inputs, pick a front end, run, print or write the final state."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfe.api import Workflow
from wfe.cli.inputs import load_inputs_file, parse_assignments
from wfe.engine import RunResult
from wfe.errors import UsageError
from wfe.graph import Graph
from wfe.ids import new_run_id
from wfe.render import Renderer, RenderMode, make_renderer

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


@dataclass
class RunOptions:
    file: Path
    assignments: list[str] = field(default_factory=list)
    inputs_file: Path | None = None
    json_lines: bool = False
    quiet: bool = False
    output: Path | None = None
    dry_run: bool = False
    imports: list[str] = field(default_factory=list)


def gather_inputs(options: RunOptions) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if options.inputs_file is not None:
        inputs.update(load_inputs_file(options.inputs_file))
    inputs.update(parse_assignments(options.assignments))
    return inputs


def run_workflow(options: RunOptions) -> int:
    workflow = Workflow.load(options.file, imports=options.imports)
    inputs = gather_inputs(options)
    state = workflow.initial_state(inputs)
    if options.dry_run:
        sys.stdout.write(plan_text(workflow.graph, workflow.graph.schema.mask(state)))
        return EXIT_OK
    renderer = _renderer(options, workflow.graph)
    with renderer:
        result = asyncio.run(workflow.arun(inputs, listeners=[renderer], run_id=new_run_id()))
    _report(result, options, workflow.graph)
    return EXIT_OK if result.ok else EXIT_FAILED


def _mode(options: RunOptions) -> RenderMode:
    if options.json_lines:
        return "json"
    if options.quiet:
        return "quiet"
    return "live" if sys.stderr.isatty() else "plain"


def _renderer(options: RunOptions, graph: Graph) -> Renderer:
    return make_renderer(_mode(options), nodes=list(graph.nodes), workflow=graph.name)


def _report(result: RunResult, options: RunOptions, graph: Graph) -> None:
    shown = graph.schema.mask(result.state)
    if options.output is not None:
        _write_output(options.output, shown)
    elif not options.json_lines and not options.quiet:
        _print_state(shown)
    if result.error is not None and not options.json_lines:
        sys.stderr.write(f"error: {result.error}\n")


def _write_output(path: Path, state: dict[str, Any]) -> None:
    try:
        path.write_text(json.dumps(state, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--output {path}: cannot write it ({error.strerror})") from None


def _print_state(state: dict[str, Any]) -> None:
    text = json.dumps(state, indent=2, ensure_ascii=False)
    if sys.stdout.isatty():
        from rich.console import Console

        Console().print_json(text)
    else:
        sys.stdout.write(text + "\n")


def plan_text(graph: Graph, state: dict[str, Any]) -> str:
    """What `--dry-run` prints: the nodes in order, their tools, bindings and edges."""
    lines = [f"workflow {graph.name} ({graph.file})", f"start: {graph.start}", "nodes:"]
    for node in graph.nodes.values():
        tool = node.tool.name if node.tool is not None else node.kind
        lines.append(f"  {node.name}: {node.kind} {tool}")
        for binding in node.bindings:
            lines.append(f"    {binding.param} <- {binding.source.value}")
        for edge in node.edges:
            condition = f" when {edge.text}" if edge.text else ""
            lines.append(f"    -> {edge.target}{condition}")
    lines.append("initial state:")
    lines.extend(f"  {key} = {json.dumps(value)}" for key, value in state.items())
    lines.append("no tool was called (dry run)")
    return "\n".join(lines) + "\n"
