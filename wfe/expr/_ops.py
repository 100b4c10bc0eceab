"""The run-time half of wfe.expr.expression: bounded operators and functions, and error wording.

Every size check happens BEFORE the value is built: a single big-integer or string operation runs in
C and cannot be interrupted, so a limit checked afterwards comes too late.
"""

from __future__ import annotations

import ast
import math
import operator
import threading
from collections.abc import Callable, Iterable, Mapping, Sized
from typing import Any, Final

import simpleeval  # type: ignore[import-untyped]

from wfe.errors import ExpressionError

MAX_SIZE: Final = 10_000  # characters of a string, items of a list or tuple
MAX_INT_BITS: Final = 256
MAX_EXPONENT: Final = 64
MAX_ROUND_DIGITS: Final = 100
MAX_INT_TEXT: Final = 100  # characters int() parses; 2**256 has 78 digits
#: What an expression without names may build in all when it is evaluated at load.
LOAD_BUDGET: Final = 100_000

# simpleeval's limits are process-global; ours are stricter and enforced by wfe.expr._ops, but the
# library's own checks (literal lengths, the unused default operators) should agree with them.
simpleeval.MAX_STRING_LENGTH = MAX_SIZE
simpleeval.MAX_COMPREHENSION_LENGTH = MAX_SIZE
simpleeval.MAX_POWER = MAX_EXPONENT
simpleeval.MAX_SHIFT = MAX_INT_BITS

_NUMBER: Final = (int, float)  # bool is an int
_SEQUENCE: Final = (str, list, tuple)


