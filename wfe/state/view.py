"""The `state` argument of a tool: the run's state, copied key by key as the tool touches it.

A tool that declares `state` may change it freely, and its changes become its node's updates
(SPEC section 1). Copying the whole state per call cost as much as the state is big; a StateView
copies nothing up front. Reading a key whose value is immutable (a string, a number, a bool,
None) hands out the stored value itself. Reading a key whose value is a list or a dict hands out
a deep copy of that key's value (made once, on first access), because the tool may change it in
place (`state["items"].append(x)`). Writes and deletes stay in the view. After the call only
the keys the tool wrote or was handed a copy of are compared with the state: those that differ
are the updates. A deleted key is not an update (as with the copies of before).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

#: Values a tool cannot change in place: handed out as they are.
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


class StateView(MutableMapping[str, Any]):
    """A copy-on-write view of a run's state for one tool call."""

    __slots__ = ("_base", "_deleted", "_own")

    def __init__(self, base: Mapping[str, Any]) -> None:
        self._base = base
        #: Keys the tool wrote, and the copies of mutable values it was handed.
        self._own: dict[str, Any] = {}
        self._deleted: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        own = self._own
        if key in own:
            return own[key]
        if key in self._deleted:
            raise KeyError(key)
        value = self._base[key]
        if type(value) in _IMMUTABLE:
            return value
        copied = own[key] = _copied(value)
        return copied

    def __setitem__(self, key: str, value: Any) -> None:
        self._own[key] = value
        self._deleted.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._own.pop(key, None)
        self._deleted.add(key)

    def __contains__(self, key: object) -> bool:
        return key in self._own or (key in self._base and key not in self._deleted)

    def __iter__(self) -> Iterator[str]:
        own, deleted = self._own, self._deleted
        yield from (key for key in self._base if key not in deleted)
        yield from (key for key in own if key not in self._base)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StateView):
            other = other.snapshot()
        return isinstance(other, Mapping) and self.snapshot() == dict(other)

    def __repr__(self) -> str:
        return repr(self.snapshot())

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to another process (isolation: process, a cluster) as a plain dict: the tool
        # there changes that, and its changes come back as the whole dict.
        return dict, (self.snapshot(),)

    def copy(self) -> dict[str, Any]:
        """A dict of every key, as `dict.copy()` of the tool's own state gave."""
        return {key: self[key] for key in self}

    def snapshot(self) -> dict[str, Any]:
        """What the view holds now, without copying anything (not for handing to the tool)."""
        deleted = self._deleted
        held = {key: value for key, value in self._base.items() if key not in deleted}
        held.update(self._own)
        return held

    def changes(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The keys whose values in the view differ from `state`'s: the tool's updates."""
        return {key: value for key, value in self._own.items()
                if key not in state or state[key] != value}


def _copied(value: Any) -> Any:
    """A deep copy of a JSON value (a few times faster than `copy.deepcopy`, which keeps a memo
    for shared and circular references that JSON values do not have)."""
    kind = type(value)
    if kind is list:
        return [item if type(item) in _IMMUTABLE else _copied(item) for item in value]
    if kind is dict:
        return {key: item if type(item) in _IMMUTABLE else _copied(item)
                for key, item in value.items()}
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)
