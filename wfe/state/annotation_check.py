"""Whether a value passes pydantic's strict validation against a tool parameter's annotation,
decided without pydantic for the annotations tools commonly declare.

`wfe validate` checks each `with:` constant against the annotation of the parameter it fills.
Importing pydantic and building a validator per parameter costs more than the rest of a
validation, so the common annotations are decided here by pydantic's strict rules, and only the
rest (models, TypedDicts, dataclasses, constrained or string annotations...) are left to
pydantic. The rules, each checked against pydantic itself by tests/test_annotation_check.py:

- `Any` and `object` accept everything;
- `str`, `bool`, `None` accept exactly their type; `int` too (never a bool, nor a float);
- `float` accepts a float, or an int (not a bool) that converts to a float without overflowing;
- `list[X]`, `dict[K, V]`, `tuple[X, ...]`, `tuple[X, Y]` accept only their own container type
  (a tuple is not a list) with every item, key and value accepted;
- a union accepts what any of its members accepts;
- `Literal[...]` of str, int, bool and None accepts a value equal to one of them (pydantic looks
  the value up in a dict: `1.0` and `True` are accepted by `Literal[1]`);
- `Annotated[X, "text", ...]` is X (pydantic ignores metadata it does not know).
"""

from __future__ import annotations

import types
import typing
from itertools import chain
from typing import Any, Literal

#: The values decided here: what YAML gives (a workflow's constants), plus tuples and bytes.
_PLAIN_VALUES = (type(None), bool, int, float, str, bytes, list, dict, tuple)
#: Annotations that accept exactly one type of value.
_EXACT = (str, int, bool, type(None))
_CONTAINERS = (list, dict, tuple)
_BARE_TUPLES = (tuple, typing.Tuple)  # noqa: UP006 (the alias itself is what is looked for)
_UNIONS = (typing.Union, types.UnionType)
_LITERAL_MEMBERS = (str, int, bool, type(None))
#: Pydantic looks an int up in a table of 64-bit integers, and fails on a longer one.
_I64 = range(-(2**63), 2**63)


def strict_verdict(annotation: Any, value: Any) -> bool | None:
    """Whether pydantic's strict validation accepts value for annotation; None when only
    pydantic can tell (an annotation or a value outside what this module decides)."""
    if not _is_plain_value(value) or not _is_decided(annotation):
        return None
    return _accepts(annotation, value)


def _is_plain_value(value: Any) -> bool:
    """Of the plain types all through, and a tree (a list or dict met twice, maybe in a cycle,
    is left to pydantic)."""
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind not in _PLAIN_VALUES:
            return False
        if kind is list or kind is dict:
            if id(item) in seen:
                return False
            seen.add(id(item))
        if kind is list or kind is tuple or kind is dict:
            stack.extend(item)
            if kind is dict:
                stack.extend(item.values())
    return True


def _is_decided(annotation: Any) -> bool:
    """Whether every part of the annotation is one this module decides."""
    if _is_any(annotation) or _exact_type(annotation) or annotation is float:
        return True
    if _is_one_of(annotation, _CONTAINERS):
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in _UNIONS:
        return all(map(_is_decided, args))
    if origin is tuple:
        return _is_decided_tuple(args)
    if origin is list:
        return len(args) <= 1 and all(map(_is_decided, args))
    if origin is dict:
        return len(args) in (0, 2) and all(map(_is_decided, args))
    if origin is Literal:
        return all(type(member) in _LITERAL_MEMBERS for member in args)
    if origin is typing.Annotated:
        return all(type(note) is str for note in annotation.__metadata__) and _is_decided(
            args[0])
    return False


def _is_decided_tuple(args: tuple[Any, ...]) -> bool:
    if _is_one_of(Ellipsis, args):
        return len(args) == 2 and args[1] is Ellipsis and _is_decided(args[0])
    return all(map(_is_decided, args))


def _is_one_of(thing: Any, candidates: tuple[Any, ...]) -> bool:
    # By identity: an annotation's own `__eq__` or `__hash__` may be anything.
    return any(thing is candidate for candidate in candidates)


def _is_any(annotation: Any) -> bool:
    return annotation is Any or annotation is object


def _exact_type(annotation: Any) -> type | None:
    """The one type of value the annotation accepts, for str, int, bool and None."""
    if annotation is None:
        return type(None)
    return next((kind for kind in _EXACT if annotation is kind), None)


def _accepts(annotation: Any, value: Any) -> bool | None:
    """The verdict for a decided annotation and a plain value (None: pydantic must tell)."""
    if _is_any(annotation):
        return True
    exact = _exact_type(annotation)
    if exact is not None:
        return type(value) is exact
    if annotation is float:
        return _is_float(value)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in _UNIONS:
        return _any_of(_accepts(member, value) for member in args)
    if origin is Literal:
        return _in_literal(args, value)
    if origin is typing.Annotated:
        return _accepts(args[0], value)
    return _container_accepts(annotation, origin, args, value)


def _container_accepts(annotation: Any, origin: Any, args: tuple[Any, ...],
                       value: Any) -> bool | None:
    container = annotation if origin is None else origin
    if type(value) is not container:
        return False
    if container is list:
        return not args or _all_of(_accepts(args[0], item) for item in value)
    if container is dict:
        return not args or _all_of(chain((_accepts(args[0], key) for key in value),
                                         (_accepts(args[1], item) for item in value.values())))
    return _tuple_accepts(annotation, args, value)


def _tuple_accepts(annotation: Any, args: tuple[Any, ...], value: tuple[Any, ...]) -> bool | None:
    if not args:  # so has `tuple[()]`, which takes only the empty tuple
        return _is_one_of(annotation, _BARE_TUPLES) or not value
    if len(args) == 2 and args[1] is Ellipsis:
        return _all_of(_accepts(args[0], item) for item in value)
    return len(args) == len(value) and _all_of(
        _accepts(arg, item) for arg, item in zip(args, value, strict=True))


def _is_float(value: Any) -> bool:
    if type(value) is float:
        return True
    if type(value) is not int:
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _in_literal(members: tuple[Any, ...], value: Any) -> bool | None:
    if type(value) is int and value not in _I64 and any(type(m) is int for m in members):
        return None  # pydantic's lookup of an int too long for 64 bits: its own business
    return any(value == member for member in members)


def _all_of(verdicts: typing.Iterable[bool | None]) -> bool | None:
    """False when any is False (pydantic fails on it whatever the others), else None if any is
    None, else True."""
    return _settled_by(verdicts, False)


def _any_of(verdicts: typing.Iterable[bool | None]) -> bool | None:
    """True when any is True, else None if any is None, else False."""
    return _settled_by(verdicts, True)


def _settled_by(verdicts: typing.Iterable[bool | None], decisive: bool) -> bool | None:
    """Three-valued `all` (decisive False) or `any` (decisive True)."""
    unknown = False
    for verdict in verdicts:
        if verdict is decisive:
            return decisive
        unknown = unknown or verdict is None
    return None if unknown else not decisive
