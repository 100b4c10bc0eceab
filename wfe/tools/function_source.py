"""A function's own source, parsed: what `ast.parse(dedent(inspect.getsource(fn)))` gives, faster.

`inspect.getsource` finds where a definition ends by running the pure-Python tokenizer over it:
about a millisecond per function, plus several once for compiling the tokenizer's patterns, which
was most of what `wfe validate` spent reading tools. Here parsing finds the end instead. A line
that holds code and is indented no deeper than the definition's first line either starts the next
statement or continues a bracket, a string or a `\\` line, and in that second case the text
before it does not parse; so the text before the first such line at which it parses is exactly
the definition (trailing comments aside). Whatever this does not settle (a tab in the
indentation, a lambda, no source), inspect.getsource decides.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

#: Parses tried before leaving a definition to inspect.getsource: a decorated function needs one
#: per decorator line more than an undecorated one (which needs one).
_MAX_ATTEMPTS = 16
_NOT_CODE = 1 << 30


def parse_function(fn: Callable[..., Any]) -> ast.Module:
    """The dedented source of fn parsed as a module; raises OSError, TypeError or SyntaxError as
    `inspect.getsource` and `ast.parse` do."""
    tree = _parse_definition(fn)
    if tree is not None:
        return tree
    return ast.parse(textwrap.dedent(inspect.getsource(fn)))


def _parse_definition(fn: Callable[..., Any]) -> ast.Module | None:
    target = inspect.unwrap(fn)
    if not inspect.isfunction(target):
        return None
    try:
        lines, first = inspect.findsource(target)
    except (OSError, TypeError):
        return None
    depth = _indent(lines[first])
    if depth is None:
        return None
    attempts = 0
    for end in range(first + 1, len(lines) + 1):
        if end < len(lines):
            indent = _indent(lines[end])
            if indent is None:
                return None
            if indent > depth:
                continue
        attempts += 1
        if attempts > _MAX_ATTEMPTS:
            return None
        try:
            tree = ast.parse(textwrap.dedent("".join(_without_trailing_notes(lines[first:end]))))
        except SyntaxError:
            continue
        whole = len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef
                                                    | ast.AsyncFunctionDef)
        return tree if whole else None
    return None


def _indent(line: str) -> int | None:
    """Columns of indentation; blank and comment lines count as indented deeper than anything;
    None for a tab or form feed, whose columns follow the tokenizer's rules (getsource decides)."""
    code = line.lstrip(" ")
    if not code.strip() or code.startswith("#"):
        return _NOT_CODE
    if code[0] in "\t\f":
        return None
    return len(line) - len(code)


def _without_trailing_notes(lines: list[str]) -> list[str]:
    # Comments between a method and the next top-level line may be indented less than the method.
    end = len(lines)
    while end > 1 and _indent(lines[end - 1]) == _NOT_CODE:
        end -= 1
    return lines[:end]
