"""Per-function measurements: McCabe complexity exactly as flake8's C901 counts it, and more.

mccabe 0.7 (`PathGraphingAstVisitor`) builds a graph per function and reports V - E + 2. Read
node by node, that graph reduces to `1 + decision points`, counted over the statements of the body:

- `if`, each `elif`, `for`, `async for`, `while`: +1 each (a loop's `else:` adds nothing);
- `try`: +1, plus +1 per `except` clause; its `finally:` block is never visited (an `if` inside a
  `finally` counts nothing), while the `try`, `except` and `else` blocks are;
- `with` / `async with`: +0, but its body is counted;
- a nested `def` / `async def`: +1, plus its own decision points (mccabe folds a closure into the
  graph of the function it is defined in); a nested `class` adds nothing itself, but each method
  in it is such a closure;
- every other statement is one node: +0, and mccabe does not look inside it. That includes `match`
  (none of its cases count, nor anything in them) and `try`/`except*` (3.11) entirely;
- expressions count nothing: `and`/`or`, `x if c else y`, comprehensions, lambdas.

mccabe reports a graph only for functions it meets outside any graph: module-level functions,
methods of module-level (or nested) classes, and functions inside a module-level `with`. A function
inside a module-level `if`/`for`/`while`/`try` is folded into that block's graph, and nested
functions into their enclosing function's. For those, `complexity` is what mccabe would report if
the function stood on its own (same rules), so every function gets a number.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TypedDict

from ._source import SourceText

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_LOOPS = (ast.If, ast.For, ast.AsyncFor, ast.While)
_BLOCKS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)


class FunctionInfo(TypedDict):
    name: str
    qualname: str
    lineno: int
    end_lineno: int
    col: int
    length: int
    params: int
    max_nesting: int
    complexity: int
    is_method: bool


def complexity(fn: FunctionNode) -> int:
    """The McCabe complexity of fn, as mccabe 0.7 (flake8 C901) computes it."""
    return 1 + _decisions(fn.body)


def _decisions(body: list[ast.stmt]) -> int:
    return sum(_stmt_decisions(stmt) for stmt in body)


def _stmt_decisions(stmt: ast.stmt) -> int:
    if isinstance(stmt, _LOOPS):
        return 1 + _decisions(stmt.body) + _decisions(stmt.orelse)
    if isinstance(stmt, ast.Try):
        handlers = sum(_decisions(handler.body) for handler in stmt.handlers)
        return 1 + len(stmt.handlers) + _decisions(stmt.body) + handlers + _decisions(stmt.orelse)
    if isinstance(stmt, ast.With | ast.AsyncWith | ast.ClassDef):
        return _decisions(stmt.body)
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return 1 + _decisions(stmt.body)
    return 0


def max_nesting(body: list[ast.stmt], depth: int = 0) -> int:
    """The deepest nesting of if/for/while/with/try/match blocks in body.

    `elif`/`else`/`except`/`finally`/`case` clauses sit at the level of their statement; nested
    functions and classes are measured on their own, so they add nothing here.
    """
    return max((_stmt_nesting(stmt, depth) for stmt in body), default=depth)


def _stmt_nesting(stmt: ast.stmt, depth: int) -> int:
    if not isinstance(stmt, _BLOCKS):
        return depth
    inner = depth + 1
    if isinstance(stmt, ast.If):
        orelse = stmt.orelse
        is_elif = (
            len(orelse) == 1
            and isinstance(orelse[0], ast.If)
            and (orelse[0].col_offset == stmt.col_offset and orelse[0].lineno > stmt.lineno)
        )
        rest = _stmt_nesting(orelse[0], depth) if is_elif else max_nesting(orelse, inner)
        return max(max_nesting(stmt.body, inner), rest)
    if isinstance(stmt, ast.Match):
        return max(max_nesting(case.body, inner) for case in stmt.cases)
    blocks = [stmt.body]
    if isinstance(stmt, ast.Try | ast.TryStar):
        blocks += [handler.body for handler in stmt.handlers] + [stmt.finalbody]
    if not isinstance(stmt, ast.With | ast.AsyncWith):
        blocks.append(stmt.orelse)
    return max(max_nesting(block, inner) for block in blocks)


def param_count(fn: FunctionNode, is_method: bool) -> int:
    """Named parameters (positional-only, positional, keyword-only).

    `*args` and `**kwargs` are not counted, nor a method's first parameter (self/cls) unless the
    method is a @staticmethod: what a caller has to supply is what makes a signature heavy.
    """
    args = fn.args
    count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
    if is_method and count and not _is_staticmethod(fn) and (args.posonlyargs or args.args):
        count -= 1
    return count


def _is_staticmethod(fn: FunctionNode) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)


def iter_functions(tree: ast.AST) -> Iterator[tuple[FunctionNode, str, bool]]:
    """Every function in tree, in source order, with its `__qualname__` and if it is a method."""
    yield from _walk(tree, "", False)


def _walk(node: ast.AST, prefix: str, in_class: bool) -> Iterator[tuple[FunctionNode, str, bool]]:
    for child in _statements_in(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = prefix + child.name
            yield child, qualname, in_class
            yield from _walk(child, qualname + ".<locals>.", False)
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, prefix + child.name + ".", True)
        else:
            # Blocks that are not scopes (if/try/with/match...) keep the prefix and the class.
            yield from _walk(child, prefix, in_class)


def _statements_in(node: ast.AST) -> Iterator[ast.AST]:
    """The statements (and except/case clauses) directly in node's blocks: a `def` can only be
    a statement, so there is no need to look into expressions."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            yield from block


def measure_functions(tree: ast.AST, src: SourceText) -> list[FunctionInfo]:
    """One `FunctionInfo` per function (methods and nested functions too), in source order."""
    found: list[FunctionInfo] = []
    for fn, qualname, is_method in iter_functions(tree):
        end = fn.end_lineno or fn.lineno
        found.append(
            FunctionInfo(
                name=fn.name,
                qualname=qualname,
                lineno=fn.lineno,
                end_lineno=end,
                col=src.char_col(fn.lineno, fn.col_offset) + 1,
                length=end - fn.lineno + 1,
                params=param_count(fn, is_method),
                max_nesting=max_nesting(fn.body),
                complexity=complexity(fn),
                is_method=is_method,
            )
        )
    return found

