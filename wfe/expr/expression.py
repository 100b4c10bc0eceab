"""Safe expressions: `when:` conditions and `"${ ... }"` strings.

An expression is compiled once, when the workflow is loaded, and evaluated with simpleeval (set up
in wfe.expr._ops) many times. Compilation checks the text and the WHOLE syntax tree, dead branches
included, against an allow-list:

- text: 1..1000 characters, no control characters (C0, DEL, C1), no non-ASCII character outside a
  string literal (the parser NFKC-normalises identifiers, so a mathematical bold x would silently
  read as `x`), one expression (no statements), at most 200 syntax nodes nested at most 32 deep;
- allowed: `and or not`, `if/else`, comparisons (`== != < <= > >= in not in is is not`), the
  operators `+ - * / // % **` and unary `- +`, names, str/int/float/bool/None literals (ints up to
  256 bits), subscripts and slices, list/tuple/dict literals of up to 100 items, `a.b` (only as the
  key lookup `a['b']` on a mapping), and calls of the functions in FUNCTION_NAMES by bare name,
  with positional arguments only;
- rejected: attribute access to anything else, method calls, names or keys starting with `_`,
  f-strings, comprehensions, lambda, `:=`, await, yield, `*`/`**` unpacking, set literals (sets are
  not JSON; use a list), bit operators and shifts (`& | ^ ~ << >>`), `%` with a string literal on
  its left, `**` with a literal exponent above 64.

At run time the names are data (a mapping of JSON values) that an expression cannot change: no
method is reachable. `+` and `*` refuse results over 10,000 characters or items (checked before
allocating), integer results over 256 bits are refused (for `*` before multiplying), `**` takes an
exponent of at most 64, `- / // % **` take numbers only (so no `str % ...` formatting), and
`round`/`int`/`sum` are bounded too, and `str()`/`sorted()` refuse results over 10,000 characters
or items (str() estimates a container's text before building it). An expression without names is
evaluated once at load within a budget of 100,000 characters and items built in all; past it, it
is left for the run (where the bounds above still hold). Every failure becomes
`wfe.errors.ExpressionError`.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import warnings
from collections.abc import Mapping
from typing import Any, Final

from wfe.errors import ExpressionError, did_you_mean
from wfe.expr import _ops as ops

MAX_LENGTH: Final = 1000
MAX_NODES: Final = 200
MAX_DEPTH: Final = 32
MAX_LITERAL_ITEMS: Final = 100

FUNCTION_NAMES: frozenset[str] = frozenset(ops.FUNCTIONS)
RESERVED_NAMES: frozenset[str] = frozenset({"visits", "step", "inputs"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORBIDDEN: Final = {
    **dict.fromkeys(
        ["ListComp", "SetComp", "DictComp", "GeneratorExp"], "comprehensions are not allowed"
    ),
    "JoinedStr": "f-strings are not allowed",
    "Lambda": "lambda is not allowed",
    "NamedExpr": "assignment expressions (:=) are not allowed",
    "Await": "await is not allowed",
    **dict.fromkeys(["Yield", "YieldFrom"], "yield is not allowed"),
    "Starred": "unpacking with '*' is not allowed",
    "Set": "set literals are not allowed (use a list)",
}
_SYMBOLS: Final = {
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.MatMult: "@",
    ast.Invert: "~",
}


class ExpressionRejected(Exception):
    """Compile-time rejection: `offset` is 0-based in the expression text, `code` WFE040/WFE041."""

    def __init__(self, message: str, offset: int = 0, code: str = "WFE040") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.code = code


class Expression:
    """A compiled expression: parsed and validated once, evaluated many times."""

    __slots__ = ("_body", "names", "source")

    def __init__(self, source: str, body: ast.expr, names: frozenset[str]) -> None:
        self.source = source
        self.names = names
        self._body = body

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    @property
    def tree(self) -> ast.expr:
        """The parsed expression, for checks at load (wfe.expr.static)."""
        return self._body

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        """The value of the expression with these names; ExpressionError on any failure."""
        evaluator = ops.PER_THREAD.evaluator
        evaluator.names = names
        try:
            return evaluator._eval(self._body)
        except ExpressionError:
            raise
        except Exception as exc:  # a user's expression failing is never a crash
            raise ExpressionError(ops.explain(exc)) from exc
        finally:
            evaluator.names = ops.NO_NAMES

    def evaluate_condition(self, names: Mapping[str, Any]) -> bool:
        """Like evaluate, but the value must be a bool: `x` for `x > 0` is an error, not truthy."""
        value = self.evaluate(names)
        if isinstance(value, bool):
            return value
        raise ExpressionError(f"condition must be true or false, got {ops.describe(value)}")


def compile_expression(text: str) -> Expression:
    """Check and parse an expression once; ExpressionRejected says what is wrong and where."""
    if not isinstance(text, str):
        raise ExpressionRejected(f"an expression must be a string, got {type(text).__name__}")
    _check_text(text)
    lead = len(text) - len(text.lstrip(" "))
    body = _parse(text[lead:], lead)
    validator = _Validator(text, lead)
    validator.run(body)
    expression = Expression(text, body, frozenset(validator.names))
    if not expression.names:
        # Without names the value never changes: `1/0` or `max([])` can fail now, not mid-run.
        try:
            evaluate_at_load(expression)
        except ExpressionError as exc:
            raise ExpressionRejected(f"expression always fails: {exc.message}", lead) from None
        except ops.OverBudget:
            pass  # too costly to try at load: the run evaluates it, within the run-time bounds
    return expression


def evaluate_at_load(expression: Expression, fresh_budget: bool = True) -> Any:
    """The value of an expression without names, within the load-time budget (ops.OverBudget
    past it); with `fresh_budget=False` it spends what an earlier call left."""
    evaluator = ops.PER_THREAD.at_load
    if fresh_budget:
        evaluator.left = ops.LOAD_BUDGET
    try:
        return evaluator._eval(expression.tree)
    except (ExpressionError, ops.OverBudget):
        raise
    except Exception as exc:  # as in Expression.evaluate
        raise ExpressionError(ops.explain(exc)) from exc


def _check_text(text: str) -> None:
    if not text.strip():
        raise ExpressionRejected("expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionRejected(f"expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    control = _CONTROL.search(text)
    if control:
        char = control.group()
        message = f"control character U+{ord(char):04X} in expression"
        raise ExpressionRejected(message, control.start())


def _parse(code: str, lead: int) -> ast.expr:
    """Parse `code` (the text after `lead` leading spaces); identifiers must be plain ASCII."""
    tokenized = _check_identifiers(code, lead)
    try:
        with warnings.catch_warnings():
            # An invalid escape such as '\d' warns; under -W error it would become a syntax error.
            warnings.simplefilter("ignore")
            tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        offset = min(exc.offset - 1, len(code)) if exc.offset else len(code)
        raise ExpressionRejected(f"expression syntax error: {exc.msg}", lead + offset) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionRejected("expression is nested too deeply") from None
    if not tokenized and not code.isascii():
        # Without tokens we cannot tell a string literal from a normalised identifier.
        raise ExpressionRejected("non-ASCII characters are only allowed inside string literals")
    return tree.body


def _check_identifiers(code: str, lead: int) -> bool:
    """Reject non-ASCII outside string literals BEFORE parsing: the parser applies NFKC."""
    if code.isascii():
        return True  # nothing for NFKC to change, and tokenizing is the slow part of compiling
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type != tokenize.STRING and not token.string.isascii():
                bad = next(ch for ch in token.string if not ch.isascii())
                offset = lead + token.start[1] + token.string.index(bad)
                raise ExpressionRejected(
                    f"non-ASCII character {bad!r} (U+{ord(bad):04X}) outside a string literal",
                    offset,
                )
    except (tokenize.TokenError, SyntaxError):
        return False  # ast.parse reports the syntax error, or _parse falls back to a plain check
    return True


class _Validator:
    """Walks the whole tree (iteratively, so depth is checked before recursion could fail)."""

    def __init__(self, text: str, lead: int) -> None:
        self.text = text
        self.lead = lead
        self.names: set[str] = set()

    def run(self, root: ast.expr) -> None:
        stack: list[tuple[ast.AST, int]] = [(root, 1)]
        count = 0
        while stack:
            node, depth = stack.pop()
            count += 1
            if count > MAX_NODES:
                raise self.reject(node, f"expression has more than {MAX_NODES} parts")
            if depth > MAX_DEPTH:
                raise self.reject(node, f"expression is nested more than {MAX_DEPTH} levels deep")
            check = getattr(self, "check_" + type(node).__name__, None)
            if check is None:
                name = type(node).__name__
                raise self.reject(node, _FORBIDDEN.get(name, f"{name} is not allowed"))
            children: list[ast.AST] = check(node)
            stack.extend((child, depth + 1) for child in reversed(children))

    def reject(self, node: ast.AST, message: str, code: str = "WFE040") -> ExpressionRejected:
        return ExpressionRejected(message, self.offset(getattr(node, "col_offset", 0)), code)

    def offset(self, col: int) -> int:
        """ast columns count UTF-8 bytes; ExpressionRejected counts characters."""
        code = self.text[self.lead :]
        chars = col if code.isascii() else len(code.encode()[:col].decode("utf-8", "ignore"))
        return self.lead + chars

    def check_Name(self, node: ast.Name) -> list[ast.AST]:
        if node.id.startswith("_"):
            raise self.reject(node, f"names starting with '_' are not allowed ('{node.id}')")
        self.names.add(node.id)
        return []

    def check_Constant(self, node: ast.Constant) -> list[ast.AST]:
        value = node.value
        if value is not None and type(value) not in (str, int, float, bool):
            raise self.reject(node, f"{type(value).__name__} literals are not allowed")
        if type(value) is int and value.bit_length() > ops.MAX_INT_BITS:
            raise self.reject(node, f"integer literal over {ops.MAX_INT_BITS} bits")
        return []

    def check_Attribute(self, node: ast.Attribute) -> list[ast.AST]:
        if node.attr.startswith("_"):
            raise ExpressionRejected(
                "attribute access is only allowed as a key lookup "
                f"('.{node.attr}' starts with '_')",
                self.offset(_attr_col(node)),
            )
        return [node.value]

    def check_BinOp(self, node: ast.BinOp) -> list[ast.AST]:
        op = type(node.op)
        if op not in ops.BINARY:
            raise self.reject(node, f"operator '{_SYMBOLS.get(op, op.__name__)}' is not allowed")
        if op is ast.Mod and isinstance(node.left, ast.Constant) and type(node.left.value) is str:
            raise self.reject(node, "'%' formatting of strings is not allowed")
        if op is ast.Pow:
            self._check_power(node)
        return [node.left, node.right]

    def _check_power(self, node: ast.BinOp) -> None:
        exponent = _literal_number(node.right)
        if exponent is None:
            return
        base = _literal_number(node.left)
        try:
            ops.check_power(1 if base is None else base, exponent)
        except ExpressionError as exc:
            raise self.reject(node.right, exc.message) from None

    def check_UnaryOp(self, node: ast.UnaryOp) -> list[ast.AST]:
        if type(node.op) not in ops.UNARY:
            raise self.reject(node, f"operator '{_SYMBOLS.get(type(node.op), '?')}' is not allowed")
        return [node.operand]

    def check_BoolOp(self, node: ast.BoolOp) -> list[ast.AST]:
        return list(node.values)

    def check_Compare(self, node: ast.Compare) -> list[ast.AST]:
        return [node.left, *node.comparators]

    def check_IfExp(self, node: ast.IfExp) -> list[ast.AST]:
        return [node.test, node.body, node.orelse]

    def check_Subscript(self, node: ast.Subscript) -> list[ast.AST]:
        return [node.value, node.slice]

    def check_Slice(self, node: ast.Slice) -> list[ast.AST]:
        return [part for part in (node.lower, node.upper, node.step) if part is not None]

    def check_List(self, node: ast.List | ast.Tuple) -> list[ast.AST]:
        if len(node.elts) > MAX_LITERAL_ITEMS:
            raise self.reject(node, f"literal with more than {MAX_LITERAL_ITEMS} items")
        return list(node.elts)

    check_Tuple = check_List

    def check_Dict(self, node: ast.Dict) -> list[ast.AST]:
        if len(node.keys) > MAX_LITERAL_ITEMS:
            raise self.reject(node, f"literal with more than {MAX_LITERAL_ITEMS} items")
        if any(key is None for key in node.keys):
            raise self.reject(node, "unpacking with '**' is not allowed")
        return [part for pair in zip(node.keys, node.values, strict=True) for part in pair if part]

    def check_Call(self, node: ast.Call) -> list[ast.AST]:
        func = node.func
        if isinstance(func, ast.Attribute):
            message = f"method calls are not allowed ('.{func.attr}(...)')"
            raise ExpressionRejected(message, self.offset(_attr_col(func)))
        if not isinstance(func, ast.Name):
            raise self.reject(func, "only the built-in functions can be called")
        if func.id.startswith("_"):
            raise self.reject(func, f"names starting with '_' are not allowed ('{func.id}')")
        if func.id not in FUNCTION_NAMES:
            hint = did_you_mean(func.id, FUNCTION_NAMES)
            raise self.reject(func, f"unknown function '{func.id}'{hint}", "WFE041")
        if node.keywords:
            raise self.reject(node.keywords[0].value, "keyword arguments are not allowed")
        return list(node.args)


def _attr_col(node: ast.Attribute) -> int:
    return (node.end_col_offset or 0) - len(node.attr)


def _literal_number(node: ast.AST) -> int | float | None:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    value: Any = getattr(node, "value", None)
    if isinstance(node, ast.Constant) and type(value) in (int, float):
        return sign * value  # type: ignore[no-any-return]
    return None


def printable(text: str, limit: int = 80) -> str:
    """An expression as it can be printed on one line: escapes visible, long ones shortened."""
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."
