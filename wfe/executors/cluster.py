"""Where fan-out runs: executor URLs, the executors they open, and what goes to a cluster.

`local` (the default) runs everything in this process. `dask` starts a Dask LocalCluster sized to
the machine; `dask://HOST:PORT` connects to a running Dask scheduler. Options follow a `?`:
`dask?workers=4&threads=1`, `dask://HOST:PORT?no_workers_timeout=30`.

The scheme of a URL picks the executor: a built-in one (SCHEMES below), else the installed
distribution that declares it in the `wfe.executors` entry-point group, as
`ray = "wfe_ray:open_executor"`: a function `(address, options, origin) -> Executor`
(wfe.executors.executor), given the text after `://` (None without one) and the `?key=value`
options,
which it checks itself. Entry points are read only for a scheme that is not built in, and
not at all when no installed distribution declares the group (wfe.tools.discovery's cheap scan).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wfe.errors import ExecutorError, UsageError, WfeError
from wfe.spec.project_config import executor_setting
from wfe.tools.discovery import any_may_declare

if TYPE_CHECKING:
    from wfe.engine.executor import Executor
    from wfe.graph.model import Graph
    from wfe.tools.registry import ToolDef

#: The entry-point group through which installed packages add executors (by URL scheme).
ENTRY_POINT_GROUP = "wfe.executors"

Opener = Callable[[str | None, dict[str, str], str], "Executor"]


@dataclass(frozen=True, slots=True)
class Scheme:
    """A kind of cluster wfe knows itself: the module that opens it, the extra that installs
    it, the package whose absence means the extra is missing, and the `?options` its URLs take."""

    module: str
    extra: str
    requires: str
    options: frozenset[str]


SCHEMES: dict[str, Scheme] = {
    "dask": Scheme("wfe.executors.dask", "dask", "distributed",
                   frozenset({"workers", "threads", "no_workers_timeout"})),
}


@dataclass(frozen=True, slots=True)
class ExecutorURL:
    """A parsed executor URL: `dask`, `dask://HOST:PORT`, each with `?key=value&...` options.
    `plugin`: the scheme is an installed `wfe.executors` entry point's, not a built-in one."""

    scheme: str
    address: str | None
    options: dict[str, str] = field(default_factory=dict)
    plugin: bool = False


def parse_executor(text: str, origin: str = "--executor") -> ExecutorURL | None:
    """The cluster an executor URL names, or None for `local`; UsageError naming `origin`."""
    value = text.strip()
    base, _, query = value.partition("?")
    if base == "local" and not query:
        return None
    scheme, separator, address = base.partition("://")
    known = SCHEMES.get(scheme)
    if known is None and scheme and scheme in plugin_schemes():
        if separator and not address:
            raise UsageError(f"{origin}: {text!r}: nothing after '{scheme}://'")
        return ExecutorURL(scheme, address or None, _options(query, None, text, origin), True)
    if known is None or (separator and not address):
        names = ", ".join(f"{name}, {name}://HOST:PORT" for name in SCHEMES)
        more = "".join(f", {name}://..." for name in plugin_schemes())
        raise UsageError(f"{origin}: unknown executor {text!r}; use local, {names}{more}")
    if separator and ("/" in address or ":" not in address or not address.rpartition(":")[2]
                      .isdigit()):
        raise UsageError(f"{origin}: {text!r}: the address must be HOST:PORT "
                         f"(e.g. {scheme}://127.0.0.1:8786)")
    return ExecutorURL(scheme, address or None, _options(query, known, text, origin))


@functools.cache
def plugin_schemes() -> dict[str, str]:
    """scheme -> `module:function` for every installed `wfe.executors` entry point (a built-in
    scheme cannot be taken over)."""
    if not any_may_declare(ENTRY_POINT_GROUP):
        return {}
    # Imported here for start-up time: importlib.metadata only when a package declares the group.
    from importlib.metadata import entry_points

    return {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)
            if entry.name not in SCHEMES and entry.name != "local"}


