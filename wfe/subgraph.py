"""`workflow: FILE` nodes: another workflow run as one step of this one.

Compiling loads and compiles the child file (its path relative to the parent's), with its own
imports, once however often it is referenced, and detects recursion, nesting too deep and
expansion past a node cap. Running gives the child the evaluated `inputs`, runs it on the
parent's event stream (its nodes named `parent_node/child_node`, inside a map `node[3]/child`),
and writes the child's `outputs` back as the step's updates. A subgraph is one step of the
parent: after a crash the whole subgraph runs again. An interrupt in the child pauses the parent,
and a resume continues the child where it stopped (wfe.subgraph_pause).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wfe.compile_context import Compiling, SubgraphSession
from wfe.errors import ExpressionError, InputError, Problem, RunError, SpecError
from wfe.graph import Graph, GraphNode
from wfe.interrupts import Stop
from wfe.run_context import Asker, RunContext
from wfe.spec.models import Node, ParallelBranch
from wfe.subgraph_pause import PausedChild, parent_waiting
from wfe.tool_failure import ToolFailure
from wfe.yamlsafe import YamlPath

#: Levels of `workflow:` nesting, the top file being level 1: beyond it, compiling and running
#: would recurse past Python's stack.
MAX_SUBGRAPH_DEPTH = 32
#: Nodes of a workflow with each `workflow:` reference replaced by the child's nodes: a few small
#: files that each reference the next several times would otherwise run an exponential number of
#: steps. The same bound as a YAML document's expansion.
MAX_EXPANDED_NODES = 100_000
#: What names a child workflow: a `workflow:` or `map:` node, or a branch of a `parallel:` one.
ChildCall = Node | ParallelBranch


def compile_subgraph(compiler: Compiling, compiled: GraphNode, node: ChildCall,
                     path: YamlPath) -> None:
    """Load and compile the child workflow of a node (or of a parallel branch) into
    `compiled.subgraph`; report every problem."""
    assert node.workflow is not None
    parent = compiler.loaded.path.resolve()
    child_path = (compiler.loaded.path.parent / node.workflow).resolve()
    where: YamlPath = (*path, "workflow")
    chain = [*compiler.stack, parent]
    if child_path in chain:
        names = " → ".join(p.name for p in [*chain[chain.index(child_path):], child_path])
        compiler.problem("WFE070", f"subgraph recursion: {names}", where)
        return
    session = compiler.subgraphs
    if session is None:
        session = compiler.subgraphs = SubgraphSession()
    found = session.compiled.get(child_path)
    if found is None:
        if len(chain) >= MAX_SUBGRAPH_DEPTH:
            compiler.problem("WFE070", f"subgraph {node.workflow}: subgraphs nest more than "
                             f"{MAX_SUBGRAPH_DEPTH} levels deep", where)
            return
        found = _compile_child(compiler, node, child_path, chain)
        session.compiled[child_path] = found
        if isinstance(found, SpecError):
            _report_invalid(compiler, node, found, where, first=True)
            return
    elif isinstance(found, SpecError):
        _report_invalid(compiler, node, found, where, first=False)
        return
    _count_into_parent(compiler, node, found, parent, child_path, where)
    compiled.subgraph = found
    _bind_inputs(compiler, compiled, node, path)
    _bind_outputs(compiler, compiled, node, path)


def _compile_child(compiler: Compiling, node: ChildCall, child_path: Path,
                   chain: list[Path]) -> Graph | SpecError:
    assert node.workflow is not None
    shown = str(Path(compiler.loaded.display_path).parent / node.workflow)
    try:
        return compiler.compile_file(child_path, shown, tuple(chain))
    except SpecError as error:
        return error


def _report_invalid(compiler: Compiling, node: ChildCall, error: SpecError, where: YamlPath, *,
                    first: bool) -> None:
    """The reference to an invalid child; the child's own problems are added at its first."""
    unreadable = [p for p in error.errors if p.code == "WFE001"]
    if unreadable:
        compiler.problem("WFE070", f"subgraph {node.workflow}: {unreadable[0].message}", where)
        return
    count = len(error.errors)
    compiler.problem("WFE070", f"subgraph {node.workflow} is invalid ({count} "
                     f"problem{'s' if count != 1 else ''}, reported at their place)", where)
    if first:
        compiler.problems.extend(error.problems)


