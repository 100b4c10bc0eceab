"""What a node kind's compile step may use of the compilation it is part of: the one interface
between the compiler (wfe.graph.compiler) and the kinds (wfe.nodes), fan-out and subgraph compiling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wfe.errors import Problem, SpecError
from wfe.expr.expression import Expression
from wfe.expr.static import Facts
from wfe.expr.template import Template
from wfe.graph.model import Binding, Graph
from wfe.spec.load import LoadedSpec
from wfe.spec.models import StateField, WorkflowSpec
from wfe.spec.yaml_loader import YamlPath
from wfe.tools.registry import ToolDef

__all__ = ["Compiling", "SubgraphSession"]


@dataclass
class SubgraphSession:
    """What one compilation shares with the compilations of its subgraphs, so that a file
    referenced many times is loaded and compiled once (by resolved path)."""

    #: Each child file's compiled graph, or the error that compiling it raised.
    compiled: dict[Path, Graph | SpecError] = field(default_factory=dict)
    #: Each file's node count with its subgraphs expanded, as counted so far.
    expanded: dict[Path, int] = field(default_factory=dict)
    #: Each file's levels of nesting, itself included.
    height: dict[Path, int] = field(default_factory=dict)


class Compiling(Protocol):
    """One file's compilation, as a kind's compile step sees it."""

    loaded: LoadedSpec
    spec: WorkflowSpec
    #: The files of the workflows that include this one as a subgraph (recursion check).
    stack: tuple[Path, ...]
    subgraphs: SubgraphSession | None
    problems: list[Problem]
    fields: dict[str, StateField]
    state_keys: set[str]
    facts: Facts
    #: Names bound while compiling one node (a `map:` node's item).
    local_names: frozenset[str]
    #: The pool sizes of `[tool.wfe.pools]`, read at the first `pool:` key.
    pools: dict[str, int] | None

    def problem(self, code: str, message: str, path: YamlPath, *, at_key: bool = False
                ) -> None: ...

    def undeclared(self, key: str, path: YamlPath) -> None: ...

    def check_target(self, target: str, path: YamlPath) -> None:
        """Report a node name that names no node of the file (`end` is one)."""
        ...

    def tool_def(self, name: str, path: YamlPath) -> ToolDef | None: ...

    def bindings(self, tool: ToolDef, with_: dict[str, Any], path: YamlPath
                 ) -> tuple[Binding, ...]: ...

    def expression(self, text: str, path: YamlPath, *, condition: bool = False
                   ) -> Expression | None: ...

    def template(self, text: str, path: YamlPath) -> Template | None: ...

    def expects(self, expects: dict[str, str], path: YamlPath) -> dict[str, str]: ...

    def compile_file(self, path: Path, shown: str, stack: tuple[Path, ...]) -> Graph:
        """Another workflow file, compiled in this session; raises SpecError."""
        ...
