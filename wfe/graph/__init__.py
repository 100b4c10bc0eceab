"""A spec compiled into a Graph: compiling, reachability and `wfe validate`'s checks.

The names below are the package's public face. They load on first use, so importing one module of
the package does not import the rest.
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.graph.compiler import Checked as Checked
    from wfe.graph.compiler import check_graph as check_graph
    from wfe.graph.compiler import compile_graph as compile_graph
    from wfe.graph.model import END as END
    from wfe.graph.model import Binding as Binding
    from wfe.graph.model import Edge as Edge
    from wfe.graph.model import ErrorRoute as ErrorRoute
    from wfe.graph.model import Graph as Graph
    from wfe.graph.model import GraphNode as GraphNode
    from wfe.graph.model import RetryPolicy as RetryPolicy
    from wfe.graph.model import Source as Source
    from wfe.graph.validate import Compiled as Compiled
    from wfe.graph.validate import as_strict as as_strict
    from wfe.graph.validate import graph_problems as graph_problems
    from wfe.graph.validate import missing_target as missing_target
    from wfe.graph.validate import validate_file as validate_file
    from wfe.graph.validate import validate_files as validate_files
    from wfe.graph.validate import workflow_files as workflow_files

__all__ = [
    "END",
    "Binding",
    "Checked",
    "Compiled",
    "Edge",
    "ErrorRoute",
    "Graph",
    "GraphNode",
    "RetryPolicy",
    "Source",
    "as_strict",
    "check_graph",
    "compile_graph",
    "graph_problems",
    "missing_target",
    "validate_file",
    "validate_files",
    "workflow_files",
]

_WHERE = {
    "as_strict": "wfe.graph.validate",
    "Binding": "wfe.graph.model",
    "check_graph": "wfe.graph.compiler",
    "Checked": "wfe.graph.compiler",
    "compile_graph": "wfe.graph.compiler",
    "Compiled": "wfe.graph.validate",
    "Edge": "wfe.graph.model",
    "END": "wfe.graph.model",
    "ErrorRoute": "wfe.graph.model",
    "Graph": "wfe.graph.model",
    "graph_problems": "wfe.graph.validate",
    "GraphNode": "wfe.graph.model",
    "missing_target": "wfe.graph.validate",
    "RetryPolicy": "wfe.graph.model",
    "Source": "wfe.graph.model",
    "validate_file": "wfe.graph.validate",
    "validate_files": "wfe.graph.validate",
    "workflow_files": "wfe.graph.validate",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
