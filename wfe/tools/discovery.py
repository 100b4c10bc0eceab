"""Where tools come from: a workflow's `imports`, `--import MODULE` and `wfe.tools` entry points.

Only modules named there are imported, and a workflow's own `imports` only as
wfe/tools/import_rule.py
allows; a tool name is never resolved by importing a dotted path.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Collection, Iterator, Sequence
from importlib.machinery import PathFinder
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from wfe.errors import Location, Problem, SpecError, WfeError
from wfe.tools import import_rule
from wfe.tools.registry import Registry

if TYPE_CHECKING:
    from wfe.spec.load import LoadedSpec

ENTRY_POINT_GROUP = "wfe.tools"


def _module_file(name: str, folder: Path) -> Path | None:
    try:
        relative = Path(*name.split("."))
        for candidate in (folder / relative.with_suffix(".py"), folder / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
    except (OSError, ValueError):  # not a name a file could have ("", "..", far too long)
        return None
    return None


def import_module(name: str, folder: Path | None, where: Location) -> ModuleType:
    """Import a module the user named (`--import`): from `folder` first, then sys.path."""
    file = _module_file(name, folder) if folder is not None else None
    with _import_problems(name, [folder] if folder is not None else [], where):
        if file is None:
            return importlib.import_module(name)
        assert folder is not None
        return _import_file(name, file, folder, where)


def import_workflow_module(name: str, folder: Path, where: Location) -> ModuleType:
    """Import a module a workflow file names in `imports:`: from the workflow's folder or its
    project root, else from sys.path if the module is allowed there (wfe/tools/import_rule.py); a
    refused module is not imported."""
    import_rule.check_module_name(name, where)
    places = import_rule.project_folders(folder)
    with _import_problems(name, places, where):
        for place in places:
            file = _module_file(name, place)
            if file is not None:
                return _import_file(name, file, place, where)
        if not is_declared(name) and not import_rule.imported_for_a_workflow(name):
            import_rule.check_outside_module(name, folder, where)
        return importlib.import_module(name)


def _import_file(name: str, file: Path, folder: Path, where: Location) -> ModuleType:
    loaded = sys.modules.get(name)
    if loaded is not None and import_rule.same_file(getattr(loaded, "__file__", None), file):
        return loaded
    import_rule.check_not_shadowing(name, file, where)
    root = str(folder.resolve())
    # The folder goes on sys.path so that the module's own sibling imports resolve and so
    # that worker threads or processes can import it by name again.
    if root not in sys.path:
        sys.path.insert(0, root)
    if loaded is not None:
        del sys.modules[name]
    module = importlib.import_module(name)
    import_rule.note_imported(name, file)
    return module


@contextlib.contextmanager
def _import_problems(name: str, folders: Sequence[Path], where: Location) -> Iterator[None]:
    """An import's failure as a WFE033 problem at `where`."""
    try:
        yield
    except WfeError:
        raise
    except ModuleNotFoundError as error:
        if error.name == name or (error.name and name.startswith(error.name + ".")):
            message = f"cannot import tool module '{name}': no such module"
            if folders:
                message += f" in {' or '.join(str(f) for f in folders)} or on sys.path"
        else:
            message = f"cannot import tool module '{name}': {error}"
        raise SpecError([Problem("WFE033", message, where)]) from None
    except Exception as error:
        message = f"cannot import tool module '{name}': {type(error).__name__}: {error}"
        raise SpecError([Problem("WFE033", message, where)]) from None


def register_modules(
    registry: Registry, names: list[str], folder: Path | None, where: list[Location], *,
    trusted: bool | Collection[str] = True,
) -> list[Problem]:
    """Import each module and register its tools; returns the problems instead of stopping.
    Names not `trusted` (True: every one is) are a workflow's `imports:`, which must pass the
    import rule first."""
    problems: list[Problem] = []
    for name, location in zip(names, where, strict=True):
        try:
            if folder is None or trusted is True or (trusted is not False and name in trusted):
                module = import_module(name, folder, location)
            else:
                module = import_workflow_module(name, folder, location)
            registry.register_module(module)
        except SpecError as error:
            problems.extend(error.problems)
    return problems


