"""`wfe validate`: every problem of every file, from the same loader and compiler `wfe run` uses,
plus the graph checks that only matter before a run (reachability, unused state keys, constants,
and what tools' `return {...}` literals write). A file with errors still gets every check its
compiled nodes allow, warnings included.
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wfe.errors import Location, Problem, SpecError, did_you_mean
from wfe.graph.compiler import check_graph
from wfe.graph.load import LoadedSpec, load_spec_file
from wfe.graph.model import Graph, GraphNode, Source
from wfe.graph.reach import reachable_from
from wfe.spec.yaml_loader import YamlPath
from wfe.state.annotation_check import strict_verdict
from wfe.tools.discovery import build_registry
from wfe.tools.function_source import parse_function
from wfe.tools.registry import ToolDef


def workflow_files(targets: Sequence[Path]) -> list[Path]:
    """The files to check: each file named, and every *.yaml / *.yml under each folder."""
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(p for p in target.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            files.append(target)
    return files


def validate_file(path: Path, imports: Sequence[str] = ()) -> list[Problem]:
    """Every problem in one workflow file (errors and warnings), sorted by position."""
    try:
        loaded = load_spec_file(path)
        registry = build_registry(loaded, imports)
    except SpecError as error:
        return sorted(error.problems, key=Problem.sort_key)
    checked = check_graph(loaded, registry)
    # A file with errors still gets the checks its nodes allow: every problem in one pass.
    # An expression that did not compile reads what cannot be known.
    complete = checked.graph is not None or not any(p.code == "WFE040" for p in checked.problems)
    found = _graph_checks(Compiled(loaded, checked.nodes, complete))
    return sorted([*checked.problems, *found], key=Problem.sort_key)


def graph_problems(graph: Graph) -> list[Problem]:
    """The checks compiling leaves to `wfe validate` (reachability, constants, unused keys),
    and the warnings compiling found."""
    found = _graph_checks(Compiled(graph.loaded, graph.nodes, True))
    return sorted([*graph.warnings, *found], key=Problem.sort_key)


def validate_files(paths: Iterable[Path], imports: Sequence[str] = ()) -> list[Problem]:
    problems: dict[Problem, None] = {}  # a subgraph's problems may come with its parent's too
    for path in paths:
        problems.update(dict.fromkeys(validate_file(path, imports)))
    return list(problems)


@dataclass(frozen=True)
class Compiled:
    """What the graph checks look at: the nodes as far as they compiled (all of them when the
    file has no error); `complete` when every expression compiled."""

    loaded: LoadedSpec
    nodes: dict[str, GraphNode]
    complete: bool

    @property
    def start(self) -> str:
        return self.loaded.spec.start_node


def _graph_checks(compiled: Compiled) -> list[Problem]:
    return [*_unreachable(compiled), *_constant_types(compiled), *_unused_keys(compiled),
            *_undeclared_writes(compiled), *_shared_writes(compiled)]


# --- graph checks --------------------------------------------------------------------------

def _unreachable(graph: Compiled) -> list[Problem]:
    if graph.start not in graph.nodes:
        return []
    handlers = graph.loaded.spec.on_end.starts().values()
    reachable = reachable_from(graph.nodes, graph.start, *handlers)
    return [
        Problem("WFE060", f"node '{name}' is never reached from '{graph.start}'", node.location,
                "warning")
        for name, node in graph.nodes.items()
        if name not in reachable
    ]


def _constant_types(graph: Compiled) -> list[Problem]:
    problems = []
    for node in graph.nodes.values():
        if node.tool is None:
            continue
        annotations = {p.name: p.annotation for p in node.tool.params}
        for binding in node.bindings:
            annotation = annotations.get(binding.param, inspect.Parameter.empty)
            if binding.source is not Source.CONSTANT or annotation in (inspect.Parameter.empty,
                                                                       Any):
                continue
            message = _type_mismatch(annotation, binding.value)
            if message:
                location = graph.loaded.location(("nodes", node.name, "with", binding.param))
                problems.append(Problem(
                    "WFE032",
                    f"with.{binding.param}: tool '{node.tool.name}' expects {message}",
                    location,
                ))
    return problems


def _type_mismatch(annotation: Any, value: Any) -> str:
    accepted = strict_verdict(annotation, value)
    if accepted is None:
        accepted = _pydantic_verdict(annotation, value)
    if accepted is not False:
        return ""
    shown = getattr(annotation, "__name__", None) or str(annotation)
    return f"{shown}, got {type(value).__name__} {value!r}"[:200]


def _pydantic_verdict(annotation: Any, value: Any) -> bool | None:
    """Pydantic's strict verdict, for annotations wfe.state.annotation_check leaves to it; None when
    pydantic cannot build a validator for the annotation."""
    # deferred: pydantic (~100 ms) loads only for an annotation the plain check cannot decide
    from pydantic import TypeAdapter, ValidationError

    from wfe.state.pydantic_plugins import without_plugins

    try:
        with without_plugins():
            adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    except Exception:
        return None
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _unused_keys(graph: Compiled) -> list[Problem]:
    if not graph.complete or not all(map(_calls_known, graph.nodes.values())):
        return []  # a node that did not compile reads and writes what cannot be known
    read: set[str] = set()
    written: set[str] = set()
    for node in graph.nodes.values():
        for part in (node, *node.branches):
            if not _note_reads_and_writes(part, read, written):
                return []  # a tool's reads or writes cannot be known without running it
        for edge in node.edges:
            if edge.condition is not None:
                read.update(edge.condition.names)
        if node.items is not None:
            read.update(node.items.names)
        if node.guard is not None:
            read.update(node.guard.names)
        if node.template is not None:  # `wait:` or `fail:` "${ }"
            read.update(*(e.names for e in node.template.expressions))
        for part in (node, *node.branches):  # a workflow node's child, or a branch's
            for _, expression, _ in part.sub_inputs:
                read.update(expression.names if expression is not None else ())
            written.update(part.sub_outputs if part.kind == "workflow" else ())
        written.update(key for key in (node.collect, "error" if node.on_error else None) if key)
        written.update(node.expects)
    return [
        Problem("WFE061", f"state key '{key}' is neither read nor written by any node",
                graph.loaded.location(("state", key), at_key=True), "warning")
        for key in graph.loaded.spec.state
        if key not in read and key not in written
    ]


def _calls_known(node: GraphNode) -> bool:
    """Whether what the node runs compiled (its tool or its subgraph, and its branches')."""
    if node.kind in ("interrupt", "wait", "fail"):
        return True
    if node.kind == "parallel":
        return all(b.tool is not None or b.subgraph is not None for b in node.branches)
    return node.tool is not None or node.subgraph is not None


def _note_reads_and_writes(node: GraphNode, read: set[str], written: set[str]) -> bool:
    """Add what one tool call reads and writes; False when that cannot be known."""
    for binding in node.bindings:
        if binding.source is Source.WHOLE_STATE:
            return False  # a tool that sees the whole state may read and write any key
        if binding.source is Source.STATE:
            read.add(binding.value)
        if binding.source is Source.TEMPLATE:
            read.update(*(e.names for e in binding.value.expressions))
    if node.out:
        written.add(node.out)
    writes = _literal_writes(node.tool) if node.tool is not None else frozenset[str]()
    if writes is None:
        return False
    written.update(writes)
    return True


def _literal_writes(tool: ToolDef) -> frozenset[str] | None:
    """The keys a tool returns, when every `return` is None or a dict literal with string keys."""
    returns = _literal_returns(tool)
    return frozenset(returns) if returns is not None else None


@functools.cache
def _literal_returns(tool: ToolDef) -> dict[str, int] | None:
    """`_literal_writes` with the line (in the function's own source) that first returns each."""
    try:
        tree = parse_function(tool.fn)
    except (OSError, TypeError, SyntaxError):
        return None
    keys: dict[str, int] = {}
    for node in _own_nodes(tree.body[0]):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        if isinstance(value, ast.Constant) and value.value is None:
            continue
        if not isinstance(value, ast.Dict) or not all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys
        ):
            return None
        for key in value.keys:
            if isinstance(key, ast.Constant):
                keys.setdefault(str(key.value), key.lineno)
    return keys


