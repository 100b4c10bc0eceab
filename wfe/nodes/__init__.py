"""Node kinds, one module each, and the one table that registers them.

A kind's module holds its record (the keys a node of the kind takes in the file), its compile
step, its run step and its dry-run text. Adding a kind: a module with a class that has the
NodeKind members (`KindBase` gives the usual `keys`), and one line in `_ALL` below (mypy checks
that what is listed there is a NodeKind); then its docs and tests.

The kinds share the graph's layer (pyproject.toml's import-linter contract): a file's nodes are
read by their kinds' records here (the file format's other sections are wfe.spec's), the
compiler calls their compile steps, and their run steps see the run only through RunContext
(wfe.engine.run_context), imported for type checking only, so compiling loads no engine.
"""

from __future__ import annotations

from typing import Any

from wfe.nodes import fail, interrupt, map, parallel, tool, wait, workflow
from wfe.nodes._base import NodeKind, Outcome
from wfe.nodes._reading import NodeReader as _NodeReader

__all__ = ["KINDS", "RECORDS", "NodeKind", "Outcome", "kind_of", "kind_reading", "read_nodes"]

_ALL: tuple[NodeKind[Any], ...] = (
    tool.KIND,
    parallel.KIND,
    map.KIND,
    workflow.KIND,
    interrupt.KIND,
    wait.KIND,
    fail.KIND,
)
#: Every kind by its name, the key that makes a node of that kind.
KINDS: dict[str, NodeKind[Any]] = {kind.name: kind for kind in _ALL}
_READER = _NodeReader(_ALL)
#: Every kind's record: what JSON Schema says a node is (wfe.spec.models.json_schema).
RECORDS = _READER.records
#: Each node of a file's `nodes:` read by its kind's record (wfe.graph.load calls it).
read_nodes = _READER.read
#: The kind whose record read a node of the file.
kind_reading = _READER.kind_reading


def kind_of(name: str) -> NodeKind[Any]:
    """The kind a compiled node's `kind` names."""
    return KINDS[name]
