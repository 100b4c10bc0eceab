"""Result caching for nodes with `cache:`: reuse a tool's result across runs.

A result is found by a key: the sha256 of the canonical JSON of the tool's name, its version (the
declared `@tool(version=...)`, else a hash of its source) and its bound arguments (without
`ctx`). What is kept is the tool's return value, not the updates made of it, so editing `out:`
never replays a stale key. A call whose arguments JSON cannot hold is simply not cached.

The engine holds a `Cache` or None (no caching: `--no-cache`, `--no-store`, or the Python API
without one); `StoreCache` keeps results in the store's `cache` table.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from wfe.graph.model import GraphNode
from wfe.redact import KNOWN, mask_value
from wfe.state.view import StateView
from wfe.tools.registry import CONTEXT_PARAM, ToolDef

if TYPE_CHECKING:
    from wfe.store import Store

__all__ = ["Cache", "Lookup", "StoreCache", "cache_key"]


class Lookup(NamedTuple):
    """What a lookup found. `key` is None when the call cannot be cached; `remember` takes it
    because a tool may change its arguments in place (its copy of `state`, say) while it runs.
    """

    hit: bool
    value: Any
    key: str | None


UNCACHEABLE = Lookup(False, None, None)


class Cache(Protocol):
    """Where the engine finds and keeps the results of `cache:` nodes."""

    def lookup(self, node: GraphNode, kwargs: Mapping[str, Any]) -> Lookup: ...

    def remember(self, node: GraphNode, key: str, value: Any) -> None: ...


def cache_key(tool: ToolDef, kwargs: Mapping[str, Any]) -> str | None:
    """The key of a call, or None when its arguments are not JSON values."""
    arguments = {name: value for name, value in kwargs.items() if name != CONTEXT_PARAM}
    try:
        text = json.dumps({"tool": tool.name, "version": tool.version, "args": arguments},
                          sort_keys=True, separators=(",", ":"), allow_nan=False,
                          default=_held)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def _held(value: object) -> dict[str, Any]:
    """A `state` argument's keys and values, as JSON encodes a dict."""
    if isinstance(value, StateView):
        return value.snapshot()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


class StoreCache:
    """Results in the store's `cache` table, each kept for its node's `cache_ttl`."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def lookup(self, node: GraphNode, kwargs: Mapping[str, Any]) -> Lookup:
        assert node.tool is not None
        key = cache_key(node.tool, kwargs)
        if key is None:
            return UNCACHEABLE
        found, value = self.store.cache_get(key, self.clock())
        return Lookup(found, value, key)

    def remember(self, node: GraphNode, key: str, value: Any) -> None:
        assert node.tool is not None
        tool = node.tool
        if KNOWN and mask_value(value) != value:
            return  # a result holding a secret's value is never stored, nor stored masked
        # Not JSON: the step fails on it anyway, or (a map item) it is just not kept.
        with contextlib.suppress(ValueError):
            self.store.cache_put(key, tool.name, tool.version, value, node.cache_ttl,
                                 now=self.clock())
