"""Text -> WorkflowSpec: read safely, parse YAML with positions, check, report file:line:col.

The nodes are read by their kinds' records, which live with the kinds above this layer
(wfe.nodes): the caller gives the reader (wfe.graph.load does), and every problem of the file,
its sections' and its nodes', is reported in one pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wfe.errors import Location, Problem, SpecError
from wfe.spec.models import NodeCommon, WorkflowSpec
from wfe.spec.rules import INVALID, Report
from wfe.spec.yaml_loader import Positions, YamlPath, load_yaml, read_source


@dataclass(frozen=True)
class LoadedSpec:
    """A validated workflow file with what later stages need to point back into it."""

    spec: WorkflowSpec
    #: Each node as its kind's record reads it (the spec holds them as the file gives them).
    nodes: dict[str, NodeCommon]
    positions: Positions
    path: Path
    display_path: str
    source: bytes

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    def location(self, path: YamlPath, *, at_key: bool = False) -> Location:
        return self.positions.location(self.display_path, path, at_key=at_key)


#: Reads a file's `nodes:` (as the file gives it) into the kinds' records, reporting problems.
NodeReader = Callable[[Any, Report], dict[str, NodeCommon]]


def read_spec_file(path: Path | str, display_path: str | None, read_nodes: NodeReader
                   ) -> LoadedSpec:
    """Read, parse and validate one workflow file; raises SpecError with every problem found."""
    path = Path(path)
    shown = display_path if display_path is not None else str(path)
    source = read_source(path, shown)
    return read_spec_bytes(source, shown, path, read_nodes)


def read_spec_bytes(source: bytes, display_path: str, path: Path | None,
                    read_nodes: NodeReader) -> LoadedSpec:
    data, positions = load_yaml(source, display_path)
    report = Report(positions, display_path)
    spec = WorkflowSpec.check(data, (), report)
    nodes = read_nodes(data.get("nodes") if type(data) is dict else None, report)
    if spec is INVALID or report.problems:
        raise SpecError(sorted(report.problems, key=Problem.sort_key))
    return LoadedSpec(spec, nodes, positions, path or Path(display_path), display_path, source)
