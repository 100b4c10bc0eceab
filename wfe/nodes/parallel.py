"""`parallel:`: run named branches at once, each a tool call or a sub-flow, joined by `join:`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Literal

from wfe.graph.compile_context import Compiling
from wfe.graph.model import GraphNode, RetryPolicy
from wfe.graph.subgraph_compile import compile_subgraph, pauses
from wfe.nodes._base import KindBase, Outcome, compile_tolerance, tolerance
from wfe.spec.models import (
    NODE_NAME,
    TEXT,
    WORKFLOW_FILE,
    ErrorRoute,
    NodeCommon,
    Retry,
    errors_key,
    inputs_key,
    isolation_key,
    on_error_key,
    outputs_key,
    retry_key,
    short_or_long,
    timeout_key,
    tolerate_key,
    with_key,
)
from wfe.spec.record import Record, Section, field
from wfe.spec.rules import Choice, MapOf, Whole
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:  # the run is the engine's: the kinds see it through RunContext only
    from wfe.engine.run_context import RunContext

#: The keys of a branch that calls a tool, and of one that runs a workflow (a sub-flow runs as
#: one attempt, without a timeout of its own).
_TOOL_BRANCH_KEYS = frozenset({"with_", "out", "retry", "timeout", "isolation"})
_FLOW_BRANCH_KEYS = frozenset({"inputs", "outputs"})


class ParallelBranch(Record):
    """One branch of a `parallel:` node: a tool call of its own, or a whole sub-flow (a
    `workflow:` with its `inputs` and `outputs`)."""

    tool: str | None = field(TEXT, default=None)
    workflow: str | None = field(WORKFLOW_FILE, default=None)
    inputs: dict[str, Any] | None = inputs_key()
    outputs: dict[str, str] | None = outputs_key()
    with_: dict[str, Any] = with_key()
    out: str | None = field(TEXT, default=None)
    retry: Retry | None = retry_key()
    timeout: float | None = timeout_key()
    isolation: Literal["thread", "process"] | None = isolation_key()
    description: str = field(TEXT, default="")


class JoinAtLeast(Record):
    """`join: {at_least: N}`: the parallel node succeeds once N branches have."""

    at_least: int = field(Whole(ge=1))


JOIN = short_or_long(Choice("all", "any"), Section(JoinAtLeast), dict)


class ParallelNode(NodeCommon):
    """A node that runs named branches at once."""

    parallel: dict[str, ParallelBranch] = field(MapOf(NODE_NAME, Section(ParallelBranch)))
    join: Literal["all", "any"] | JoinAtLeast | None = field(JOIN, default=None)
    retry: Retry | None = retry_key()
    timeout: float | None = timeout_key()
    on_error: str | list[ErrorRoute] | None = on_error_key()
    isolation: Literal["thread", "process"] | None = isolation_key()
    tolerate: int | str | None = tolerate_key()
    errors: str | None = errors_key()


class ParallelKind(KindBase):
    name = "parallel"
    record = ParallelNode

    def hint_for(self, key: str) -> str:
        return (" (for a branch, set it inside the branch under `parallel:`)"
                if key in ParallelBranch.fields else "")

    def compile(self, compiler: Compiling, compiled: GraphNode, node: ParallelNode,
                path: YamlPath) -> GraphNode:
        return compile_parallel(compiler, compiled, node, path)

    def run(self, run: RunContext, node: GraphNode) -> Awaitable[Outcome]:
        return run.run_branches(node)

    def describe(self, node: GraphNode) -> str:
        count = len(node.branches)
        join = ("all" if node.needed == count else "any" if node.needed == 1
                else f"at least {node.needed}")
        names = ", ".join(b.name.rsplit("/", 1)[-1] + (
            f": workflow {b.subgraph.file}" if b.subgraph is not None else "")
            for b in node.branches)
        return f"parallel {count} branches ({names}), join {join}{tolerance(node)}"


def compile_parallel(compiler: Compiling, compiled: GraphNode, node: ParallelNode,
                     path: YamlPath) -> GraphNode:
    """The branches of a `parallel:` node (each a tool call or a sub-flow), and how many of
    them must succeed."""
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


def _branch(compiler: Compiling, compiled: GraphNode, node: ParallelNode, name: str,
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


def _needed(compiler: Compiling, node: ParallelNode, count: int, path: YamlPath) -> int:
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


KIND = ParallelKind()
