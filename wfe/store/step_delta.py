"""What a committed step changed, as the store replays it (wfe.store.replay).

A step's updates after reducers (what `node_finished` shows) say what changed for a replaced or
merged key; for a list key they hold the item appended, or the items added; a key combined by
`add` or a custom reducer is stored with its value after the step. Each claim is checked
against the state itself (the list ends with those very objects), and a key whose updates do
not say what changed is stored whole: a replayed state is always the state.
"""

from __future__ import annotations

from typing import Any

from wfe.state.schema import State, StateSchema
from wfe.store.records import Ops

_REPLAYED = frozenset({"replace", "append", "extend", "merge"})


class StepDelta:
    """The ops of each step of one run, and whether its visits follow from the last step's."""

    __slots__ = ("_reduce", "_secret", "_visits")

    def __init__(self, schema: StateSchema) -> None:
        self._reduce = {key: slot.reduce for key, slot in schema.slots.items()}
        self._secret = schema.secret_keys
        #: The visits after the last step, as derived (None: not known yet).
        self._visits: dict[str, int] | None = None

    def ops(self, updates: dict[str, Any], state: State) -> Ops:
        """Per key of `updates`, how it was applied where not as a plain replacement."""
        ops: Ops = {}
        reduce = self._reduce
        for key, value in updates.items():
            how = reduce.get(key, "")
            if key in self._secret:
                ops[key] = "skip"
            elif how not in _REPLAYED:
                ops[key] = ["set", state[key]]
            elif how == "replace":
                if state.get(key) is not value:
                    ops[key] = ["set", state[key]]
            elif how == "merge":
                ops[key] = "merge"
            else:
                ops[key] = _list_op(state.get(key), value)
        return ops

    def visits_derived(self, node: str, visits: dict[str, int]) -> bool:
        """Whether `visits` are the last step's with `node` once more (the store then derives
        them); remembers them either way."""
        known = self._visits
        count = visits.get(node)
        if (known is not None and count == known.get(node, 0) + 1
                and len(visits) == len(known) + (node not in known)):
            known[node] = count
            return True
        self._visits = dict(visits)
        return False


def _list_op(current: Any, value: Any) -> Any:
    """"append" when the list ends with `value` itself, "extend" when it ends with the items of
    `value` (an `extend`, or the items several branches appended), else the list whole."""
    if type(current) is not list:
        return ["set", current]
    if current and current[-1] is value:
        return "append"
    if type(value) is list and len(value) <= len(current) and all(
            a is b for a, b in zip(reversed(value), reversed(current), strict=False)):
        return "extend"
    return ["set", current]
