"""The issue codes, their severities, and the issue record."""

from __future__ import annotations

import ast
from typing import Literal, NotRequired, TypedDict

from ._source import SourceText

Severity = Literal["error", "warning", "info"]

#: code -> (severity, short title). Codes are stable: never renumber, only add.
CODES: dict[str, tuple[Severity, str]] = {
    "CR000": ("error", "syntax error"),
    "CR001": ("error", "mutable default argument"),
    "CR002": ("error", "bare except"),
    "CR003": ("warning", "comparison to None with == or !="),
    "CR004": ("info", "print call"),
    "CR005": ("info", "TODO/FIXME comment"),
    "CR006": ("warning", "unused import"),
    "CR007": ("warning", "unused local variable"),
    "CR008": ("warning", "shadowed built-in"),
    "CR009": ("warning", "assert used for validation"),
    "CR010": ("warning", "exception swallowed"),
    "CR011": ("warning", "function too complex"),
    "CR012": ("warning", "function too long"),
    "CR013": ("info", "too many parameters"),
    "CR014": ("warning", "nesting too deep"),
}
#: The codes `apply_fixes` can fix mechanically (when the site allows it).
FIXABLE = frozenset({"CR001", "CR002", "CR003"})


class Issue(TypedDict):
    line: int  # 1-based
    col: int  # 1-based, in characters
    code: str
    message: str
    severity: Severity
    fixable: bool
    detail: NotRequired[dict[str, str | int]]  # what suggestions need: names, snippets, limits


def make_issue(line: int, col: int, code: str, message: str, **detail: str | int) -> Issue:
    """An issue at a 1-based line and character column."""
    issue = Issue(
        line=line, col=col, code=code, message=message, severity=CODES[code][0], fixable=False
    )
    if detail:
        issue["detail"] = dict(detail)
    return issue


def issue_at(src: SourceText, node: ast.AST, code: str, message: str, **detail: str | int) -> Issue:
    """An issue at the start of an `ast` node."""
    line: int = node.lineno  # type: ignore[attr-defined]
    col = src.char_col(line, node.col_offset) + 1  # type: ignore[attr-defined]
    return make_issue(line, col, code, message, **detail)


def sort_key(issue: Issue) -> tuple[int, int, str]:
    return issue["line"], issue["col"], issue["code"]
