"""`POST /workflows`: a workflow sent over HTTP, checked before anything it names is imported.

Order matters. The YAML is parsed and validated as data first (no import can happen there);
then every `imports:` entry must be a module the server already allows and every `workflow:`
subgraph must lie in a served folder, or the request fails with a 422 naming the module or the
path at its line:col. Only then is it compiled (which imports the allowed modules) and checked as
`wfe validate` checks files. It is written to the posted folder as NAME.yaml, never replacing a
file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from wfe.errors import Location, Problem, SpecError
from wfe.graph.compiler import compile_graph
from wfe.graph.load import LoadedSpec, load_spec_bytes
from wfe.graph.validate import graph_problems
from wfe.serve.catalog import Catalog, Entry
from wfe.serve.errors import WorkflowExists
from wfe.spec.yaml_loader import YamlPath
from wfe.tools.discovery import build_registry

#: How problems in a posted document are placed: `body:LINE:COL`.
BODY = "body"
#: A posted workflow's name becomes its file name: the node-name alphabet keeps it safe.
POSTED_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ALLOWED_SHOWN = 10


def add_workflow(catalog: Catalog, body: bytes) -> tuple[Entry, list[Problem]]:
    """Check, compile and keep a posted workflow: its catalog entry and its warnings."""
    loaded = load_spec_bytes(body, BODY)
    name = _posted_name(loaded)
    target = catalog.posted_folder / f"{name}.yaml"
    problems = _foreign_imports(loaded, catalog.allowed_modules())
    problems += _outside_subgraphs(loaded, target, catalog)
    if problems:
        raise SpecError(sorted(problems, key=Problem.sort_key))
    served = catalog.scan().get(name)
    if served is not None:
        raise WorkflowExists(name, served.shown)
    placed = dataclasses.replace(loaded, path=target)
    graph = compile_graph(placed, build_registry(placed, catalog.imports))
    found = graph_problems(graph)
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise SpecError(errors)
    _write_new(target, body, name)
    return catalog.get(name), found


def _posted_name(loaded: LoadedSpec) -> str:
    name = loaded.spec.name
    if not name:
        raise SpecError.single("WFE012", "a posted workflow needs a `name:` (its file is "
                               "kept as NAME.yaml)", Location(BODY, 1, 1))
    if not POSTED_NAME.match(name):
        raise SpecError.single("WFE011", f"name '{name}' must start with a letter and hold only "
                               "letters, digits, '_' and '-' (at most 64)",
                               loaded.location(("name",)))
    return name


def _foreign_imports(loaded: LoadedSpec, allowed: frozenset[str]) -> list[Problem]:
    shown = ", ".join(sorted(allowed)[:_ALLOWED_SHOWN]) or "none"
    if len(allowed) > _ALLOWED_SHOWN:
        shown += ", ..."
    return [
        Problem("WFE033", f"tool module '{module}' is not allowed on this server (allowed: "
                f"{shown}; start it with --import {module} to allow it)",
                loaded.location(("imports", index)))
        for index, module in enumerate(loaded.spec.imports)
        if module not in allowed
    ]


def _outside_subgraphs(loaded: LoadedSpec, target: Path, catalog: Catalog) -> list[Problem]:
    return [Problem("WFE070", f"subgraph {file} is outside the folders this server serves",
                    loaded.location(where))
            for file, where in _subgraph_files(loaded)
            if not catalog.serves(target.parent / file)]


def _subgraph_files(loaded: LoadedSpec) -> Iterator[tuple[str, YamlPath]]:
    """Every `workflow:` file the posted file names: its nodes' and its parallel branches'."""
    for name, node in loaded.spec.nodes.items():
        path: YamlPath = ("nodes", name)
        if isinstance(node.get("workflow"), str):
            yield node["workflow"], (*path, "workflow")
        branches = node.get("parallel")
        for branch, spec in branches.items() if isinstance(branches, dict) else ():
            if isinstance(spec, dict) and isinstance(spec.get("workflow"), str):
                yield spec["workflow"], (*path, "parallel", branch, "workflow")


def _write_new(target: Path, body: bytes, name: str) -> None:
    """Write the file whole or not at all, and never over another (two posts of one name)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    partial = Path(partial_name)
    with os.fdopen(handle, "wb") as stream:
        stream.write(body)
    try:
        os.link(partial, target)
    except FileExistsError:
        raise WorkflowExists(name, str(target)) from None
    finally:
        partial.unlink(missing_ok=True)
