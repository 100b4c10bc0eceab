"""Where a tool call runs: this process, a child process, or a Dask cluster.

The names below are the package's public face. They load on first use, so importing one module of
the package does not import the rest.
"""

from __future__ import annotations

import typing as _typing

from wfe._lazy import lazy_face as _lazy_face

if _typing.TYPE_CHECKING:
    from wfe.engine.cancel_watch import stop_on_cancel as stop_on_cancel
    from wfe.engine.executor import Executor as Executor
    from wfe.executors.cluster import ExecutorURL as ExecutorURL
    from wfe.executors.cluster import Scheme as Scheme
    from wfe.executors.cluster import chosen_executor as chosen_executor
    from wfe.executors.cluster import cluster_for as cluster_for
    from wfe.executors.cluster import open_executor as open_executor
    from wfe.executors.cluster import parse_executor as parse_executor
    from wfe.executors.cluster import plugin_schemes as plugin_schemes
    from wfe.executors.cluster import remote_tools as remote_tools
    from wfe.executors.cluster import require_extra as require_extra
    from wfe.executors.executor import LocalExecutor as LocalExecutor
    from wfe.executors.executor import release_tool_threads as release_tool_threads
    from wfe.executors.executor import tool_threads as tool_threads

__all__ = [
    "Executor",
    "ExecutorURL",
    "LocalExecutor",
    "Scheme",
    "chosen_executor",
    "cluster_for",
    "open_executor",
    "parse_executor",
    "plugin_schemes",
    "release_tool_threads",
    "remote_tools",
    "require_extra",
    "stop_on_cancel",
    "tool_threads",
]

_WHERE = {
    "chosen_executor": "wfe.executors.cluster",
    "cluster_for": "wfe.executors.cluster",
    "Executor": "wfe.engine.executor",
    "ExecutorURL": "wfe.executors.cluster",
    "LocalExecutor": "wfe.executors.executor",
    "open_executor": "wfe.executors.cluster",
    "parse_executor": "wfe.executors.cluster",
    "plugin_schemes": "wfe.executors.cluster",
    "release_tool_threads": "wfe.executors.executor",
    "remote_tools": "wfe.executors.cluster",
    "require_extra": "wfe.executors.cluster",
    "Scheme": "wfe.executors.cluster",
    "stop_on_cancel": "wfe.engine.cancel_watch",
    "tool_threads": "wfe.executors.executor",
}


__getattr__, __dir__ = _lazy_face(__name__, _WHERE, __all__, globals())
