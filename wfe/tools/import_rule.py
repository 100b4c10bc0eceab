"""Which modules a workflow file's `imports:` may name, decided before anything is imported.

`wfe validate` runs on files from strangers (pull requests), and importing a module runs it. A
file may name a module of its own project: one in the workflow's folder or in the project root
(the nearest folder at or above the workflow's that holds pyproject.toml or .git; the workflow's
folder when there is none), or on sys.path but inside that root (an editable install); a module
an installed distribution declares in the `wfe.tools` entry-point group; or one wfe already
imported for another workflow file. Nothing else is imported. `--import MODULE` and the Python
API's `imports=` are the user's own choice and are not checked. A module file of the project
never replaces a module imported from elsewhere, nor takes a standard-library name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from wfe.errors import Location, Problem, SpecError

#: The files (resolved) of the modules wfe imported from a workflow's folder or project: such a
#: module may be replaced by another workflow's module of the same name.
_FROM_WORKFLOWS: set[str] = set()
_PROJECT_MARKERS = ("pyproject.toml", ".git")


def project_root(folder: Path) -> Path:
    """The nearest folder at or above `folder` holding pyproject.toml or .git, else `folder`."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in _PROJECT_MARKERS):
            return candidate
    return folder


def project_folders(folder: Path) -> list[Path]:
    """Where a workflow's own modules are looked for, in order: its folder, its project root."""
    folder = folder.resolve()
    root = project_root(folder)
    return [folder] if root == folder else [folder, root]


def refuse(name: str, message: str, where: Location) -> SpecError:
    return SpecError([Problem("WFE033", f"cannot import tool module '{name}': {message}", where)])


def check_module_name(name: str, where: Location) -> None:
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise refuse(name, "not a module name", where)


def check_not_shadowing(name: str, file: Path, where: Location) -> None:
    """Refuse a module file of the workflow's that would stand in for another module."""
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        raise refuse(name, f"{file} has the name of a standard-library module; rename it", where)
    for loaded_name in dict.fromkeys((top, name)):
        loaded = sys.modules.get(loaded_name)
        if loaded is None:
            continue
        loaded_file = getattr(loaded, "__file__", None)
        if loaded_file is None or _resolved(loaded_file) in _FROM_WORKFLOWS:
            continue  # a namespace package, or another workflow's module: replaced as before
        if loaded_name == name and same_file(loaded_file, file):
            continue
        if loaded_name == top and file.resolve().is_relative_to(
                Path(loaded_file).resolve().parent):
            continue  # `top` is the package this very file belongs to
        raise refuse(name, f"{file} would replace the module '{loaded_name}' already imported "
                     f"from {loaded_file}; rename it", where)


def same_file(loaded_file: str | None, file: Path) -> bool:
    """Whether a module's `__file__` is `file` (however the path was spelled)."""
    if loaded_file is None:
        return False
    return loaded_file == str(file) or Path(loaded_file).resolve() == file.resolve()


def note_imported(name: str, file: Path) -> None:
    _FROM_WORKFLOWS.add(_resolved(file))
    top = name.split(".")[0]
    top_file = getattr(sys.modules.get(top), "__file__", None)
    if top != name and top_file:
        _FROM_WORKFLOWS.add(_resolved(top_file))


def _resolved(file: str | Path) -> str:
    return str(Path(file).resolve())


def imported_for_a_workflow(name: str) -> bool:
    """Whether `name` is a module wfe imported from a workflow's folder or project: it passed
    this rule and has run already, so any workflow may use it (`wfe serve` loads posted
    workflows that use the tool modules of the served files this way)."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None) if module is not None else None
    return file is not None and _resolved(file) in _FROM_WORKFLOWS


def check_outside_module(name: str, folder: Path, where: Location) -> None:
    """A module not found among the workflow's own files and that no distribution declares for
    tools: allowed only if it lies in the project all the same (a package installed in editable
    mode); refused otherwise, without importing it."""
    places = _origins(name.split(".")[0])
    if places is None:
        return  # not found at all: the import reports "no such module"
    root = project_root(folder)
    if places and all(_in_project(place, root) for place in places):
        return
    shown = " or ".join(str(p) for p in project_folders(folder))
    raise refuse(name, f"it is not in the workflow's project ({shown}) and no installed "
                 "distribution declares it in the 'wfe.tools' entry points; only such modules "
                 "are imported for a workflow file (name a module you trust with --import)",
                 where)


def _origins(top: str) -> list[Path] | None:
    """The files or folders a top-level module would be loaded from, found without running any
    of it; None when there is no such module."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.has_location and spec.origin:
        return [Path(spec.origin)]
    return [Path(p) for p in spec.submodule_search_locations or ()]  # [] for a built-in


def _in_project(place: Path, root: Path) -> bool:
    place = place.resolve()
    if not place.is_relative_to(root):
        return False
    if {"site-packages", "dist-packages"} & set(place.relative_to(root).parts):
        return False
    environments = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    # A virtual environment inside the project holds installed modules, not the project's.
    return not any(env.is_relative_to(root) and place.is_relative_to(env) for env in environments)