def _count_into_parent(compiler: Compiling, node: ChildCall, child: Graph, parent: Path,
                       child_path: Path, where: YamlPath) -> None:
    """Count the child's nodes and levels into the parent's; report the reference that crosses
    a bound."""
    session = compiler.subgraphs
    assert session is not None
    child_height = session.height.get(child_path, 1)
    depth = len(compiler.stack) + 1 + child_height
    if depth > MAX_SUBGRAPH_DEPTH:
        compiler.problem("WFE070", f"subgraph {node.workflow}: subgraphs nest more than "
                         f"{MAX_SUBGRAPH_DEPTH} levels deep", where)
    session.height[parent] = max(session.height.get(parent, 1), child_height + 1)
    before = session.expanded.get(parent, len(compiler.spec.nodes))
    total = before + session.expanded.get(child_path, len(child.nodes))
    session.expanded[parent] = total
    if total > MAX_EXPANDED_NODES >= before:
        compiler.problem("WFE070", f"subgraph {node.workflow}: with its subgraphs expanded, this "
                         f"workflow has more than {MAX_EXPANDED_NODES} nodes", where)


def _bind_inputs(compiler: Compiling, compiled: GraphNode, node: ChildCall, path: YamlPath) -> None:
    assert compiled.subgraph is not None
    child_keys = compiled.subgraph.schema.fields
    bound = []
    for key, value in (node.inputs or {}).items():
        where: YamlPath = (*path, "inputs", key)
        if key not in child_keys:
            compiler.problems.append(Problem(
                "WFE050", f"the subgraph has no state key '{key}'", compiler.loaded.location(
                    where, at_key=True)))
        expression = compiler.expression(value, where) if isinstance(value, str) else None
        bound.append((key, expression, value))
    compiled.sub_inputs = tuple(bound)


def _bind_outputs(compiler: Compiling, compiled: GraphNode, node: ChildCall,
                  path: YamlPath) -> None:
    assert compiled.subgraph is not None
    for parent_key, child_key in (node.outputs or {}).items():
        where: YamlPath = (*path, "outputs", parent_key)
        if parent_key not in compiler.state_keys and compiled.kind != "map":
            compiler.undeclared(parent_key, where)
        if child_key not in compiled.subgraph.schema.fields:
            compiler.problem("WFE050", f"the subgraph has no state key '{child_key}'", where)
    compiled.sub_outputs = dict(node.outputs or {})


async def run_subgraph(engine: RunContext, node: GraphNode, scope: Mapping[str, Any],
                       prefix: str, *, in_item: bool = False) -> dict[str, Any]:
    """Run the child to its end; its outputs, keyed by the parent's keys.

    A map item's child (`in_item`) makes every call on the parent's fan-out executor.
    """
    child = node.subgraph
    assert child is not None
    inputs = _evaluate_inputs(node, scope)
    try:
        state = child.schema.initial(inputs)
    except InputError as error:
        raise RunError(f"subgraph input: {error}", node=node.name) from None
    paused = None if in_item else engine.answers.pop(node.name, None)
    cursor, answers = None, None
    if isinstance(paused, PausedChild):  # a resumed run: the child goes on where it stopped
        if paused.cursor.node not in child.nodes:
            raise RunError(f"{child.file} changed since the run paused: it has no "
                           f"node '{paused.cursor.node}' to go on from", node=node.name)
        state.update(paused.state)
        cursor, answers = paused.cursor, paused.answers
    run = engine.child(child, inputs=inputs, prefix=prefix, in_item=in_item,
                       ask=_prefixed(engine, prefix) if not in_item else None)
    result = await run.run(state, cursor, answers)
    if result.status == "waiting":
        if in_item:  # refused when the file is loaded; a map's items cannot wait one by one
            raise RunError("a map item's workflow cannot wait for input", node=node.name)
        raise Stop("waiting", parent_waiting(node, child, result))
    if result.error is not None:
        raise ToolFailure(result.error, 1)
    missing = [c for c in node.sub_outputs.values() if c not in result.state]
    if missing:
        raise RunError(f"the subgraph ended without setting '{missing[0]}'", node=node.name)
    return {parent: result.state[child_key] for parent, child_key in node.sub_outputs.items()}


def _prefixed(engine: RunContext, prefix: str) -> Asker | None:
    """The parent's way of asking a person, for the child's interrupts (named as events are)."""
    ask = engine.ask
    if ask is None:
        return None
    return lambda name, message, expects: ask(prefix + name, message, expects)


def _evaluate_inputs(node: GraphNode, scope: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, expression, constant in node.sub_inputs:
        if expression is None:
            values[key] = constant
            continue
        try:
            values[key] = expression.evaluate(scope)
        except ExpressionError as error:
            raise ExpressionError(f"inputs.{key}: {error}", node=node.name) from None
    return values
