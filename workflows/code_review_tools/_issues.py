"""The issue record, wfe's own codes, and the severity of every code (ruff's and wfe's).

Most issues are ruff's, under ruff's own codes (`F401`, `B006`...). wfe adds the codes below:
what it measures per function, and what stops a file from being reviewed at all.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

Severity = Literal["error", "warning", "info"]
FixApplicability = Literal["safe", "unsafe", "none"]

#: wfe's own codes -> (severity, short title). Stable: never renumber, only add. CR001-CR010
#: were hand-written checks, retired for the ruff rules the README lists.
CODES: dict[str, tuple[Severity, str]] = {
    "CR000": ("error", "syntax error"),
    "CR011": ("warning", "function too complex"),
    "CR012": ("warning", "function too long"),
    "CR013": ("info", "too many parameters"),
    "CR014": ("warning", "nesting too deep"),
    "CR015": ("error", "file cannot be read"),
    "CR016": ("error", "file cannot be decoded"),
    "CR017": ("error", "file too deeply nested to parse"),
    "CR018": ("error", "a checker failed on the file"),
}
#: The codes that mean a file could not be reviewed at all: such a file scores 0.
UNREVIEWABLE = frozenset({"CR000", "CR015", "CR016", "CR017", "CR018", "invalid-syntax"})

#: Ruff codes by severity, matched by prefix; any other code is a warning.
_ERROR_PREFIXES = ("invalid-syntax", "E9", "F63", "F7", "F82", "B006", "B008", "E722")
_INFO_PREFIXES = ("T20", "FIX", "TD", "UP", "I0", "W", "E501", "D")


class Issue(TypedDict):
    line: int  # 1-based, in the file on disk (or, in `remaining`, in the fixed text)
    col: int  # 1-based, in characters
    code: str
    message: str
    severity: Severity
    fix: FixApplicability  # what ruff says of its fix: safe, unsafe, or none offered
    detail: NotRequired[dict[str, str | int]]  # wfe's own codes: what the suggestion needs


def severity_of(code: str) -> Severity:
    if code in CODES:
        return CODES[code][0]
    if code.startswith(_ERROR_PREFIXES):
        return "error"
    if code.startswith(_INFO_PREFIXES):
        return "info"
    return "warning"


def make_issue(
    line: int, col: int, code: str, message: str, fix: FixApplicability = "none",
    **detail: str | int,
) -> Issue:
    """An issue at a 1-based line and character column."""
    issue = Issue(line=line, col=col, code=code, message=message, severity=severity_of(code),
                  fix=fix)
    if detail:
        issue["detail"] = dict(detail)
    return issue


def sort_key(issue: Issue) -> tuple[int, int, str]:
    return issue["line"], issue["col"], issue["code"]
