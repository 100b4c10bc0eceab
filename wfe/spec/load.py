"""Text -> WorkflowSpec: read safely, parse YAML with positions, check, report file:line:col."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wfe.errors import Location, Problem, SpecError
from wfe.spec.models import WorkflowSpec
from wfe.spec.rules import INVALID, Report
from wfe.spec.yaml_loader import Positions, YamlPath, load_yaml, read_source


@dataclass(frozen=True)
class LoadedSpec:
    """A validated workflow file with what later stages need to point back into it."""

    spec: WorkflowSpec
    positions: Positions
    path: Path
    display_path: str
    source: bytes

    @property
    def name(self) -> str:
        return self.spec.name or self.path.stem

    def location(self, path: YamlPath, *, at_key: bool = False) -> Location:
        return self.positions.location(self.display_path, path, at_key=at_key)


def load_spec_file(path: Path | str, display_path: str | None = None) -> LoadedSpec:
    """Read, parse and validate one workflow file; raises SpecError with every problem found."""
    path = Path(path)
    shown = display_path if display_path is not None else str(path)
    source = read_source(path, shown)
    return load_spec_bytes(source, shown, path)


def load_spec_bytes(source: bytes, display_path: str, path: Path | None = None) -> LoadedSpec:
    data, positions = load_yaml(source, display_path)
    report = Report(positions, display_path)
    spec = WorkflowSpec.check(data, (), report)
    if spec is INVALID:
        raise SpecError(sorted(report.problems, key=Problem.sort_key))
    return LoadedSpec(spec, positions, path or Path(display_path), display_path, source)
