"""`wfe tools` and `wfe schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from wfe.errors import Location, Problem, SpecError
from wfe.graph.load import load_spec_file
from wfe.nodes import RECORDS
from wfe.spec.models import json_schema
from wfe.tools.discovery import build_registry, register_entry_points, register_modules
from wfe.tools.registry import Registry


def list_tools(files: list[Path], imports: list[str]) -> None:
    registry = Registry()
    problems: list[Problem] = register_entry_points(registry)
    problems += register_modules(
        registry, imports, Path.cwd(), [Location(f"--import {name}") for name in imports]
    )
    if problems:
        raise SpecError(problems)
    for file in files:
        build_registry(load_spec_file(file), registry=registry, entry_points=False)

    # deferred: Rich (~15 ms) is for this table; `wfe schema`, in the same module, goes without
    from rich.console import Console
    from rich.table import Table

    table = Table("tool", "signature", "summary", "module", box=None, pad_edge=False)
    for tool in registry:
        table.add_row(tool.name, tool.signature, tool.summary, tool.module)
    console = Console()
    if len(registry):
        console.print(table)
    else:
        console.print("no tools registered (name modules with --import or a workflow file)")


def print_schema() -> None:
    sys.stdout.write(json.dumps(json_schema(RECORDS), indent=2) + "\n")