def short(value: Any) -> str:
    """A repr cut to 60 characters, safe for any value."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # a huge int or deeply nested data
        return "(too large to show)"
    return text if len(text) <= 60 else text[:57] + "..."


def describe(value: Any) -> str:
    """`int 5`, `str 'bob'`, `None`: a type and a short repr."""
    return "None" if value is None else f"{type(value).__name__} {short(value)}"


def explain(exc: BaseException) -> str:
    """One line for an exception raised while evaluating."""
    if isinstance(exc, KeyError) and exc.args:
        return f"key {short(exc.args[0])} is not set"
    if isinstance(exc, RecursionError):
        return "the data is nested too deeply for this expression"
    if isinstance(exc, MemoryError):
        return "out of memory while evaluating the expression"
    return str(exc) or type(exc).__name__


def _numbers(symbol: str, a: Any, b: Any) -> None:
    if not (isinstance(a, _NUMBER) and isinstance(b, _NUMBER)):
        raise ExpressionError(
            f"'{symbol}' needs numbers, got {type(a).__name__} and {type(b).__name__}"
        )


def _fit(value: Any) -> Any:
    if type(value) is int and value.bit_length() > MAX_INT_BITS:
        raise ExpressionError(f"integer result over {MAX_INT_BITS} bits")
    return value


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
        return _fit(a + b)
    if isinstance(a, _SEQUENCE) and isinstance(b, _SEQUENCE):
        if len(a) + len(b) > MAX_SIZE:
            raise ExpressionError(f"'+' result over {MAX_SIZE} characters or items")
        return operator.add(a, b)
    raise ExpressionError(
        f"'+' needs two numbers, strings, lists or tuples, got {type(a).__name__} "
        f"and {type(b).__name__}"
    )


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
        if type(a) is int and type(b) is int and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise ExpressionError(f"integer result over {MAX_INT_BITS} bits")
        return a * b
    sequence, count = (a, b) if isinstance(a, _SEQUENCE) else (b, a)
    if isinstance(sequence, _SEQUENCE) and isinstance(count, int):
        if count > 0 and _repeat_size(sequence, count) > MAX_SIZE:
            raise ExpressionError(f"'*' result over {MAX_SIZE} characters or items")
        return sequence * count
    raise ExpressionError(
        f"'*' needs numbers, or a string, list or tuple and an int, got {type(a).__name__} "
        f"and {type(b).__name__}"
    )


def _repeat_size(sequence: str | list[Any] | tuple[Any, ...], count: int) -> int:
    """Characters or items of `sequence * count`, counting the characters of string items."""
    if isinstance(sequence, str) or len(sequence) * count > MAX_SIZE:
        return len(sequence) * count
    size = len(sequence)
    for item in sequence:
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, list | tuple | dict):
            # Copies of one nested list multiply what str(), sorted() or == must walk.
            raise ExpressionError("'*' repeats only lists of numbers, strings, booleans and None")
    return size * count


def _sub(a: Any, b: Any) -> Any:
    _numbers("-", a, b)
    return _fit(a - b)


def _truediv(a: Any, b: Any) -> Any:
    _numbers("/", a, b)
    return a / b


def _floordiv(a: Any, b: Any) -> Any:
    _numbers("//", a, b)
    return a // b


def _mod(a: Any, b: Any) -> Any:
    _numbers("%", a, b)
    return a % b


def check_power(base: Any, exponent: Any) -> None:
    """Refuse `base ** exponent` before computing it; also used on literals at compile time."""
    _numbers("**", base, exponent)
    if not abs(exponent) <= MAX_EXPONENT:  # `not <=` also catches nan
        raise ExpressionError(f"exponent {short(exponent)} is above the '**' limit of 64")
    int_power = type(base) is int and type(exponent) is int and exponent > 0 and abs(base) > 1
    if int_power and exponent * math.log2(abs(base)) >= MAX_INT_BITS:
        raise ExpressionError(f"integer result over {MAX_INT_BITS} bits")


def _pow(a: Any, b: Any) -> Any:
    check_power(a, b)
    result = a**b
    if isinstance(result, complex):
        raise ExpressionError(
            "'**' gave a complex number (a negative number to a fractional power)"
        )
    return result


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is not None and not (isinstance(ndigits, int) and abs(ndigits) <= MAX_ROUND_DIGITS):
        raise ExpressionError(f"round() digits must be an int within ±{MAX_ROUND_DIGITS}")
    return round(number, ndigits)


def _int(value: Any = 0, *base: Any) -> int:
    if isinstance(value, str) and len(value) > MAX_INT_TEXT:
        raise ExpressionError(f"int() of a string longer than {MAX_INT_TEXT} characters")
    result: int = _fit(int(value, *base))
    return result


def _sum(values: Iterable[Any], start: Any = 0) -> Any:
    items = [start, *values]
    for item in items:
        if not isinstance(item, _NUMBER):
            raise ExpressionError(f"sum() needs numbers, got {describe(item)}")
    return _fit(sum(items))


def text_size_at_least(value: Any, limit: int) -> int:
    """A lower bound of the length of `str(value)` (or its JSON text), counted only up to just
    past `limit`: a cheap look before a big container is turned into text."""
    size = 0
    stack = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2  # its quotes, inside a container
        elif isinstance(item, dict):
            size += 2 + 4 * len(item)  # braces, and ': ' and ', ' per pair
            if size <= limit:  # else stop without copying a big container's items
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, list | tuple):
            size += 2 + 2 * len(item)
            if size <= limit:
                stack.extend(item)
        else:
            size += 1
    return size


def _str(value: Any = "") -> str:
    if type(value) is str:
        return value  # the same text, nothing built
    if text_size_at_least(value, MAX_SIZE) > MAX_SIZE:
        raise ExpressionError(f"str() result over {MAX_SIZE} characters")
    text = str(value)  # escapes may make it longer than the estimate, but by a bounded factor
    if len(text) > MAX_SIZE:
        raise ExpressionError(f"str() result over {MAX_SIZE} characters")
    return text


def _sorted(values: Iterable[Any]) -> list[Any]:
    size = len(values) if isinstance(values, Sized) else None
    if size is not None and size > MAX_SIZE:
        raise ExpressionError(f"sorted() of more than {MAX_SIZE} items")
    items = list(values)
    if len(items) > MAX_SIZE:
        raise ExpressionError(f"sorted() of more than {MAX_SIZE} items")
    items.sort()
    return items


FUNCTIONS: Final[dict[str, Callable[..., Any]]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "int": _int,
    "float": float,
    "str": _str,
    "bool": bool,
    "any": any,
    "all": all,
    "sum": _sum,
    "sorted": _sorted,
}

BINARY: Final[dict[type[ast.AST], Callable[..., Any]]] = {
    ast.Add: _add,
    ast.Sub: _sub,
    ast.Mult: _mul,
    ast.Div: _truediv,
    ast.FloorDiv: _floordiv,
    ast.Mod: _mod,
    ast.Pow: _pow,
}

UNARY: Final[dict[type[ast.AST], Callable[..., Any]]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}

COMPARE: Final[dict[type[ast.AST], Callable[..., Any]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

OPERATORS: Final[dict[type[ast.AST], Callable[..., Any]]] = {**BINARY, **UNARY, **COMPARE}


class Evaluator(simpleeval.SimpleEval):  # type: ignore[misc]
    """simpleeval restricted to the validated node types, with wfe's operators and functions."""

    def __init__(self) -> None:
        super().__init__(operators=dict(OPERATORS), functions=dict(FUNCTIONS), names={})
        self.ATTR_INDEX_FALLBACK = False
        self.nodes = {
            ast.Name: self._eval_name,
            ast.Attribute: self._eval_attribute,
            ast.Constant: self._eval_constant,
            ast.UnaryOp: self._eval_unaryop,
            ast.BinOp: self._eval_binop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
            ast.IfExp: self._eval_ifexp,
            ast.Call: self._eval_call,
            ast.Subscript: self._eval_subscript,
            ast.Slice: self._eval_slice,
            ast.List: self._eval_list,
            ast.Tuple: self._eval_tuple,
            ast.Dict: self._eval_dict,
        }

    def _eval(self, node: ast.AST) -> Any:
        # The library re-walks every intermediate result looking for modules and functions, at a
        # cost proportional to the size of the data (265 ms per reference to a 1M-key dict). Here
        # the tree is allow-listed and names are JSON data, so there is nothing for it to find.
        return self.nodes[type(node)](node)

    def _eval_compare(self, node: ast.Compare) -> Any:
        if len(node.ops) == 1:  # the usual `a < b`, without the library's loop over a chain
            compare = self.operators[type(node.ops[0])]
            return compare(self._eval(node.left), self._eval(node.comparators[0]))
        return super()._eval_compare(node)

    @staticmethod
    def _eval_constant(node: ast.Constant) -> Any:
        return node.value  # literals were bounded at compile time

    def _eval_name(self, node: ast.Name) -> Any:
        try:
            return self.names[node.id]
        except KeyError:
            raise ExpressionError(f"name '{node.id}' is not set") from None

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        value = self._eval(node.value)
        if type(value) is not dict and not isinstance(value, Mapping):
            raise ExpressionError(
                f"'.{node.attr}' is a key lookup and needs a mapping, got {describe(value)}"
            )
        try:
            return value[node.attr]
        except KeyError:
            raise ExpressionError(f"{ast.unparse(node.value)} has no key '{node.attr}'") from None

    def _eval_call(self, node: ast.Call) -> Any:
        # Validated: a bare allowed name with positional arguments, so the library's checks for
        # methods, forbidden functions and keywords have nothing left to find (and cost ~1 µs).
        function = self.functions[node.func.id]  # type: ignore[attr-defined]
        return function(*map(self._eval, node.args))

    def _eval_list(self, node: ast.List) -> list[Any]:
        return list(map(self._eval, node.elts))

    def _eval_tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(map(self._eval, node.elts))

    def _eval_dict(self, node: ast.Dict) -> dict[Any, Any]:
        keys: list[ast.expr] = node.keys  # type: ignore[assignment]  # no None: '**' is rejected
        return dict(zip(map(self._eval, keys), map(self._eval, node.values), strict=True))


class OverBudget(Exception):
    """A load-time evaluation built more than LOAD_BUDGET characters and items in all."""


class LoadEvaluator(Evaluator):
    """The evaluator of expressions without names at load: it counts what every part builds
    (characters, items, 1 for a scalar) and stops past a budget, so that checking a file never
    costs more than a fixed amount, whatever the expression (the run-time one counts nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.left = LOAD_BUDGET

    def _eval(self, node: ast.AST) -> Any:
        value = self.nodes[type(node)](node)
        self.left -= len(value) + 1 if isinstance(value, str | list | tuple | dict) else 1
        if self.left < 0:
            raise OverBudget
        return value


class _PerThread(threading.local):
    # One evaluator per thread: `names` is set per call, so sharing across threads would race.
    def __init__(self) -> None:
        self.evaluator = Evaluator()
        self.at_load = LoadEvaluator()


PER_THREAD = _PerThread()
NO_NAMES: Mapping[str, Any] = {}
