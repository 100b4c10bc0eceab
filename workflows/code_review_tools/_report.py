"""Suggestions per issue, and the quality score (the formula is stated in the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._issues import UNREVIEWABLE, Issue

DEFAULT_WEIGHTS: dict[str, float] = {"error": 3.0, "warning": 1.0, "info": 0.25, "complexity": 0.5}
#: Code lines per size unit, and the penalty per unit at which a file's score halves.
LINES_PER_UNIT = 50
HALF_SCORE_PENALTY = 5.0

_TEMPLATES: dict[str, str] = {
    "CR000": "fix the syntax error; nothing else can be checked until the file parses",
    "CR011": "split `{qualname}` (complexity {value} > {limit}): extract branches into helper "
    "functions, return early, or use a lookup table",
    "CR012": "split `{qualname}` ({value} lines > {limit}) into smaller functions that each do "
    "one thing",
    "CR013": "reduce the parameters of `{qualname}` ({value} > {limit}): group related ones "
    "into a dataclass or an options object",
    "CR014": "flatten `{qualname}` (nesting {value} > {limit}): use guard clauses (`continue`, "
    "early `return`) or extract the inner block into a function",
    "CR015": "make the file readable (a broken link? permissions?) or exclude it",
    "CR016": "save the file as UTF-8, or declare its encoding in a coding line (PEP 263)",
    "CR017": "rewrite the expression: Python itself cannot compile code nested this deeply",
    "CR018": "check the file on its own (`ruff check FILE`); exclude it if it cannot be helped",
}
_FIXED_BY = {"safe": "the fix loop makes this fix", "unsafe": "an unsafe fix: made only with "
             "`-i unsafe_fixes=true`, after checking it keeps the behaviour you need"}


def suggestion(issue: Issue) -> dict[str, Any] | None:
    """`{line, code, text}`: what to change, where (`text` starts with `line N:`); None for a
    ruff issue that offers no fix (its message says it all; `ruff rule CODE` explains it)."""
    detail = issue.get("detail", {})
    template = _TEMPLATES.get(issue["code"])
    if template is not None:
        text = template.format_map(detail)
    elif "fix" in detail:
        how = _FIXED_BY.get(issue["fix"], "by hand")
        text = f"{detail['fix']} ({how})"
    else:
        return None
    return {"line": issue["line"], "code": issue["code"], "text": f"line {issue['line']}: {text}"}


def penalty(issues: Sequence[Issue], weights: Mapping[str, float], max_complexity: int) -> float:
    """Weighted issues, plus weighted complexity points over the limit (CR011), of one file."""
    total = sum(weights[issue["severity"]] for issue in issues)
    excess = sum(
        max(0, int(issue.get("detail", {}).get("value", 0)) - max_complexity)
        for issue in issues if issue["code"] == "CR011"
    )
    return float(total + weights["complexity"] * excess)


def size(review: Mapping[str, Any]) -> float:
    """A file's size in units of `LINES_PER_UNIT` code lines, at least 1."""
    return max(1.0, int(review.get("lines", 0)) / LINES_PER_UNIT)


def file_score(
    review: Mapping[str, Any], issues: Sequence[Issue], weights: Mapping[str, float],
    max_complexity: int,
) -> float:
    """10 / (1 + penalty / (HALF_SCORE_PENALTY * size)); 0 for a file that cannot be reviewed."""
    if any(issue["code"] in UNREVIEWABLE for issue in issues):
        return 0.0
    density = penalty(issues, weights, max_complexity) / size(review)
    return 10.0 / (1.0 + density / HALF_SCORE_PENALTY)


def overall_score(reviews: Sequence[Mapping[str, Any]], scores: Sequence[float]) -> float:
    """The files' scores averaged, weighted by size; 10 when there is nothing to review."""
    sizes = [size(review) for review in reviews]
    if not sizes:
        return 10.0
    return sum(s * w for s, w in zip(scores, sizes, strict=True)) / sum(sizes)


def resolve_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    merged = dict(DEFAULT_WEIGHTS)
    for key, value in (weights or {}).items():
        if key not in DEFAULT_WEIGHTS:
            raise ValueError(f"unknown weight {key!r}; known: {', '.join(DEFAULT_WEIGHTS)}")
        merged[key] = float(value)
    return merged
