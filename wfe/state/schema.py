"""The state schema at run time: typed keys, defaults, reducers, validation of every write.

Validation is per written key, never of the whole state, so a step costs what it writes.
"""

from __future__ import annotations

import copy
import functools
import os
import reprlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_args, get_origin

from wfe.errors import InputError, StateError, did_you_mean
from wfe.state.pydantic_plugins import without_plugins
from wfe.state.types import TypeTree, builtin_of, holds_as_is, parse_type, python_type

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

    from wfe.spec.models import StateField

State = dict[str, Any]
Reducer = Callable[[Any, Any], Any]
MASK = "***"

_UNSET: Any = object()


#: JSON text holds any integer, but Python will not write one of more digits than this (a
#: guard against quadratic conversions): refused when written, like NaN.
_INT_DIGITS = sys.get_int_max_str_digits() or 4300
_INT_BOUND = 10 ** _INT_DIGITS
_INT_FLOOR = -_INT_BOUND  # computed once: negating a 4,300-digit integer per write is not free


def _holds_too_long_int(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is int:
            if not _INT_FLOOR < item < _INT_BOUND:
                return True
        elif kind is list:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
    return False


def describe_value(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:  # nested too deep to print whole
        text = reprlib.repr(value)
    except ValueError:  # holds an integer too long to print
        text = "(too large to show)"
    return f"{type(value).__name__} {_shortened(text)}"


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _first_error(error: ValidationError) -> str:
    detail = error.errors()[0]
    where = _shortened("".join(f"[{p!r}]" for p in detail["loc"]), 80)
    return f"{where + ': ' if where else ''}{detail['msg'].lower()}"


def _validation_error() -> type[ValidationError]:
    """Pydantic's error class, imported only once a value has failed a check through it."""
    # deferred: pydantic (~90 ms) is not imported to build a schema; see _adapter
    from pydantic import ValidationError

    return ValidationError


@dataclass(eq=False)
class Slot:
    """One state key: how a write is validated and combined with the current value."""

    key: str
    type_text: str
    #: The type text parsed, once.
    tree: TypeTree
    reduce: str
    custom: Reducer | None = None
    secret: bool = False
    #: For `str`, `int` and `bool` keys: a value of exactly this type needs no further check.
    exact: type | None = None
    #: Built on the first value the `exact` check does not settle (most runs of a workflow of
    #: str, int and bool keys never build one, nor import pydantic).
    adapter: TypeAdapter[Any] | None = field(default=None, init=False, repr=False)
    item_adapter: TypeAdapter[Any] | None = field(default=None, init=False, repr=False)

    def check(self, value: Any, item: bool = False, what: str = "") -> Any:
        """The value as written, validated strictly against the type (or its item type)."""
        if (not item and self.exact is not None and type(value) is self.exact
                and (self.exact is not int or _INT_FLOOR < value < _INT_BOUND)):
            return value  # the common case (an int for an int key) without pydantic's overhead
        adapter = self.item_adapter if item else self.adapter
        if adapter is None:
            adapter = self._build_adapter(item)
        try:
            checked = adapter.validate_python(value, strict=True)
        except _validation_error() as error:  # evaluated only when an exception is raised
            raise self._refused(value, what, _first_error(error)) from None
        if type(checked) in (int, list, dict) and _holds_too_long_int(checked):
            raise self._refused(value, what, f"an integer of more than {_INT_DIGITS} digits "
                                             "cannot be written as JSON")
        return checked

    def check_fresh(self, value: Any) -> Any:
        """`check` for a value that nothing else holds (a copy of a default): one the type takes
        as it is needs no copy from pydantic, so no pydantic (a dry run of a workflow with list
        defaults does not import it)."""
        if holds_as_is(self.tree, value) and not _holds_too_long_int(value):
            return value
        return self.check(value)

    def _build_adapter(self, item: bool) -> TypeAdapter[Any]:
        adapter = _adapter(self.type_text, item=item)
        if item:
            self.item_adapter = adapter
        else:
            self.adapter = adapter
        return adapter

    def _refused(self, value: Any, what: str, reason: str) -> StateError:
        shown = MASK if self.secret else describe_value(value)
        return StateError(f"state key '{self.key}' must be {what or self.type_text}, got "
                          f"{shown} ({reason})", key=self.key)

    def write(self, state: State, value: Any) -> Any:
        """Combine value into state[key] through the reducer; return the validated written value."""
        reduce = self.reduce
        if reduce == "replace":
            state[self.key] = checked = self.check(value)
            return checked
        current = state.get(self.key, _UNSET)
        if reduce == "append":
            checked = self.check(value, True, f"an item of {self.type_text}")
            # In place: a loop that accumulates must not copy the whole list per step.
            if current is _UNSET:
                state[self.key] = [checked]
            else:
                current.append(checked)
        elif reduce == "extend":
            checked = self.check(value)
            if current is _UNSET:
                state[self.key] = list(checked)
            else:
                current.extend(checked)
        elif reduce == "merge":
            checked = self.check(value)
            state[self.key] = dict(checked) if current is _UNSET else {**current, **checked}
        elif reduce == "add":
            checked = self.check(value)
            state[self.key] = checked if current is _UNSET else self.check(current + checked)
        else:
            assert self.custom is not None
            checked = value
            combined = value if current is _UNSET else self.custom(current, value)
            state[self.key] = self.check(combined)
        return checked


@functools.lru_cache(maxsize=512)
def _adapter(type_text: str, *, item: bool = False) -> TypeAdapter[Any]:
    """The adapter for a type as written (or for its items); shared, since a workflow and its
    subgraphs declare the same few types many times and each adapter takes a while to build."""
    # deferred: pydantic (~90 ms) loads at the first value that needs its check, never for
    # `wfe validate` or a dry run
    from pydantic import ConfigDict, JsonValue, TypeAdapter

    python = python_type(type_text)
    if item:
        python = get_args(python)[0] if get_origin(python) is list else JsonValue
    # NaN and infinities are not JSON: refused when written, never left for the store to choke on.
    json_only = ConfigDict(allow_inf_nan=False)
    with without_plugins():
        return TypeAdapter(python, config=json_only)


class StateSchema:
    """Every declared key with its slot, defaults and where defaults come from."""

    def __init__(
        self, fields: Mapping[str, StateField], custom_reducers: Mapping[str, Reducer]
    ) -> None:
        self.fields = dict(fields)
        self.slots: dict[str, Slot] = {}
        for key, declared in self.fields.items():
            tree = parse_type(declared.type)
            self.slots[key] = Slot(
                key=key,
                type_text=declared.type,
                tree=tree,
                reduce=declared.reduce,
                custom=custom_reducers.get(declared.reduce),
                secret=declared.secret,
                exact=builtin_of(tree),
            )
        self.secret_keys = frozenset(k for k, f in self.fields.items() if f.secret)

    def prepare(self) -> None:
        """Build now the validators that writes would build at their first value (importing
        pydantic for the first), so that no step's measured time includes them."""
        for slot in self.slots.values():
            if slot.exact is None and slot.adapter is None:
                slot._build_adapter(False)
            if slot.reduce == "append" and slot.item_adapter is None:
                slot._build_adapter(True)

    @property
    def trees(self) -> dict[str, TypeTree]:
        """Each key's parsed type: how a text given for it is read (`wfe.state.scalars`)."""
        return {key: slot.tree for key, slot in self.slots.items()}

    def __contains__(self, key: object) -> bool:
        return key in self.slots

    def unknown_key_error(self, key: str, node: str | None, verb: str = "wrote") -> StateError:
        hint = did_you_mean(key, self.slots)
        who = "the run" if node is None else "it"
        return StateError(
            f"{who} {verb} undeclared state key '{key}'{hint}; declare it under `state:`",
            key=key,
            node=node,
        )

    def initial(self, inputs: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> State:
        """Defaults, then `env:` values, then inputs, each validated; required keys checked."""
        try:
            return self._initial(inputs, environ)
        except StateError as error:
            raise InputError(error.message, key=error.key) from None

    def _initial(self, inputs: Mapping[str, Any], environ: Mapping[str, str] | None) -> State:
        environ = os.environ if environ is None else environ
        state: State = {}
        for key, declared in self.fields.items():
            if declared.env and declared.env in environ and key not in inputs:
                state[key] = self.from_env(key, environ)
            elif declared.has_default:
                state[key] = self.slots[key].check_fresh(copy.deepcopy(declared.default))
        for key, value in inputs.items():
            if key not in self.slots:
                raise StateError(
                    f"unknown input '{key}'{did_you_mean(key, self.slots)}", key=key
                )
            state[key] = self.slots[key].check(value)
        missing = [k for k, f in self.fields.items() if f.required and k not in state]
        if missing:
            raise StateError(
                f"missing required input '{missing[0]}' (give it with -i {missing[0]}=...)",
                key=missing[0],
            )
        return state

    def from_env(self, key: str, environ: Mapping[str, str]) -> Any:
        """The key's value from its `env:` variable (which is set), read as `-i` values are."""
        from wfe.state.scalars import ScalarError, typed_scalar  # YAML is read only for env: values

        slot, variable = self.slots[key], self.fields[key].env
        assert variable is not None
        try:
            return slot.check(typed_scalar(environ[variable], slot.tree))
        except ScalarError as error:
            reason = "it is not a YAML value" if slot.secret else str(error)
            raise StateError(f"state key '{key}' from environment variable {variable}: "
                             f"{reason}", key=key) from None
        except StateError as error:
            raise StateError(f"{error.message} (from environment variable {variable})",
                             key=key) from None

    def edited(self, state: State, values: Mapping[str, Any]) -> State:
        """A copy of `state` with `values` written over it (not through reducers), each checked
        as an input is: `wfe resume --from NODE -i KEY=VALUE`."""
        edited = dict(state)
        try:
            for key, value in values.items():
                if key not in self.slots:
                    raise StateError(
                        f"unknown input '{key}'{did_you_mean(key, self.slots)}", key=key)
                edited[key] = self.slots[key].check(value)
        except StateError as error:
            raise InputError(error.message, key=error.key) from None
        return edited

    def apply(self, state: State, updates: Mapping[str, Any], node: str) -> dict[str, Any]:
        """Write every update through its slot; returns the validated updates."""
        written: dict[str, Any] = {}
        slots = self.slots
        for key, value in updates.items():
            slot = slots.get(key)
            if slot is None:
                raise self.unknown_key_error(key, node)
            try:
                written[key] = slot.write(state, value)
            except StateError as error:
                error.node = node
                raise
        return written

    def mask(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A copy with secret values replaced, for anything printed, logged or emitted."""
        if not self.secret_keys:
            return dict(values)
        return {k: (MASK if k in self.secret_keys else v) for k, v in values.items()}
