"""Smells found in the syntax tree and the comments (the name-based ones are in `_names`)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import PurePosixPath

from ._issues import Issue, issue_at, make_issue
from ._metrics import FunctionInfo, FunctionNode, iter_functions, own_nodes
from ._source import SourceText

_MUTABLE_CALLS = frozenset(
    {"list", "dict", "set", "bytearray", "defaultdict", "OrderedDict", "Counter", "deque"}
)
_CATCH_ALL = frozenset({"Exception", "BaseException"})
_TODO = re.compile(r"\b(?:(?i:todo|fixme)|XXX|HACK)\b")
_TEST_PARTS = frozenset({"tests", "test", "testing"})


def is_test_path(path: str) -> bool:
    """Whether path is test code (where `assert` is the point)."""
    pure = PurePosixPath(path)
    name = pure.name
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or bool(_TEST_PARTS & set(pure.parts[:-1]))
    )


def syntax_error_issue(error: SyntaxError) -> Issue:
    return make_issue(
        error.lineno or 1,
        error.offset or 1,
        "CR000",
        f"syntax error: {error.msg}",
        error=error.msg,
    )


def tree_smells(tree: ast.Module, src: SourceText, path: str) -> list[Issue]:
    """Mutable defaults, bare/silent excepts, `== None`, print calls and validating asserts."""
    issues: list[Issue] = []
    in_main_guard = _main_guard_lines(tree)
    assert_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            issues += mutable_defaults(node, src)
        elif isinstance(node, ast.ExceptHandler):
            issues += _handler_smells(node, src)
        elif isinstance(node, ast.Compare):
            issues += [issue for issue, _ in none_comparisons(node, src)]
        elif _is_print(node) and node.lineno not in in_main_guard:  # type: ignore[attr-defined]
            issues.append(
                issue_at(src, node, "CR004", "print call; use logging or return the text")
            )
        elif isinstance(node, ast.Assert):
            assert_lines.add(node.lineno)
    if assert_lines and not is_test_path(path):
        for fn, qualname, _ in iter_functions(tree):
            end = fn.end_lineno or fn.lineno
            if any(fn.lineno <= line <= end for line in assert_lines):
                issues += _validating_asserts(fn, qualname, src)
    return issues


def defaults_of(args: ast.arguments) -> list[tuple[ast.arg, ast.expr]]:
    """(parameter, default) for every parameter that has a default."""
    positional = [*args.posonlyargs, *args.args]
    with_default = positional[len(positional) - len(args.defaults) :]
    pairs = list(zip(with_default, args.defaults, strict=True))
    pairs += [
        (arg, default)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
        if default is not None
    ]
    return pairs


def is_mutable(node: ast.expr) -> bool:
    """A list/dict/set display or comprehension, or a call that builds a fresh container."""
    if isinstance(node, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return name in _MUTABLE_CALLS
    return False


def mutable_defaults(fn: FunctionNode | ast.Lambda, src: SourceText) -> list[Issue]:
    issues = []
    for arg, default in defaults_of(fn.args):
        if is_mutable(default):
            text = " ".join(src.segment(default).split())
            message = f"mutable default `{arg.arg}={text}` is shared between calls"
            issues.append(issue_at(src, default, "CR001", message, name=arg.arg, default=text))
    return issues


def _handler_smells(handler: ast.ExceptHandler, src: SourceText) -> list[Issue]:
    issues = []
    if handler.type is None:
        message = "bare `except:` also catches KeyboardInterrupt and SystemExit"
        issues.append(issue_at(src, handler, "CR002", message))
    if _catches_everything(handler) and all(_is_silent(stmt) for stmt in handler.body):
        clause = "except:" if handler.type is None else f"except {src.segment(handler.type)}:"
        message = f"`{clause}` silently swallows every error"
        issues.append(issue_at(src, handler, "CR010", message, clause=clause))
    return issues


def _catches_everything(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    return kind is None or (isinstance(kind, ast.Name) and kind.id in _CATCH_ALL)


def _is_silent(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass | ast.Continue):
        return True
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and (stmt.value.value is Ellipsis)
    )


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def none_comparisons(node: ast.Compare, src: SourceText) -> Iterator[tuple[Issue, int]]:
    """(issue, operator index) for each `== None` / `!= None` in a comparison chain."""
    operands = [node.left, *node.comparators]
    for index, op in enumerate(node.ops):
        if not isinstance(op, ast.Eq | ast.NotEq):
            continue
        left, right = operands[index], operands[index + 1]
        if not (_is_none(left) or _is_none(right)):
            continue
        symbol, fixed = ("==", "is") if isinstance(op, ast.Eq) else ("!=", "is not")
        a, b = (" ".join(src.segment(side).split()) for side in (left, right))
        old, new = f"{a} {symbol} {b}", f"{a} {fixed} {b}"
        message = f"comparison to None with `{symbol}`: `{old}`"
        none = right if _is_none(right) else left
        yield issue_at(src, none, "CR003", message, old=old, new=new), index


def _is_print(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    )


def _main_guard_lines(tree: ast.Module) -> set[int]:
    """The lines of module-level `if __name__ == "__main__":` blocks, where print is the point."""
    lines: set[int] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare):
            sides = [stmt.test.left, *stmt.test.comparators]
            names = {s.id for s in sides if isinstance(s, ast.Name)}
            texts = {s.value for s in sides if isinstance(s, ast.Constant)}
            if names == {"__name__"} and texts == {"__main__"}:
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _validating_asserts(fn: FunctionNode, qualname: str, src: SourceText) -> list[Issue]:
    """Asserts on a function's own parameters: input validation that `python -O` removes."""
    params = {a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)}
    params |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    params -= {"self", "cls"}
    issues = []
    for node in own_nodes(fn):
        if not isinstance(node, ast.Assert):
            continue
        names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
        if names & params:
            test = " ".join(src.segment(node.test).split())
            message = f"`assert {test}` validates input in `{qualname}` but vanishes under -O"
            text = src.segment(node.msg) if node.msg is not None else '"..."'
            issues.append(issue_at(src, node, "CR009", message, test=test, msg=text))
    return issues


