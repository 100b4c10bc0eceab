"""Safe mechanical fixes, made on source text (never on files).

- `x == None` -> `x is None`, `x != None` -> `x is not None` (CR003);
- `except:` -> `except Exception:` (CR002);
- `def f(items=[])` -> `def f(items=None)` plus `if items is None: items = []` as the first
  statement after the docstring; an annotation gains `| None` (CR001).

Fixes are applied one at a time from the bottom of the file up, so that the positions of the
fixes still to come stay valid; the text is re-parsed after each one and a fix that breaks
parsing is undone.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from ._metrics import FunctionNode
from ._smells import defaults_of, is_mutable, none_comparisons
from ._source import SourceText, parse, split_lines

# Between two operands: closing/opening brackets, whitespace, comments and the operator.
_OPERATOR = re.compile(r"#[^\r\n]*|==|!=")


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the source between two character offsets with `text`."""

    start: int  # character offsets in the source
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """One mechanical fix: the issue it fixes, where, and the edits that make it."""

    code: str
    line: int  # where the issue is reported (1-based line and character column)
    col: int
    edits: tuple[Edit, ...]
    description: str

    @property
    def start(self) -> int:
        return min(edit.start for edit in self.edits)


def find_fixes(tree: ast.AST, src: SourceText) -> list[Fix]:
    """Every fix that can be made mechanically in the parsed source."""
    fixes: list[Fix] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            fixes += _none_comparison_fixes(node, src)
        elif isinstance(node, ast.ExceptHandler) and node.type is None:
            fixes += _bare_except_fix(node, src)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            fixes += _mutable_default_fixes(node, src)
    return fixes


def _none_comparison_fixes(node: ast.Compare, src: SourceText) -> Iterator[Fix]:
    operands = [node.left, *node.comparators]
    for issue, index in none_comparisons(node, src):
        none = operands[index + 1] if _is_none_node(operands[index + 1]) else operands[index]
        if src.segment(none) != "None":
            continue  # positions we cannot trust (never seen, but the edit must be exact)
        start = src.span(operands[index])[1]
        gap = src.text[start : src.span(operands[index + 1])[0]]
        match = next((m for m in _OPERATOR.finditer(gap) if m.group()[0] != "#"), None)
        if match is None:
            continue
        op_start, op_end = start + match.start(), start + match.end()
        word = "is" if match.group() == "==" else "is not"
        before = "" if src.text[op_start - 1 : op_start].isspace() else " "
        after = "" if src.text[op_end : op_end + 1].isspace() else " "
        detail = issue.get("detail", {})
        description = f"line {issue['line']}: `{detail.get('old')}` -> `{detail.get('new')}`"
        edit = Edit(op_start, op_end, before + word + after)
        yield Fix("CR003", issue["line"], issue["col"], (edit,), description)


def _is_none_node(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _bare_except_fix(handler: ast.ExceptHandler, src: SourceText) -> Iterator[Fix]:
    start = src.offset(handler.lineno, handler.col_offset)
    if src.text.startswith("except", start):
        edit = Edit(start + 6, start + 6, " Exception")
        col = src.char_col(handler.lineno, handler.col_offset) + 1
        description = f"line {handler.lineno}: `except:` -> `except Exception:`"
        yield Fix("CR002", handler.lineno, col, (edit,), description)


def _mutable_default_fixes(fn: FunctionNode, src: SourceText) -> Iterator[Fix]:
    position = _guard_position(fn, src)
    if position is None:
        return  # the body shares the `def` line, or no clean place for the guard
    insert_at, indent, prefix = position
    def_indent = src.indent(fn.lineno)
    unit = indent[len(def_indent) :] if indent.startswith(def_indent) else ""
    unit = unit or "    "
    newline = src.newline()
    for arg, default in defaults_of(fn.args):
        if not is_mutable(default):
            continue
        text = src.segment(default)
        name = arg.arg
        edits = [Edit(*src.span(default), "None")]
        if arg.annotation is not None and not _allows_none(arg.annotation):
            end = src.span(arg.annotation)[1]
            edits.append(Edit(end, end, " | None"))
        guard = f"{indent}if {name} is None:{newline}{indent}{unit}{name} = {text}{newline}"
        edits.append(Edit(insert_at, insert_at, prefix + guard))
        line, col = default.lineno, src.char_col(default.lineno, default.col_offset) + 1
        shown = " ".join(text.split())
        description = f"line {line}: `{name}={shown}` -> `{name}=None` and a guard in the body"
        yield Fix("CR001", line, col, tuple(edits), description)


def _allows_none(annotation: ast.expr) -> bool:
    """Whether the annotation already admits None (or is a string we leave alone)."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
            return True
        if isinstance(node, ast.Name | ast.Attribute) and getattr(
            node, "id", getattr(node, "attr", "")
        ) in ("Optional", "Any"):
            return True
    return False


def _guard_position(fn: FunctionNode, src: SourceText) -> tuple[int, str, str] | None:
    """(offset, indentation, prefix) where a guard goes: before the first statement after the
    docstring; None when that statement does not start its own line."""
    body = fn.body
    has_doc = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and (isinstance(body[0].value.value, str))
    )
    if has_doc and len(body) == 1:
        doc = body[0]
        end_line = doc.end_lineno or doc.lineno
        tail = src.line(end_line)[src.char_col(end_line, doc.end_col_offset or 0) :].strip()
        if not _starts_line(src, doc.lineno, doc.col_offset) or tail[:1] not in ("", "#"):
            return None
        offset = src.starts[end_line] if end_line < len(src.lines) else len(src.text)
        ends_cleanly = src.text.endswith(("\n", "\r"))
        prefix = "" if end_line < len(src.lines) or ends_cleanly else src.newline()
        return offset, src.indent(doc.lineno), prefix
    anchor = body[1] if has_doc else body[0]
    decorators = getattr(anchor, "decorator_list", [])
    first = decorators[0] if decorators else anchor
    if not _starts_line(src, first.lineno, first.col_offset):
        return None
    return src.starts[first.lineno - 1], src.indent(first.lineno), ""


def _starts_line(src: SourceText, lineno: int, byte_col: int) -> bool:
    return src.line(lineno)[: src.char_col(lineno, byte_col)].strip() in ("", "@")


def apply_edits(text: str, edits: tuple[Edit, ...]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def fix_source(source: str) -> tuple[str, list[str]]:
    """Apply every safe fix; returns the fixed source and a description of each fix, in order."""
    try:
        tree = parse(source)
    except SyntaxError:
        return source, []
    applied: list[str] = []
    cursor = len(source) + 1  # fixes at or after the cursor are done (or were undone)
    while True:
        src = SourceText.of(source)
        candidates = [fix for fix in find_fixes(tree, src) if fix.start < cursor]
        if not candidates:
            return source, applied[::-1]
        fix = max(candidates, key=lambda f: (f.start, f.line, f.col))
        cursor = fix.start
        fixed = apply_edits(source, fix.edits)
        try:
            fixed_tree = parse(fixed)
        except SyntaxError:
            continue  # undo: keep the text (and tree) as they were
        source, tree = fixed, fixed_tree
        applied.append(fix.description)


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff `a/path` -> `b/path`; "" when nothing changed."""
    if before == after:
        return ""
    old = [line.rstrip("\r\n") + "\n" for line in split_lines(before)]
    new = [line.rstrip("\r\n") + "\n" for line in split_lines(after)]
    name = path.lstrip("/")  # an absolute path still reads `a/abs/path`, as git shows it
    return "".join(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"))
