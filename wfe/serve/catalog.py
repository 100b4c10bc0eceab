"""The workflows a server serves: its PATHS (files, or folders searched for *.yaml / *.yml) and
the folder where `POST /workflows` keeps what it accepts.

Each file is loaded and compiled the way `wfe run` does it, once per version of the file (its
modification time and size), so a file edited while the server runs is served as it is now. A
workflow's name is its `name:`, else its file's stem; when two files share a name a valid file
wins over an invalid one (which cannot run, and must not hide one that can), then the first one
found (PATHS in order, then the posted folder), and the other is logged. Files in hidden folders
are skipped.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from wfe.api import Workflow
from wfe.errors import SpecError
from wfe.graph.compiler import compile_graph
from wfe.graph.load import load_spec_file
from wfe.serve.errors import UnknownWorkflow
from wfe.tools.discovery import ENTRY_POINT_GROUP, build_registry

log = logging.getLogger("wfe.serve")

_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Entry:
    """One served file: compiled (`workflow`), or invalid (`error`, every problem)."""

    path: Path
    shown: str
    name: str
    description: str
    imports: tuple[str, ...]
    workflow: Workflow | None
    error: SpecError | None
    posted: bool

    def compiled(self) -> Workflow:
        """The workflow, or its SpecError (a 422 with every problem)."""
        if self.workflow is None:
            assert self.error is not None
            raise self.error
        return self.workflow


def shown_path(path: Path) -> str:
    """Relative to the current folder when inside it, as `wfe validate` prints paths."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Catalog:
    """Served workflow files by name. Safe to use from several threads."""

    def __init__(self, roots: Sequence[Path], posted_folder: Path, imports: Sequence[str]) -> None:
        self.roots = tuple(root.resolve() for root in roots)
        self.posted_folder = posted_folder.resolve()
        #: `--import` and `[tool.wfe] imports`: loaded for every workflow, and allowed in posts.
        self.imports = tuple(imports)
        self._lock = threading.RLock()
        self._entries: dict[Path, tuple[tuple[int, int], Entry]] = {}
        self._duplicates_logged: set[Path] = set()

    # --- finding ---------------------------------------------------------------------------

    def files(self) -> Iterator[tuple[Path, bool]]:
        """(file, posted?) for every served file once, PATHS first."""
        served: list[Path] = []
        for root in self.roots:
            if root.is_dir():
                served += _yaml_under(root)
            elif root.suffix in _SUFFIXES and root.is_file():
                served.append(root)
        posted = _yaml_under(self.posted_folder) if self.posted_folder.is_dir() else []
        seen: set[Path] = set()
        for path, is_posted in [*((p, False) for p in served), *((p, True) for p in posted)]:
            if path not in seen:
                seen.add(path)
                yield path, is_posted

    def scan(self) -> dict[str, Entry]:
        """Every served workflow by name, each file loaded again only if it changed."""
        with self._lock:
            loaded = [entry for path, posted in self.files()
                      if (entry := self._entry(path, posted)) is not None]
            found: dict[str, Entry] = {}
            # Valid files first: an invalid file cannot take a name a valid one declares.
            for entry in sorted(loaded, key=lambda e: e.workflow is None):
                if entry.name in found:
                    self._log_duplicate(entry, found[entry.name])
                    continue
                found[entry.name] = entry
        return found

    def get(self, name: str) -> Entry:
        entry = self.scan().get(name)
        if entry is None:
            raise UnknownWorkflow(name)
        return entry

    def serves(self, path: Path) -> bool:
        """Whether `path` is a served file, or lies in a served folder (subgraphs, resumes)."""
        path = path.resolve()
        folders = [root for root in self.roots if root.is_dir()] + [self.posted_folder]
        return path in self.roots or any(path.is_relative_to(f) for f in folders)

    def allowed_modules(self) -> frozenset[str]:
        """Tool modules a posted workflow may import: those of the served files (not posted
        ones), `--import`, `[tool.wfe] imports`, and the modules of `wfe.tools` entry points."""
        allowed = set(self.imports)
        allowed.update(e.value.split(":")[0].strip() for e in entry_points(group=ENTRY_POINT_GROUP))
        for entry in self.scan().values():
            if not entry.posted:
                allowed.update(entry.imports)
        return frozenset(allowed)

    def forget(self, path: Path) -> None:
        with self._lock:
            self._entries.pop(path.resolve(), None)

    # --- loading ---------------------------------------------------------------------------

    def _entry(self, path: Path, posted: bool) -> Entry | None:
        try:
            info = path.stat()
        except OSError:
            return None  # removed since the folder was listed
        stamp = (info.st_mtime_ns, info.st_size)
        cached = self._entries.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        entry = self._load(path, posted)
        self._entries[path] = (stamp, entry)
        if entry.error is not None:
            log.warning("%s is invalid and cannot run:\n%s", entry.shown, entry.error)
        return entry

    def _load(self, path: Path, posted: bool) -> Entry:
        shown = shown_path(path)
        try:
            loaded = load_spec_file(path, shown)
        except SpecError as error:
            return Entry(path, shown, path.stem, "", (), None, error, posted)
        spec = loaded.spec
        imports = tuple(spec.imports)
        try:
            graph = compile_graph(loaded, build_registry(loaded, self.imports))
        except SpecError as error:
            return Entry(path, shown, loaded.name, spec.description, imports, None, error, posted)
        return Entry(path, shown, loaded.name, spec.description, imports, Workflow(graph), None,
                     posted)

    def _log_duplicate(self, entry: Entry, kept: Entry) -> None:
        if entry.path not in self._duplicates_logged:
            self._duplicates_logged.add(entry.path)
            log.warning("%s is not served: %s already serves the name '%s'", entry.shown,
                        kept.shown, entry.name)


def _yaml_under(folder: Path) -> list[Path]:
    """*.yaml and *.yml files under `folder`, sorted, outside hidden folders and caches."""
    found: list[Path] = []
    for current, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f != "__pycache__")
        found += (Path(current) / name for name in files if name.endswith(_SUFFIXES))
    return sorted(found)