def comment_smells(text: str) -> list[Issue]:
    """TODO / FIXME / XXX / HACK comments, found with `tokenize` (so never inside strings)."""
    issues: list[Issue] = []
    if not _TODO.search(text):
        return issues  # tokenizing is slow; most files need none
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    try:
        for token in tokens:
            if token.type != tokenize.COMMENT:
                continue
            match = _TODO.search(token.string)
            if match:
                comment = token.string.lstrip("#").strip()[:80]
                marker = match.group().upper()
                line, col = token.start
                message = f"{marker} comment: {comment}"
                issues.append(
                    make_issue(line, col + 1, "CR005", message, marker=marker, comment=comment)
                )
    except (tokenize.TokenError, SyntaxError):
        pass  # an untokenizable file is reported as a syntax error already
    return issues


def function_smells(functions: list[FunctionInfo], limits: dict[str, int]) -> list[Issue]:
    """Functions over the complexity, length, parameter and nesting limits."""
    checks = [
        ("CR011", "complexity", "max_complexity", "is too complex ({value} > {limit})"),
        ("CR012", "length", "max_length", "is too long ({value} lines > {limit})"),
        ("CR013", "params", "max_params", "takes too many parameters ({value} > {limit})"),
        ("CR014", "max_nesting", "max_nesting", "nests blocks too deeply ({value} > {limit})"),
    ]
    issues = []
    for fn in functions:
        for code, key, limit_key, template in checks:
            value, limit = fn[key], limits[limit_key]  # type: ignore[literal-required]
            if value > limit:
                message = f"`{fn['qualname']}` " + template.format(value=value, limit=limit)
                issues.append(
                    make_issue(
                        fn["lineno"],
                        fn["col"],
                        code,
                        message,
                        qualname=fn["qualname"],
                        value=value,
                        limit=limit,
                    )
                )
    return issues
