"""Suggestions per issue, and the quality score (the formula is stated in the package docstring)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._issues import Issue

DEFAULT_WEIGHTS: dict[str, float] = {"error": 3.0, "warning": 1.0, "info": 0.25, "complexity": 0.5}
#: Code lines per size unit, and the penalty per unit at which a file's score halves.
LINES_PER_UNIT = 50
HALF_SCORE_PENALTY = 5.0

_TEMPLATES: dict[str, str] = {
    "CR000": "fix the syntax error ({error}); nothing else can be checked until the file parses",
    "CR001": "change the default of `{name}` from `{default}` to `None` and start the body with "
    "`if {name} is None: {name} = {default}`",
    "CR002": "replace `except:` with `except Exception:`, or better, the exceptions you expect",
    "CR003": "replace `{old}` with `{new}`",
    "CR004": "replace `print(...)` with a logging call (`logger.info(...)`), or return the text",
    "CR005": 'resolve the {marker} or move it to the issue tracker: "{comment}"',
    "CR006": "remove the unused import `{name}` (`{statement}`), or list it in `__all__` if it "
    "is re-exported",
    "CR007": "remove the assignment to `{name}` or use it (assign to `_` to discard on purpose)",
    "CR008": "rename `{name}` (e.g. `{name}_` or a more specific name): it hides the built-in",
    "CR009": "replace `assert {test}` with `if not {guard}: raise ValueError({msg})`: asserts "
    "vanish under `python -O`",
    "CR010": "log the error in `{clause}` (`logger.exception(...)`) or catch only what you "
    "expect; never silence every error",
    "CR011": "split `{qualname}` (complexity {value} > {limit}): extract branches into helper "
    "functions, return early, or use a lookup table",
    "CR012": "split `{qualname}` ({value} lines > {limit}) into smaller functions that each do "
    "one thing",
    "CR013": "reduce the parameters of `{qualname}` ({value} > {limit}): group related ones "
    "into a dataclass or an options object",
    "CR014": "flatten `{qualname}` (nesting {value} > {limit}): use guard clauses (`continue`, "
    "early `return`) or extract the inner block into a function",
}


class _Detail(dict[str, Any]):
    MISSING = "<?>"

    def __missing__(self, key: str) -> str:
        return self.MISSING


def suggestion(issue: Issue) -> dict[str, Any]:
    """`{line, code, text}`: what to change, where; `text` starts with `line N:`."""
    detail = _Detail(issue.get("detail", {}))
    test = str(detail.get("test", ""))
    detail["guard"] = test if re.fullmatch(r"[\w.]+", test) else f"({test})"
    text = f"line {issue['line']}: " + _TEMPLATES[issue["code"]].format_map(detail)
    if issue["fixable"]:
        text += " (apply_fixes does this)"
    return {"line": issue["line"], "code": issue["code"], "text": text}


def penalty(review: Mapping[str, Any], weights: Mapping[str, float], max_complexity: int) -> float:
    """Weighted issues, plus weighted complexity points over the limit, of one file."""
    total = sum(weights[issue["severity"]] for issue in review.get("issues", []))
    excess = sum(max(0, fn["complexity"] - max_complexity) for fn in review.get("functions", []))
    return float(total + weights["complexity"] * excess)


def size(review: Mapping[str, Any]) -> float:
    """A file's size in units of `LINES_PER_UNIT` code lines, at least 1."""
    return max(1.0, int(review.get("lines", 0)) / LINES_PER_UNIT)


def file_score(
    review: Mapping[str, Any], weights: Mapping[str, float], max_complexity: int
) -> float:
    """10 / (1 + penalty / (HALF_SCORE_PENALTY * size)); 0 for a file that does not parse."""
    if any(issue["code"] == "CR000" for issue in review.get("issues", [])):
        return 0.0
    density = penalty(review, weights, max_complexity) / size(review)
    return 10.0 / (1.0 + density / HALF_SCORE_PENALTY)


def overall_score(reviews: list[dict[str, Any]], scores: list[float]) -> float:
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
