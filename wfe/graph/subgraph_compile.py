"""Compiling `workflow: FILE` (a `workflow:` node, a `map:` of one, a `parallel:` branch): the
child file is loaded and compiled with its own imports, once however often it is referenced,
with recursion, nesting too deep and expansion past a node cap refused at the reference. Running
it is wfe.engine.subgraph's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from wfe.errors import Problem, SpecError
from wfe.graph.compile_context import Compiling, SubgraphSession
from wfe.graph.model import Graph, GraphNode
from wfe.spec.yaml_loader import YamlPath
from wfe.tools.import_rule import project_root

#: Levels of `workflow:` nesting, the top file being level 1: beyond it, compiling and running
#: would recurse past Python's stack.
MAX_SUBGRAPH_DEPTH = 32
#: Nodes of a workflow with each `workflow:` reference replaced by the child's nodes: a few small
#: files that each reference the next several times would otherwise run an exponential number of
#: steps. The same bound as a YAML document's expansion.
MAX_EXPANDED_NODES = 100_000


class ChildCall(Protocol):
    """What names a child workflow: a `workflow:` or `map:` node, or a branch of a `parallel:`
    one (each kind's record has these keys)."""

    @property
    def workflow(self) -> str | None: ...

    @property
    def inputs(self) -> dict[str, Any] | None: ...

    @property
    def outputs(self) -> dict[str, str] | None: ...


def compile_subgraph(compiler: Compiling, compiled: GraphNode, node: ChildCall,
                     path: YamlPath) -> None:
    """Load and compile the child workflow of a node (or of a parallel branch) into
    `compiled.subgraph`; report every problem."""
    assert node.workflow is not None
    parent = compiler.loaded.path.resolve()
    child_path = (compiler.loaded.path.parent / node.workflow).resolve()
    where: YamlPath = (*path, "workflow")
    chain = [*compiler.stack, parent]
    root = project_root(chain[0].parent)
    if not child_path.is_relative_to(root):
        compiler.problem("WFE070", f"subgraph {node.workflow}: the file lies outside the "
                         f"workflow's project ({root}); a workflow runs only its project's "
                         "files", where)
        return
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


def pauses(graph: Graph) -> bool:
    """Whether a run of the graph can wait for a person: an interrupt in it or in a subgraph."""
    return any(node.kind == "interrupt" or (node.subgraph is not None and pauses(node.subgraph))
               for node in graph.nodes.values())
