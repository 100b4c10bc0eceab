"""Compiling `parallel:` and `map:` nodes (their run is wfe.engine.fanout): the branches, how many
must succeed, which state keys they may share, and a map's items, item name and collection."""

from __future__ import annotations

from wfe.expr.expression import RESERVED_NAMES
from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode, RetryPolicy, Tolerance
from wfe.graph.subgraph_compile import compile_subgraph, pauses
from wfe.spec.models import Node, ParallelBranch, Retry
from wfe.spec.yaml_loader import YamlPath
from wfe.state.types import fits, is_list_type, parse_type

#: Items of a `map:` node in flight at once when `concurrency:` is not given.
DEFAULT_CONCURRENCY = 8
#: The keys of a branch that calls a tool, and of one that runs a workflow (a sub-flow runs as
#: one attempt, without a timeout of its own).
_TOOL_BRANCH_KEYS = frozenset({"with_", "out", "retry", "timeout", "isolation"})
_FLOW_BRANCH_KEYS = frozenset({"inputs", "outputs"})
#: A record of `errors:`, for checking that the key's type holds it.
_A_FAILURE = {"index": 0, "item": None, "branch": "b", "type": "ValueError", "message": "m"}


def compile_parallel(compiler: Compiling, compiled: GraphNode, node: Node,
                     path: YamlPath) -> GraphNode:
    """The branches of a `parallel:` node (each a tool call or a sub-flow), and how many of
    them must succeed."""
    assert node.parallel is not None
    writers: dict[str, str] = {}
    branches = [_branch(compiler, compiled, node, name, spec, (*path, "parallel", name),
                        writers) for name, spec in node.parallel.items()]
    compiled.branches = tuple(branches)
    compiled.needed = _needed(compiler, node, len(branches), path)
    compile_tolerance(compiler, compiled, node, path)
    if compiled.tolerate is not None and compiled.needed < len(branches):
        compiler.problem("WFE050", "`tolerate` needs `join: all`: with `join: any` or "
                         "`at_least` the join already says how many branches may fail",
                         (*path, "tolerate"))
    return compiled.finish()


def _branch(compiler: Compiling, compiled: GraphNode, node: Node, name: str,
            spec: ParallelBranch, where: YamlPath, writers: dict[str, str]) -> GraphNode:
    """One branch, named `node/branch`: a tool call, or a `workflow:` run as a sub-flow."""
    retry = spec.retry or node.retry or compiler.spec.defaults.retry or Retry()
    branch = GraphNode(
        name=f"{compiled.name}/{name}", kind="tool" if spec.workflow is None else "workflow",
        location=compiler.loaded.location(where, at_key=True), out=spec.out,
        retry=RetryPolicy.of(retry), timeout=spec.timeout or compiled.timeout,
        description=spec.description, isolation=spec.isolation or compiled.isolation,
    )
    if (spec.tool is None) == (spec.workflow is None):
        compiler.problem("WFE022", f"branch '{name}' needs exactly one of `tool:` or "
                         "`workflow:`", where, at_key=True)
    elif spec.workflow is not None:
        _branch_flow(compiler, branch, spec, where, writers)
    else:
        assert spec.tool is not None
        branch.tool = compiler.tool_def(spec.tool, (*where, "tool"))
        if branch.tool is not None:
            branch.bindings = compiler.bindings(branch.tool, spec.with_, where)
    foreign = _TOOL_BRANCH_KEYS if spec.workflow is not None else _FLOW_BRANCH_KEYS
    for attribute in sorted(foreign & spec.given):
        key = "with" if attribute == "with_" else attribute
        what = "a workflow branch" if spec.workflow is not None else "a tool branch"
        compiler.problem("WFE024", f"`{key}` does not belong to {what}", (*where, key),
                         at_key=True)
    if spec.out is not None:
        _check_shared_write(compiler, spec.out, name, writers, (*where, "out"))
    return branch.finish()