def _any_may_declare_tools() -> bool:
    return any_may_declare(ENTRY_POINT_GROUP)


def any_may_declare(group: str) -> bool:
    """False when no installed distribution can declare entry points of `group`, from a look at
    the files importlib.metadata would read: in the usual case that spares its parsing every
    distribution's metadata (milliseconds at each start in a large environment). True if unsure."""
    for finder in sys.meta_path:
        if finder is not PathFinder and getattr(finder, "find_distributions", None) is not None:
            return True  # distributions found some other way: only importlib.metadata knows them
    for entry in sys.path:
        files = _entry_point_files(entry)
        if files is None or any(_mentions_group(file, group) for file in files):
            return True
    return False


def _entry_point_files(entry: object) -> list[str] | None:
    """The entry_points.txt files importlib.metadata may read for one sys.path entry; None when
    it would look inside a zip file instead, or for an entry that is not a path."""
    if not isinstance(entry, str):
        return None
    try:
        names = os.listdir(entry or ".")
    except OSError:
        return None if os.path.isfile(entry) else []
    return [
        os.path.join(entry, name, "entry_points.txt")
        for name in names
        if name.lower().endswith((".dist-info", ".egg-info")) or name.lower() == "egg-info"
    ]


def _mentions_group(path: str, group: str) -> bool:
    try:
        with open(path, "rb") as file:
            return group.encode() in file.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return False  # what importlib.metadata takes for "no entry points" too
    except OSError:
        return True


@functools.cache
def _entry_point_objects() -> tuple[tuple[Location, object | None, str], ...]:
    """Each `wfe.tools` entry point loaded once per process: (where, object, load error)."""
    if not _any_may_declare_tools():
        return ()
    # deferred: importlib.metadata (~15 ms) loads only once an installed package may declare tools
    from importlib.metadata import entry_points

    found: list[tuple[Location, object | None, str]] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        where = Location(f"entry point {entry.name} = {entry.value}")
        try:
            found.append((where, entry.load(), ""))
        except Exception as error:
            found.append((where, None, f"cannot load tools from entry point '{entry.name}': "
                                       f"{error}"))
    return tuple(found)


@functools.cache
def _declared_modules() -> frozenset[str]:
    """The modules installed distributions name in `wfe.tools` entry points (none loaded)."""
    if not _any_may_declare_tools():
        return frozenset()
    # deferred: importlib.metadata (~15 ms), as in _entry_point_objects
    from importlib.metadata import entry_points

    return frozenset(entry.module for entry in entry_points(group=ENTRY_POINT_GROUP))


def is_declared(name: str) -> bool:
    """Whether an installed distribution declares `name` for tools, or a module holding it."""
    return any(name == m or name.startswith(m + ".") for m in _declared_modules())


def register_entry_points(registry: Registry) -> list[Problem]:
    """Register the tools that installed packages declare in the `wfe.tools` group."""
    problems: list[Problem] = []
    for where, loaded, failure in _entry_point_objects():
        if failure:
            problems.append(Problem("WFE033", failure, where))
            continue
        try:
            if isinstance(loaded, ModuleType):
                registry.register_module(loaded)
            elif callable(loaded):
                registry.register(loaded)
        except SpecError as error:
            problems.extend(error.problems)
    return problems


def build_registry(
    loaded: LoadedSpec,
    extra_imports: Sequence[str] = (),
    *,
    registry: Registry | None = None,
    entry_points: bool = True,
) -> Registry:
    """The tools a workflow can use: its `imports` (as the import rule allows), extra modules,
    and installed entry points."""
    registry = registry if registry is not None else Registry()
    problems: list[Problem] = []
    if entry_points:
        problems += register_entry_points(registry)
    folder = loaded.path.parent
    names = list(loaded.spec.imports)
    where = [loaded.location(("imports", i)) for i in range(len(names))]
    # A module the user names with --import is trusted in the file's `imports:` too.
    problems += register_modules(registry, names, folder, where, trusted=frozenset(extra_imports))
    extra = list(extra_imports)
    problems += register_modules(
        registry, extra, Path.cwd(), [Location(f"--import {name}") for name in extra]
    )
    if problems:
        raise SpecError(sorted(problems, key=Problem.sort_key))
    return registry
