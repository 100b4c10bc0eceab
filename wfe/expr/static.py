"""What the state's declared types tell about an expression at load.

An expression that fails every time it is evaluated (a condition that can never be true or
false, an order between a number and a string, a key looked up on a number, a slice step of
zero, an input or a node that does not exist) is reported where it is written instead. Only what
is certain is reported: a key typed `any`, a union or a map item's name is never judged.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import Literal

Kind = Literal["bool", "number", "str", "list", "dict", "unknown"]

_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_SCALARS: dict[str, Kind] = {"bool": "bool", "int": "number", "float": "number", "str": "str"}
_SHOWN: dict[Kind, str] = {"number": "a number", "str": "a string", "list": "a list",
                           "bool": "a bool", "dict": "a mapping", "unknown": "a value"}


def declared_kind(type_text: str) -> Kind:
    """The kind every value of a declared state type has, or "unknown" when it may vary."""
    text = type_text.replace(" ", "")
    if text in _SCALARS:
        return _SCALARS[text]
    if text == "list" or text.startswith("list["):
        return "list"
    if text == "dict" or text.startswith("dict["):
        return "dict"
    return "unknown"


class Facts:
    """The names an expression may use, with what is known of each."""

    def __init__(self, types: Mapping[str, str], nodes: Collection[str]) -> None:
        self.kinds: dict[str, Kind] = {key: declared_kind(text) for key, text in types.items()}
        self.kinds.update(visits="dict", inputs="dict", step="number")
        #: For `inputs` and `visits`: the keys they can ever hold.
        self.keys: dict[str, Collection[str]] = {"inputs": set(types), "visits": set(nodes)}

    def kind(self, node: ast.AST) -> Kind:
        if isinstance(node, ast.Name):
            return self.kinds.get(node.id, "unknown")
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return "bool"
            if isinstance(value, int | float):
                return "number"
            return "str" if isinstance(value, str) else "unknown"
        if isinstance(node, ast.Compare) or (isinstance(node, ast.UnaryOp)
                                             and isinstance(node.op, ast.Not)):
            return "bool"
        return "unknown"


def load_time_problems(tree: ast.expr, facts: Facts, *, condition: bool) -> list[str]:
    """One message for each part of the expression that fails whenever it is evaluated."""
    problems = list(_not_a_bool(tree, facts)) if condition else []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            problems += _bad_orderings(node, facts)
        elif isinstance(node, ast.Attribute | ast.Subscript):
            problems += _bad_lookup(node, facts)
        elif isinstance(node, ast.Slice) and _is_zero(node.step):
            problems.append("a slice step cannot be zero")
    return problems


def _not_a_bool(tree: ast.expr, facts: Facts) -> Iterator[str]:
    parts = tree.values if isinstance(tree, ast.BoolOp) else [tree]
    for part in parts:
        if isinstance(part, ast.BoolOp):
            yield from _not_a_bool(part, facts)
            continue
        kind = facts.kind(part)
        if kind not in ("bool", "unknown"):
            shown = ast.unparse(part)
            yield (f"a condition must be true or false, and `{shown}` is {_SHOWN[kind]} "
                   f"(compare it: `{shown} > 0`, `{shown} != \"\"`, `len({shown}) > 0`)")


def _bad_orderings(node: ast.Compare, facts: Facts) -> Iterator[str]:
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        kinds = {facts.kind(left), facts.kind(right)}
        if isinstance(op, _ORDERING) and kinds == {"number", "str"}:
            yield (f"`{ast.unparse(left)}` and `{ast.unparse(right)}` cannot be ordered: one "
                   "is a number, the other a string")


def _bad_lookup(node: ast.Attribute | ast.Subscript, facts: Facts) -> Iterator[str]:
    container = node.value
    kind = facts.kind(container)
    if isinstance(node, ast.Attribute) and kind in ("number", "str", "bool", "list"):
        yield (f"`.{node.attr}` looks up a key, but `{ast.unparse(container)}` is "
               f"{_SHOWN[kind]}")
        return
    key = node.attr if isinstance(node, ast.Attribute) else _constant_str(node.slice)
    if isinstance(container, ast.Name) and key is not None:
        known = facts.keys.get(container.id)
        if known is not None and key not in known:
            what = "state key" if container.id == "inputs" else "node"
            yield f"`{ast.unparse(node)}` can never be found: there is no {what} '{key}'"


def _constant_str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_zero(node: ast.AST | None) -> bool:
    return (isinstance(node, ast.Constant) and type(node.value) in (int, float)
            and node.value == 0)
