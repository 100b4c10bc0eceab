"""Node kinds, one module each, and the one table that registers them.

Adding a kind: a module with a class that has the NodeKind methods, its name in
`wfe.spec.models.KindName` with its keys in `KIND_KEYS`, and one case below (mypy reports the
case that is missing).

The kinds share the graph's layer (pyproject.toml's import-linter contract): the compiler calls
their compile steps, and their run steps see the run only through RunContext
(wfe.engine.run_context), imported for type checking only, so compiling loads no engine.
"""

from __future__ import annotations

from typing import assert_never

from wfe.nodes import fail, interrupt, map, parallel, tool, wait, workflow
from wfe.nodes._base import NodeKind, Outcome
from wfe.spec.models import NODE_KINDS as _NODE_KINDS
from wfe.spec.models import KindName

__all__ = ["KINDS", "NodeKind", "Outcome", "kind_of"]


def _module_of(name: KindName) -> NodeKind:
    match name:
        case "tool":
            return tool.KIND
        case "parallel":
            return parallel.KIND
        case "map":
            return map.KIND
        case "workflow":
            return workflow.KIND
        case "interrupt":
            return interrupt.KIND
        case "wait":
            return wait.KIND
        case "fail":
            return fail.KIND
        case _:
            assert_never(name)


#: Every kind by its name, in the order of `NODE_KINDS`.
KINDS: dict[str, NodeKind] = {name: _module_of(name) for name in _NODE_KINDS}


def kind_of(name: str) -> NodeKind:
    """The kind a compiled node's `kind` names."""
    return KINDS[name]
