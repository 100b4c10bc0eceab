"""`"${ ... }"` strings in `with:`: text with embedded expressions, compiled once at load.

A string that is exactly one `"${ expr }"` stands for the expression's value (any JSON type);
otherwise each part is filled in as text, at most MAX_TEXT characters in all (the operators'
cap), and a tool call's templates build at most MAX_CALL_TEXT in all. `$${` stands for a literal
`${`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from wfe.errors import ExpressionError
from wfe.expr import _ops as ops
from wfe.expr.expression import Expression, ExpressionRejected, compile_expression, evaluate_at_load

MAX_TEXT = ops.MAX_SIZE
#: "${ }" parts in one string: each is compiled at load, so many would make loading slow.
MAX_PARTS = 100
#: What the templates of one tool call may build in all (a tool taking **kwargs has no limit
#: on how many there are).
MAX_CALL_TEXT = 10 * MAX_TEXT


class Template:
    """A `with:` string value containing "${ ... }" parts; `$${` stands for a literal `${`."""

    __slots__ = ("_parts", "_whole", "expressions", "source")

    def __init__(self, source: str, parts: tuple[str | Expression, ...]) -> None:
        self.source = source
        self._parts = parts
        self.expressions = tuple(part for part in parts if isinstance(part, Expression))
        texts = [part for part in parts if isinstance(part, str)]
        whole = len(self.expressions) == 1 and all(not text.strip() for text in texts)
        self._whole = self.expressions[0] if whole else None

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    @property
    def builds_text(self) -> bool:
        """Whether render builds new text (a lone "${ expr }" passes its value through)."""
        return self._whole is None

    def render(self, names: Mapping[str, Any]) -> Any:
        """A lone "${ expr }" gives its raw value; otherwise the text with each part filled in,
        at most MAX_TEXT characters (checked before each piece is added, so no more is built)."""
        if self._whole is not None:
            return self._whole.evaluate(names)
        return self._join(lambda expression: expression.evaluate(names))

    def _join(self, value_of: Callable[[Expression], Any]) -> str:
        pieces = []
        size = 0
        for part in self._parts:
            piece = part if isinstance(part, str) else _to_text(value_of(part))
            size += len(piece)
            if size > MAX_TEXT:
                raise ExpressionError(f"the text would be over {MAX_TEXT} characters")
            pieces.append(piece)
        return "".join(pieces)

    def check_at_load(self) -> None:
        """A template without names builds the same text every time: build it now, within the
        load-time budget, so that text over the cap is an error where it is written."""
        if self._whole is not None or any(part.names for part in self.expressions):
            return
        with contextlib.suppress(ops.OverBudget):
            ops.PER_THREAD.at_load.left = ops.LOAD_BUDGET
            self._join(lambda expression: evaluate_at_load(expression, fresh_budget=False))


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if ops.text_size_at_least(value, MAX_TEXT) > MAX_TEXT:
        raise ExpressionError(f"the text would be over {MAX_TEXT} characters")
    try:
        if isinstance(value, dict | list | tuple):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return str(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ExpressionError(f"cannot put {ops.describe(value)} into text: {exc}") from exc


def text_of(value: Any) -> str:
    """A value as a template puts it into text (`true`, JSON for lists and mappings)."""
    return _to_text(value)


def has_template(text: str) -> bool:
    """Whether a string holds a "${" and so must go through compile_template."""
    return "${" in text


def compile_template(text: str) -> Template | None:
    """Compile every "${ ... }" of a string; None when there is none."""
    if "${" not in text:
        return None
    parts: list[str | Expression] = []
    literal: list[str] = []
    pos = 0
    while (start := text.find("${", pos)) >= 0:
        if start > 0 and text[start - 1] == "$":
            literal.append(text[pos : start - 1] + "${")
            pos = start + 2
            continue
        literal.append(text[pos:start])
        end = _closing_brace(text, start + 2)
        if end < 0:
            raise ExpressionRejected("unclosed '${' in template (no matching '}')", start)
        parts.append("".join(literal))
        literal = []
        if len(parts) > 2 * MAX_PARTS:
            raise ExpressionRejected(f"template with more than {MAX_PARTS} '${{ }}' parts", start)
        parts.append(_compile_part(text, start + 2, end))
        pos = end + 1
    literal.append(text[pos:])
    parts.append("".join(literal))
    template = Template(text, tuple(part for part in parts if not isinstance(part, str) or part))
    try:
        template.check_at_load()
    except ExpressionError as exc:
        raise ExpressionRejected(f"template always fails: {exc.message}") from None
    return template


def _closing_brace(text: str, pos: int) -> int:
    """Index of the `}` closing a "${" whose body starts at pos; skips nested braces, strings."""
    depth = 0
    quote = ""
    index = pos
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return -1


def _compile_part(text: str, begin: int, end: int) -> Expression:
    inner = text[begin:end]
    lead = len(inner) - len(inner.lstrip(" "))
    try:
        return compile_expression(inner.strip(" "))
    except ExpressionRejected as exc:
        raise ExpressionRejected(exc.message, begin + lead + exc.offset, exc.code) from None