def _own_nodes(function: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a function's own body: not those of a function or class defined in it,
    whose `return`s are not the tool's."""
    todo = list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                          | ast.ClassDef):
            todo.extend(ast.iter_child_nodes(node))


def _source_line(tool: ToolDef, line: int) -> str:
    """`file.py:N`, where a line of the tool's own source is in its module."""
    fn = inspect.unwrap(tool.fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return f"tool '{tool.name}'"
    return f"{Path(code.co_filename).name}:{code.co_firstlineno + line - 1}"


# --- what tools write, read off their return literals ---------------------------------------

def _tool_calls(graph: Compiled) -> Iterator[tuple[GraphNode, YamlPath]]:
    """Each tool call whose returned keys become updates, with where its `tool:` is written."""
    for name, node in graph.nodes.items():
        if node.kind == "tool" and node.tool is not None and node.out is None:
            yield node, ("nodes", name, "tool")
        for branch in node.branches:
            if branch.tool is not None and branch.out is None:
                yield branch, ("nodes", name, "parallel", branch.name.split("/", 1)[1], "tool")


def _undeclared_writes(graph: Compiled) -> list[Problem]:
    declared = graph.loaded.spec.state
    problems = []
    for call, path in _tool_calls(graph):
        assert call.tool is not None
        for key, line in (_literal_returns(call.tool) or {}).items():
            if key not in declared:
                problems.append(Problem(
                    "WFE034", f"tool '{call.tool.name}' returns state key '{key}' "
                    f"({_source_line(call.tool, line)}), which is not declared under `state:`"
                    f"{did_you_mean(key, declared)}", graph.loaded.location(path)))
    return problems


def _shared_writes(graph: Compiled) -> list[Problem]:
    """Two branches of one parallel node that return the same key, which has no reducer (two
    `out:` of one key the compiler reports itself)."""
    fields = graph.loaded.spec.state_fields()
    problems = []
    for name, node in graph.nodes.items():
        writers: dict[str, tuple[str, bool]] = {}
        for branch in node.branches:
            label = branch.name.split("/", 1)[1]
            returns = _literal_writes(branch.tool) if branch.tool is not None else None
            for key, by_out in _branch_writes(branch.out, returns):
                first = writers.setdefault(key, (label, by_out))
                if (first[0] == label or (first[1] and by_out) or key not in fields
                        or fields[key].reduce != "replace"):
                    continue
                path: YamlPath = ("nodes", name, "parallel", label, "out" if by_out else "tool")
                problems.append(Problem(
                    "WFE050", f"branches '{first[0]}' and '{label}' both write state key "
                    f"'{key}', which has no reducer to combine them (add reduce: ...)",
                    graph.loaded.location(path)))
    return problems


def _branch_writes(out: str | None, returns: frozenset[str] | None
                   ) -> list[tuple[str, bool]]:
    if out is not None:
        return [(out, True)]
    return [(key, False) for key in sorted(returns or ())]


def as_strict(problems: list[Problem]) -> list[Problem]:
    """`--strict`: every warning becomes an error."""
    return [Problem(p.code, p.message, p.location, "error") for p in problems]


def missing_target(path: Path) -> Problem:
    return Problem("WFE001", "no such file or folder", Location(str(path), 1, 1))
