"""State types as written in workflow files: `str`, `list[dict[str, int]]`, `float | None`.

A tiny recursive-descent parser (never `eval`) checks the text and turns it into a syntax tree,
without pydantic: loading and checking a workflow never needs it. Only when a value must be
validated is the tree turned into the Python type pydantic validates against (`python_type`).
Every type only admits JSON values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import reduce
from typing import Any

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\[|\]|,|\|))")

#: Every name a type text may use; "null" is another spelling of "None".
_ATOMS = frozenset({"str", "int", "float", "bool", "list", "dict", "any", "None", "null"})

TYPE_NAMES = ("str", "int", "float", "bool", "list", "dict", "any")


class TypeSyntaxError(ValueError):
    """The type text is not one wfe understands."""


@dataclass(frozen=True)
class TypeTree:
    """A parsed type: an atom ("str", "None", ...), "list" or "dict" with their parameter in
    `args` (none when bare), or "union" of its distinct members in `args`."""

    name: str
    args: tuple[TypeTree, ...] = ()


def _union(members: list[TypeTree]) -> TypeTree:
    distinct = tuple(dict.fromkeys(members))  # as `int | int` is `int` in Python
    return distinct[0] if len(distinct) == 1 else TypeTree("union", distinct)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0

    def _tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        index = 0
        while index < len(text):
            if text[index:].strip() == "":
                break
            match = _TOKEN.match(text, index)
            if match is None:
                raise TypeSyntaxError(f"unexpected {text[index:].strip()[0]!r} in type '{text}'")
            tokens.append(match.group(1) or match.group(2))
            index = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            want = f"'{expected}'" if expected else "a type"
            raise TypeSyntaxError(f"expected {want} in type '{self.text}'")
        self.pos += 1
        return token

    def union(self) -> TypeTree:
        members = [self.atom()]
        while self.peek() == "|":
            self.take("|")
            members.append(self.atom())
        return _union(members)

    def atom(self) -> TypeTree:
        name = self.take()
        if name not in _ATOMS:
            raise TypeSyntaxError(
                f"unknown type '{name}' in '{self.text}' (use one of {', '.join(TYPE_NAMES)})"
            )
        if self.peek() != "[":
            return TypeTree("None" if name == "null" else name)
        if name == "list":
            self.take("[")
            item = self.union()
            self.take("]")
            return TypeTree("list", (item,))
        if name == "dict":
            self.take("[")
            if self.union() != TypeTree("str"):
                raise TypeSyntaxError(f"dict keys must be str in type '{self.text}'")
            self.take(",")
            value = self.union()
            self.take("]")
            return TypeTree("dict", (value,))
        raise TypeSyntaxError(f"type '{name}' takes no parameters in '{self.text}'")


def parse_type(text: str) -> TypeTree:
    """The syntax tree of a type text; raises TypeSyntaxError. Never imports pydantic."""
    parser = _Parser(text)
    if not parser.tokens:
        raise TypeSyntaxError("empty type")
    result = parser.union()
    if parser.peek() is not None:
        raise TypeSyntaxError(f"unexpected '{parser.peek()}' in type '{text}'")
    return result


_EXACT_BUILTINS: dict[str, type] = {"str": str, "int": int, "bool": bool}


def exact_builtin(text: str) -> type | None:
    """`str`, `int` or `bool` when the type is exactly that builtin (any value of that type and
    no other is valid, bar integers too long for JSON), else None."""
    return builtin_of(parse_type(text))


def builtin_of(tree: TypeTree) -> type | None:
    """`exact_builtin` of a parsed type."""
    return _EXACT_BUILTINS.get(tree.name) if not tree.args else None


_AS_IS_ATOMS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool,
                                  "None": type(None)}


def holds_as_is(tree: TypeTree, value: Any) -> bool:
    """Whether pydantic's strict check of value against the type accepts it and gives back an
    equal value of the very same types all through, so that a value nobody else holds needs
    neither pydantic nor its copy. An int where a float is wanted comes back a float: not as is.
    False only says that pydantic must decide."""
    name = tree.name
    if name == "union":
        return any(holds_as_is(member, value) for member in tree.args)
    if name == "any":
        return _is_json(value)
    kind = type(value)
    if name == "list":
        return kind is list and all(_item_as_is(tree, item) for item in value)
    if name == "dict":
        return kind is dict and all(type(key) is str and _item_as_is(tree, item)
                                    for key, item in value.items())
    if kind is float:
        return name == "float" and math.isfinite(value)
    return kind is _AS_IS_ATOMS.get(name)


def fits(tree: TypeTree, value: Any) -> bool:
    """Whether pydantic's strict check of a JSON value against the type accepts it (as
    `holds_as_is`, and an int where a float is wanted), decided without pydantic: a state
    default is checked when the file is loaded, and loading never imports pydantic."""
    name = tree.name
    if name == "union":
        return any(fits(member, value) for member in tree.args)
    if name == "float" and type(value) is int:
        try:
            return math.isfinite(float(value))
        except OverflowError:
            return False
    if name == "list" and tree.args:
        return type(value) is list and all(fits(tree.args[0], item) for item in value)
    if name == "dict" and tree.args:
        return type(value) is dict and all(type(key) is str and fits(tree.args[0], item)
                                           for key, item in value.items())
    return holds_as_is(tree, value)


def _item_as_is(container: TypeTree, item: Any) -> bool:
    return holds_as_is(container.args[0], item) if container.args else _is_json(item)


def _is_json(value: Any) -> bool:
    """A JSON value all through: what `any` (pydantic's JsonValue, finite numbers) gives back
    as it is."""
    kind = type(value)
    if kind is list:
        return all(_is_json(item) for item in value)
    if kind is dict:
        return all(type(key) is str and _is_json(item) for key, item in value.items())
    if kind is float:
        return math.isfinite(value)
    return kind in (str, int, bool, type(None))


def python_type(text: str) -> Any:
    """The Python type pydantic validates a value of the type text against; imports pydantic."""
    # deferred: pydantic (~90 ms); parsing and checking type texts (`wfe validate`) goes without
    from pydantic import JsonValue

    def build(tree: TypeTree) -> Any:
        if tree.name == "union":
            return reduce(lambda a, b: a | b, [build(member) for member in tree.args])
        if tree.name == "list":
            return list[build(tree.args[0]) if tree.args else JsonValue]  # type: ignore[misc]
        if tree.name == "dict":
            return dict[str, build(tree.args[0]) if tree.args else JsonValue]  # type: ignore[misc]
        atoms: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool,
                                 "any": JsonValue, "None": type(None)}
        return atoms[tree.name]

    return build(parse_type(text))


def is_list_type(text: str) -> bool:
    """Whether every value of the type is a list (for `map:` and list reducers)."""
    return text.strip() == "list" or text.strip().startswith("list[")
