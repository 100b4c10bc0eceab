"""A workflow file -> its checked spec: the sections by wfe.spec, the nodes by their kinds'
records (wfe.nodes). What every part of wfe that loads a file calls."""

from __future__ import annotations

from pathlib import Path

from wfe.nodes import read_nodes
from wfe.spec.load import LoadedSpec, read_spec_bytes, read_spec_file

__all__ = ["LoadedSpec", "load_spec_bytes", "load_spec_file"]


def load_spec_file(path: Path | str, display_path: str | None = None) -> LoadedSpec:
    """Read, parse and validate one workflow file; raises SpecError with every problem found."""
    return read_spec_file(path, display_path, read_nodes)


def load_spec_bytes(source: bytes, display_path: str, path: Path | None = None) -> LoadedSpec:
    """The same for a file's bytes (a posted workflow, say)."""
    return read_spec_bytes(source, display_path, path, read_nodes)
