"""An import inside a function says why it is there: start-up time, an optional extra, a cycle.

A lazy import hides a module's dependencies from its reader and from the import-time profile; it
stays only where it buys something, and a one-line comment says what (on the line above it, or
above the block of imports it opens, or at the end of its own line).
"""

from __future__ import annotations

import ast
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wfe"

#: Comments that are pragmas for tools, not reasons.
PRAGMAS = ("noqa", "type:", "pragma:")


def _comments(source: str) -> tuple[dict[int, str], dict[int, str]]:
    """The comments alone on their lines, and those at the end of a line of code, by line."""
    lines = iter(source.splitlines(keepends=True))
    alone: dict[int, str] = {}
    trailing: dict[int, str] = {}
    for token in tokenize.generate_tokens(lambda: next(lines, "")):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            on_its_own = not token.line[:token.start[1]].strip()
            (alone if on_its_own else trailing)[token.start[0]] = text
    return alone, trailing


def _is_reason(comment: str | None) -> bool:
    return comment is not None and comment != "" and not comment.startswith(PRAGMAS)


def _lazy_imports(tree: ast.AST) -> Iterator[list[ast.Import | ast.ImportFrom]]:
    """The imports inside functions, in blocks: imports that follow each other in one body (a
    blank line may part them, as isort parts the standard library from the rest)."""
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    seen: set[int] = set()  # a nested function's imports are met once more in its outer one
    for function in functions:
        for node in ast.walk(function):
            for field in ("body", "orelse", "finalbody"):
                statements = getattr(node, field, None)
                if not isinstance(statements, list):
                    continue
                block: list[ast.Import | ast.ImportFrom] = []
                for statement in statements:
                    if isinstance(statement, (ast.Import, ast.ImportFrom)) \
                            and id(statement) not in seen:
                        seen.add(id(statement))
                        block.append(statement)
                    elif block:
                        yield block
                        block = []
                if block:
                    yield block


def unexplained(source: str) -> list[int]:
    """The line of every import inside a function with no reason given for it."""
    alone, trailing = _comments(source)
    found = []
    for block in _lazy_imports(ast.parse(source)):
        if _is_reason(alone.get(block[0].lineno - 1)):
            continue
        found.extend(statement.lineno for statement in block
                     if not _is_reason(trailing.get(statement.lineno)))
    return sorted(found)


def test_every_import_inside_a_function_gives_its_reason() -> None:
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE.parent).as_posix()
        offending += [f"{name}:{line}" for line in unexplained(path.read_text())]
    assert offending == [], "imports inside functions with no reason comment:\n" + "\n".join(
        offending)


@pytest.mark.parametrize(("source", "lines"), [
    ("import os\n\ndef f():\n    import json\n", [4]),
    ("def f():\n    # deferred: json is slow\n    import json\n", []),
    ("def f():\n    import json  # deferred: json is slow\n", []),
    ("def f():\n    import json  # noqa: F401\n", [2]),
    ("def f():\n    # slow to import\n    import json\n    from os import path\n", []),
    ("def f():\n    # slow to import\n    import json\n\n    import os\n", []),
    ("def f():\n    # slow to import\n    import json\n    x = 1\n    import os\n", [5]),
    ("def f():\n    x = 1\n    import json\n", [3]),
    ("def f():\n    if x:  # when x\n        import json\n", [3]),
    ("def f():\n    if True:\n        import json\n", [3]),
    ("def f():\n    try:\n        import json\n    except ImportError:\n        pass\n", [3]),
    ("def f():\n    def g():\n        import json\n", [3]),
    ("async def f():\n    # only on the error path\n    from os import (\n        path,\n    )\n"
     "    import json\n", []),
    ("class C:\n    def m(self):\n        import json\n", [3]),
    ("try:\n    import json\nexcept ImportError:\n    pass\n", []),
])
def test_the_scan_finds_unexplained_imports_and_only_those(source: str, lines: list[int]) -> None:
    assert unexplained(source) == lines
