"""Compile a validated spec into an executable Graph: tools bound, expressions parsed, edges
checked. Compilation reports every problem at once.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, NamedTuple

from wfe.errors import Problem, SpecError, did_you_mean
from wfe.expr.expression import (
    RESERVED_NAMES,
    Expression,
    ExpressionRejected,
    compile_expression,
    printable,
)
from wfe.expr.static import Facts, load_time_problems
from wfe.expr.template import Template, compile_template
from wfe.graph.compile_context import SubgraphSession
from wfe.graph.load import LoadedSpec, load_spec_file
from wfe.graph.model import (
    Binding,
    Edge,
    ErrorRoute,
    Graph,
    GraphNode,
    RetryPolicy,
    Source,
)
from wfe.graph.operations_compile import check_schedule_inputs, pool_size
from wfe.graph.reach import dead_ends
from wfe.nodes import kind_reading
from wfe.spec.models import END, REDUCERS, NodeCommon, Retry, StateField
from wfe.spec.rules import shortened
from wfe.spec.yaml_loader import YamlPath
from wfe.state.schema import Reducer, StateSchema
from wfe.state.types import TypeSyntaxError, TypeTree, fits, parse_type
from wfe.tools.discovery import build_registry
from wfe.tools.registry import CONTEXT_PARAM, STATE_PARAM, Registry, ToolDef

__all__ = ["Checked", "check_graph", "compile_graph"]

class _Compiler:
    def __init__(self, loaded: LoadedSpec, registry: Registry,
                 stack: tuple[Path, ...] = (), subgraphs: SubgraphSession | None = None) -> None:
        self.loaded = loaded
        #: The files of the workflows that include this one as a subgraph (recursion check).
        self.stack = stack
        #: What this compilation shares with its subgraphs' (each file compiled once); made at
        #: the first `workflow:` node.
        self.subgraphs = subgraphs
        self.spec = loaded.spec
        self.registry = registry
        self.problems: list[Problem] = []
        self.fields = self.spec.state_fields()
        self.facts = Facts({key: field.type for key, field in self.fields.items()},
                           self.spec.nodes)
        self.state_keys = set(self.fields)
        #: `[tool.wfe.pools]`, read at the first node with a `pool:` (wfe.graph.operations_compile).
        self.pools: dict[str, int] | None = None
        #: Names bound while compiling one node (a `map:` node's item).
        self.local_names: frozenset[str] = frozenset()

    def problem(self, code: str, message: str, path: YamlPath, *, at_key: bool = False) -> None:
        self.problems.append(Problem(code, message, self.loaded.location(path, at_key=at_key)))

    def warn(self, code: str, message: str, path: YamlPath) -> None:
        self.problems.append(Problem(code, message, self.loaded.location(path), "warning"))

    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def compile(self) -> Checked:
        if END in self.spec.nodes:
            self.problem("WFE011", f"'{END}' is reserved for the end of the run; rename the node",
                         ("nodes", END), at_key=True)
        schema = self._schema()
        nodes = {name: self._node(name, node) for name, node in self.loaded.nodes.items()}
        self._check_targets()
        check_schedule_inputs(self)
        if not self.has_errors():
            self.problems += dead_ends(nodes, self.spec.start_node,
                                       *self.spec.on_end.starts().values())
        problems = sorted(self.problems, key=Problem.sort_key)
        if self.has_errors() or schema is None:
            return Checked(None, nodes, problems)
        return Checked(self._graph(nodes, schema), nodes, problems)

    def _graph(self, nodes: dict[str, GraphNode], schema: StateSchema) -> Graph:
        warnings = tuple(p for p in self.problems if p.severity == "warning")
        return Graph(
            name=self.loaded.name,
            description=self.spec.description,
            file=self.loaded.display_path,
            start=self.spec.start_node,
            nodes=nodes,
            schema=schema,
            max_steps=self.spec.limits.max_steps,
            timeout=self.spec.limits.timeout,
            loaded=self.loaded,
            registry=self.registry,
            on_end=self.spec.on_end.starts(),
            warnings=sorted(warnings, key=Problem.sort_key),
        )

    # --- state ---------------------------------------------------------------------------

    def _schema(self) -> StateSchema | None:
        fields = self.fields
        custom: dict[str, Reducer] = {}
        for key, state_field in fields.items():
            path: YamlPath = ("state", key)
            if key in RESERVED_NAMES:
                self.problem("WFE050", f"state key '{key}' is reserved for expressions", path,
                             at_key=True)
            try:
                tree = parse_type(state_field.type)
            except TypeSyntaxError as error:
                sub: YamlPath = (*path, "type")
                self.problem("WFE050", str(error), sub if self._has(sub) else path)
            else:
                self._check_default(key, state_field, tree)
            reducer = state_field.reduce
            if reducer not in REDUCERS:
                tool = self.registry.get(reducer)
                if tool is None:
                    hint = did_you_mean(reducer, [*REDUCERS, *self.registry.names()])
                    self.problem("WFE050", f"unknown reducer '{reducer}'{hint}", (*path, "reduce"))
                else:
                    custom[reducer] = tool.fn
        if any(p.code == "WFE050" for p in self.problems):
            return None
        try:
            return StateSchema(fields, custom)
        except Exception as error:
            self.problem("WFE050", f"state schema: {error}", ("state",))
            return None

    def _check_default(self, key: str, declared: StateField, tree: TypeTree) -> None:
        # Checked here, at its position: at run time it would only fail the run's start.
        if declared.has_default and not fits(tree, declared.default):
            shown = shortened(repr(declared.default), 60)
            self.problem("WFE050", f"state key '{key}': default {shown} does not fit its type "
                         f"{declared.type}", ("state", key, "default"))

    def _has(self, path: YamlPath) -> bool:
        return self.loaded.positions.value(path) is not None

    # --- nodes ---------------------------------------------------------------------------

    def _node(self, name: str, node: NodeCommon) -> GraphNode:
        path: YamlPath = ("nodes", name)
        kind = kind_reading(node)
        defaults = self.spec.defaults
        retry = node.retry or defaults.retry or Retry()
        compiled = GraphNode(
            name=name,
            kind=kind.name,
            location=self.loaded.location(path, at_key=True),
            out=node.out,
            retry=RetryPolicy.of(retry),
            timeout=node.timeout if node.timeout is not None else defaults.timeout,
            max_visits=node.max_visits if node.max_visits is not None else defaults.max_visits,
            on_exhausted=node.on_exhausted,
            edges=self._edges(name, node, path),
            guard=(self.expression(node.if_, (*path, "if"), condition=True)
                   if node.if_ is not None else None),
            on_error=self._error_routes(node),
            description=node.description,
            cache_ttl=_cache_ttl(node),
            isolation=node.isolation or "thread",
            pool=node.pool,
            pool_size=pool_size(self, node.pool, (*path, "pool")),
        )
        if node.out is not None and node.out not in self.state_keys:
            self.undeclared(node.out, (*path, "out"))
        if node.on_error is not None and "error" not in self.state_keys:
            self.problem("WFE050", "on_error writes state key 'error': declare it "
                         "(error: {type: any})", (*path, "on_error"), at_key=True)
        return kind.compile(self, compiled, node, path)

    def expects(self, expects: dict[str, str], path: YamlPath) -> dict[str, str]:
        for key, type_text in expects.items():
            where: YamlPath = (*path, "expects", key)
            if key not in self.state_keys:
                self.undeclared(key, where)
            try:
                parse_type(type_text)
            except TypeSyntaxError as error:
                self.problem("WFE050", str(error), where)
        return dict(expects)

    def compile_file(self, path: Path, shown: str, stack: tuple[Path, ...]) -> Graph:
        loaded = load_spec_file(path, shown)
        return compile_graph(loaded, build_registry(loaded), stack, self.subgraphs)

    def undeclared(self, key: str, path: YamlPath) -> None:
        hint = did_you_mean(key, self.state_keys)
        self.problem("WFE050", f"state key '{key}' is not declared under `state:`{hint}", path)

    def tool_def(self, name: str, path: YamlPath) -> ToolDef | None:
        found = self.registry.get(name)
        if found is None:
            imports = ", ".join(self.spec.imports) or "none"
            self.problem("WFE030", f"unknown tool '{name}'{self.registry.suggest(name)} "
                         f"(imports: {imports})", path)
        return found

    def bindings(self, tool: ToolDef, with_: dict[str, Any], path: YamlPath
                  ) -> tuple[Binding, ...]:
        given = dict(with_)
        bindings: list[Binding] = []
        for param in tool.params:
            if param.name in self.local_names and param.name not in given:
                bindings.append(Binding(param.name, Source.ITEM))
            elif param.name in given:
                bindings.append(self._with_value(param.name, given.pop(param.name), path))
            elif param.name == STATE_PARAM:
                bindings.append(Binding(param.name, Source.WHOLE_STATE))
            elif param.name == CONTEXT_PARAM:
                bindings.append(Binding(param.name, Source.CONTEXT))
            elif param.name in self.state_keys:
                bindings.append(Binding(param.name, Source.STATE, param.name))
            elif not param.has_default:
                self.problem(
                    "WFE031",
                    f"tool '{tool.name}' needs parameter '{param.name}', which neither `with:` "
                    f"nor the state supplies",
                    (*path, "tool"),
                )
        for key, value in given.items():
            if tool.accepts_any_keyword:
                bindings.append(self._with_value(key, value, path))
            else:
                hint = did_you_mean(key, [p.name for p in tool.params])
                self.problem("WFE032", f"tool '{tool.name}' has no parameter '{key}'{hint}",
                             (*path, "with", key), at_key=True)
        return tuple(bindings)

    def _with_value(self, param: str, value: Any, path: YamlPath) -> Binding:
        if isinstance(value, str):
            template = self.template(value, (*path, "with", param))
            if template is not None:
                return Binding(param, Source.TEMPLATE, template)
        return Binding(param, Source.CONSTANT, value)

    def template(self, text: str, path: YamlPath) -> Template | None:
        try:
            template = compile_template(text)
        except ExpressionRejected as error:
            self.problem(error.code, error.message, path)
            return None
        if template is not None:
            for expression in template.expressions:
                self._check_names(expression, path)
                self._check_types(expression, path)
        return template

    def expression(self, text: str, path: YamlPath, *, condition: bool = False
                   ) -> Expression | None:
        try:
            expression = compile_expression(text)
        except ExpressionRejected as error:
            hint = " (this value is an expression: write it without `${ }`)" if text.lstrip(
                ).startswith("${") else ""
            self.problem(error.code, f"{error.message} in `{printable(text)}`{hint}", path)
            return None
        self._check_names(expression, path)
        self._check_types(expression, path, condition=condition)
        return expression

    def _check_types(self, expression: Expression, path: YamlPath, *,
                     condition: bool = False) -> None:
        for message in load_time_problems(expression.tree, self.facts, condition=condition):
            self.problem("WFE042", f"{message}, in `{printable(expression.source)}`", path)

    def _check_names(self, expression: Expression, path: YamlPath) -> None:
        for name in sorted(expression.names - self.state_keys - RESERVED_NAMES - self.local_names):
            hint = did_you_mean(name, self.state_keys | RESERVED_NAMES)
            self.problem("WFE041", f"unknown name '{name}' in `{expression.source}`: not a "
                         f"state key{hint}", path)

    def _edges(self, name: str, node: NodeCommon, path: YamlPath) -> tuple[Edge, ...]:
        if node.next is None:
            return (Edge(END),)
        if isinstance(node.next, str):
            return (Edge(node.next),)
        edges: list[Edge] = []
        for index, branch in enumerate(node.next):
            branch_path: YamlPath = (*path, "next", index)
            if branch.when is None:
                if index != len(node.next) - 1:
                    self.problem("WFE021", "a branch without `when` is the default and must be "
                                 "last", branch_path)
                edges.append(Edge(branch.then))
                continue
            condition = self.expression(branch.when, (*branch_path, "when"), condition=True)
            edges.append(Edge(branch.then, condition))
        if edges and edges[-1].condition is not None:
            # No default: when nothing holds, the run ends (documented in the README).
            self.warn("WFE062", f"node '{name}': when no `when` holds, the run ends here; add a "
                      "last branch without `when` (`- then: end`) to say so", (*path, "next"))
            edges.append(Edge(END))
        return tuple(edges)

    def _error_routes(self, node: NodeCommon) -> tuple[ErrorRoute, ...]:
        if node.on_error is None:
            return ()
        if isinstance(node.on_error, str):
            return (ErrorRoute(node.on_error),)
        return tuple(
            ErrorRoute(r.then, frozenset(r.errors) if r.errors is not None else None)
            for r in node.on_error
        )

    def check_target(self, target: str, path: YamlPath) -> None:
        """Report a node name that names no node (`end` is one)."""
        if target != END and target not in self.spec.nodes:
            hint = did_you_mean(target, self.spec.nodes)
            self.problem("WFE020", f"unknown node '{target}'{hint}", path)

    def _check_targets(self) -> None:
        check = self.check_target
        if self.spec.start == END:
            self.problem("WFE020", f"start must name a node; '{END}' is where a run stops",
                         ("start",))
        elif self.spec.start is not None:
            check(self.spec.start, ("start",))
        for name, node in self.loaded.nodes.items():
            path: YamlPath = ("nodes", name)
            if isinstance(node.next, str):
                check(node.next, (*path, "next"))
            elif node.next is not None:
                for i, branch in enumerate(node.next):
                    check(branch.then, (*path, "next", i, "then"))
            if isinstance(node.on_error, str):
                check(node.on_error, (*path, "on_error"))
            elif node.on_error is not None:
                for i, route in enumerate(node.on_error):
                    check(route.then, (*path, "on_error", i, "then"))
            if node.on_exhausted is not None:
                check(node.on_exhausted, (*path, "on_exhausted"))
        for which, target in self.spec.on_end.starts().items():
            if target == END:
                self.problem("WFE020", f"on_end.{which} must name a node; '{END}' is where a "
                             "run stops", ("on_end", which))
            else:
                check(target, ("on_end", which))


def _cache_ttl(node: NodeCommon) -> float | None:
    if node.cache is None or node.cache is False:
        return None
    if node.cache is True or node.cache.ttl is None:
        return math.inf
    return node.cache.ttl


class Checked(NamedTuple):
    """A compiled file: its graph (None when it has errors), its nodes as far as they compiled,
    and every problem found, errors and warnings."""

    graph: Graph | None
    nodes: dict[str, GraphNode]
    problems: list[Problem]


def check_graph(loaded: LoadedSpec, registry: Registry, stack: tuple[Path, ...] = (),
                subgraphs: SubgraphSession | None = None) -> Checked:
    """Compile a loaded spec and report every problem, without raising (`wfe validate`)."""
    return _Compiler(loaded, registry, stack, subgraphs).compile()


def compile_graph(loaded: LoadedSpec, registry: Registry, stack: tuple[Path, ...] = (),
                  subgraphs: SubgraphSession | None = None) -> Graph:
    """The executable graph of a loaded spec; raises SpecError listing every problem."""
    checked = check_graph(loaded, registry, stack, subgraphs)
    if checked.graph is None:
        raise SpecError(checked.problems)
    return checked.graph