def _branch_flow(compiler: Compiling, branch: GraphNode, spec: ParallelBranch,
                 where: YamlPath, writers: dict[str, str]) -> None:
    """A `workflow:` branch: its child, inputs and outputs; it cannot wait for a person."""
    compile_subgraph(compiler, branch, spec, where)
    if branch.subgraph is not None and pauses(branch.subgraph):
        compiler.problem("WFE071", f"a parallel branch's workflow cannot wait for input, and "
                         f"{spec.workflow} has an interrupt node", (*where, "workflow"))
    for key in spec.outputs or {}:
        _check_shared_write(compiler, key, branch.name.rsplit("/", 1)[-1], writers,
                            (*where, "outputs", key))


def compile_tolerance(compiler: Compiling, compiled: GraphNode, node: Node,
                      path: YamlPath) -> None:
    """`tolerate:` and `errors:` of a map or parallel node."""
    if isinstance(node.tolerate, str):
        compiled.tolerate = Tolerance(percent=float(node.tolerate[:-1]))
    elif node.tolerate is not None:
        compiled.tolerate = Tolerance(count=node.tolerate)
    compiled.errors_key = node.errors
    if node.errors is None:
        return
    if node.errors not in compiler.state_keys:
        compiler.undeclared(node.errors, (*path, "errors"))
    elif not is_list_type(compiler.fields[node.errors].type) or not fits(
            parse_type(compiler.fields[node.errors].type), [_A_FAILURE]):
        compiler.problem("WFE050", f"errors: state key '{node.errors}' must be a list that "
                         "holds the failures' records (list, or list[dict])", (*path, "errors"))
    elif compiler.fields[node.errors].reduce not in ("replace", "append", "extend"):
        compiler.problem("WFE050", f"errors: state key '{node.errors}' must have reduce "
                         "replace, append or extend, to which the failures are appended",
                         (*path, "errors"))


def _needed(compiler: Compiling, node: Node, count: int, path: YamlPath) -> int:
    if node.join is None or node.join == "all":
        return count
    if node.join == "any":
        return 1
    assert not isinstance(node.join, str)
    if node.join.at_least > count:
        compiler.problem("WFE011", f"join needs {node.join.at_least} branches to succeed but "
                         f"there are {count}", (*path, "join"))
    return min(node.join.at_least, count)


def _check_shared_write(compiler: Compiling, key: str, branch: str, writers: dict[str, str],
                        path: YamlPath) -> None:
    if key not in compiler.state_keys:
        compiler.undeclared(key, path)
    elif key in writers and compiler.fields[key].reduce == "replace":
        compiler.problem("WFE050", f"branches '{writers[key]}' and '{branch}' both write state "
                         f"key '{key}', which has no reducer to combine them (add reduce: ...)",
                         path)
    writers.setdefault(key, branch)


def compile_map(compiler: Compiling, compiled: GraphNode, node: Node, path: YamlPath) -> None:
    """A `map:` node's items, item name, concurrency and `collect:` key; the item name is bound
    while the rest of the node compiles."""
    assert node.map is not None
    if node.tool is None and node.workflow is None:
        compiler.problem("WFE022", f"map node '{compiled.name}' needs `tool:` or `workflow:` "
                         "to run per item", path, at_key=True)
    compiled.item_name = node.as_ or "item"
    if compiled.item_name in compiler.state_keys | RESERVED_NAMES:
        compiler.problem("WFE050", f"`as: {compiled.item_name}` hides a state key or reserved "
                         "name; pick another name", (*path, "as"))
    compiled.items = compiler.expression(node.map, (*path, "map"))
    compiled.concurrency = node.concurrency or DEFAULT_CONCURRENCY
    compiled.collect = node.collect
    compile_tolerance(compiler, compiled, node, path)
    if node.collect is not None:
        if node.collect not in compiler.state_keys:
            compiler.undeclared(node.collect, (*path, "collect"))
        elif not is_list_type(compiler.fields[node.collect].type):
            compiler.problem("WFE050", f"collect: state key '{node.collect}' must be a list",
                             (*path, "collect"))
    compiler.local_names = frozenset({compiled.item_name})