def _options(query: str, scheme: Scheme | None, text: str, origin: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, equals, value = part.partition("=")
        if not equals or not value or (scheme is not None and key not in scheme.options):
            allowed = ", ".join(sorted(scheme.options)) if scheme is not None else "key=value"
            raise UsageError(f"{origin}: {text!r}: unknown or empty option {key!r} "
                             f"(options: {allowed})")
        options[key] = value
    return options


def require_extra(url: ExecutorURL, origin: str) -> None:
    """UsageError telling how to install the extra when its package is missing."""
    if url.plugin:
        return  # installed, since it declares its entry point
    scheme = SCHEMES[url.scheme]
    try:
        found = importlib.util.find_spec(scheme.requires) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise _missing(url, origin)


def _missing(url: ExecutorURL, origin: str, why: str = "") -> UsageError:
    return UsageError(f"{origin}: the {url.scheme} executor needs the optional extra: "
                      f"pip install 'wfe[{SCHEMES[url.scheme].extra}]'{why}")


def open_executor(text: str, origin: str = "--executor") -> Executor | None:
    """Open the executor an executor URL names (None for `local`); the caller closes it."""
    url = parse_executor(text, origin)
    if url is None:
        return None
    require_extra(url, origin)
    if not url.plugin:
        return _builtin_opener(url, origin)(url.address, url.options, origin)
    opener = _plugin_opener(url, origin)
    try:
        return opener(url.address, url.options, origin)
    except WfeError:
        raise
    except Exception as error:  # another package's code: its failure is still one line
        raise ExecutorError(f"{origin}: the {url.scheme} executor cannot open {text!r}: "
                            f"{type(error).__name__}: {error}") from None


def _builtin_opener(url: ExecutorURL, origin: str) -> Opener:
    try:
        module = importlib.import_module(SCHEMES[url.scheme].module)
    except ImportError as error:  # installed, but broken or incomplete
        raise _missing(url, origin, f" ({type(error).__name__}: {error})") from None
    opener: Opener = module.open_executor
    return opener


def _plugin_opener(url: ExecutorURL, origin: str) -> Opener:
    # Imported here for start-up time: importlib.metadata only to open a plug-in's executor.
    from importlib.metadata import EntryPoint

    value = plugin_schemes()[url.scheme]
    try:
        found = EntryPoint(url.scheme, value, ENTRY_POINT_GROUP).load()
    except Exception as error:
        raise UsageError(f"{origin}: cannot load the {url.scheme} executor (entry point "
                         f"{url.scheme} = {value}): {type(error).__name__}: {error}") from None
    if not callable(found):
        raise UsageError(f"{origin}: entry point {url.scheme} = {value} is not a function "
                         "that opens an executor")
    opener: Opener = found
    return opener


@contextmanager
def cluster_for(text: str, origin: str, graph: Graph) -> Iterator[Executor | None]:
    """The executor a run's fan-out goes to, its tools checked on the workers; closed after.
    A workflow with nothing to fan out runs here without reaching the cluster at all."""
    tools = remote_tools(graph)
    executor = open_executor(text, origin) if tools else None
    if executor is None:
        yield None
        return
    try:
        executor.check(tools)
        yield executor
    finally:
        executor.close()


# --- what runs on a cluster --------------------------------------------------------------------

def remote_tools(graph: Graph, *, whole: bool = False) -> list[ToolDef]:
    """The tools a cluster executor may be asked to call in this graph: those of `parallel:`
    branches and `map:` items, and every tool of a subgraph a map item or a branch runs
    (`whole`)."""
    found: dict[str, ToolDef] = {}
    for node in graph.nodes.values():
        if node.kind == "parallel":
            found.update((b.tool.name, b.tool) for b in node.branches if b.tool is not None)
            for flow in (b.subgraph for b in node.branches if b.subgraph is not None):
                found.update((tool.name, tool) for tool in remote_tools(flow, whole=True))
        elif node.tool is not None and (whole or node.kind == "map"):
            found[node.tool.name] = node.tool
        if node.subgraph is not None:
            inner = remote_tools(node.subgraph, whole=whole or node.kind == "map")
            found.update((tool.name, tool) for tool in inner)
    return list(found.values())


def chosen_executor(explicit: str | None) -> tuple[str, str]:
    """(the executor URL, where it was set) from `--executor`, WFE_EXECUTOR or `[tool.wfe]
    executor`; checked at once (UsageError naming where), without opening anything."""
    value, origin = executor_setting(explicit)
    url = parse_executor(value, origin)
    if url is not None:
        require_extra(url, origin)
    return value, origin
