"""State types as written in workflow files: `str`, `list[dict[str, int]]`, `float | None`.

A tiny recursive-descent parser (never `eval`) turns the text into a Python type that pydantic
validates against. Every type only admits JSON values.
"""

from __future__ import annotations

import re
from functools import reduce
from typing import Any

from pydantic import JsonValue

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\[|\]|,|\|))")

_ATOMS: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list[JsonValue],
    "dict": dict[str, JsonValue],
    "any": JsonValue,
    "None": None,
    "null": None,
}

TYPE_NAMES = ("str", "int", "float", "bool", "list", "dict", "any")


class TypeSyntaxError(ValueError):
    """The type text is not one wfe understands."""


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

    def union(self) -> Any:
        members = [self.atom()]
        while self.peek() == "|":
            self.take("|")
            members.append(self.atom())
        return members[0] if len(members) == 1 else reduce(lambda a, b: a | b, members)

    def atom(self) -> Any:
        name = self.take()
        if name not in _ATOMS:
            raise TypeSyntaxError(
                f"unknown type '{name}' in '{self.text}' (use one of {', '.join(TYPE_NAMES)})"
            )
        if self.peek() != "[":
            return _ATOMS[name] if _ATOMS[name] is not None else type(None)
        if name == "list":
            self.take("[")
            item = self.union()
            self.take("]")
            return list[item]  # type: ignore[valid-type]
        if name == "dict":
            self.take("[")
            key = self.union()
            if key is not str:
                raise TypeSyntaxError(f"dict keys must be str in type '{self.text}'")
            self.take(",")
            value = self.union()
            self.take("]")
            return dict[str, value]  # type: ignore[valid-type]
        raise TypeSyntaxError(f"type '{name}' takes no parameters in '{self.text}'")


def parse_type(text: str) -> Any:
    """The Python type for a type text; raises TypeSyntaxError."""
    parser = _Parser(text)
    if not parser.tokens:
        raise TypeSyntaxError("empty type")
    result = parser.union()
    if parser.peek() is not None:
        raise TypeSyntaxError(f"unexpected '{parser.peek()}' in type '{text}'")
    return result


def is_list_type(text: str) -> bool:
    """Whether every value of the type is a list (for `map:` and list reducers)."""
    return text.strip() == "list" or text.strip().startswith("list[")
