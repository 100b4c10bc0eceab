"""The Markdown report of a review (`-i report=FILE`): deterministic, so it can be golden-tested."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._report import suggestion

SEVERITIES = ("error", "warning", "info")
HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Info"}
#: How many functions the "worst functions" table shows per file.
WORST = 5

Review = Mapping[str, Any]


def worst_functions(review: Review, count: int = WORST) -> list[dict[str, Any]]:
    """The functions of a review, most complex first (then longest, deepest, first in file)."""
    return sorted(
        review.get("functions", []),
        key=lambda f: (-f["complexity"], -f["length"], -f["max_nesting"], f["lineno"]),
    )[:count]


def severity_counts(review: Review) -> dict[str, int]:
    issues = review.get("issues", [])
    return {level: sum(i["severity"] == level for i in issues) for level in SEVERITIES}


def render_markdown(
    reviews: Sequence[Review], quality_score: float, threshold: float, summary: str = ""
) -> str:
    """The whole report: the overall score, a table of the files, then a section per file."""
    verdict = "reaches" if quality_score >= threshold else "is below"
    lines = [
        "# Code review",
        "",
        f"**Quality {quality_score:.2f}/10**, which {verdict} the threshold {threshold:g}.",
        "",
    ]
    if summary:
        lines += [summary, ""]
    lines += [
        "| File | Score | Functions | Errors | Warnings | Info | Fixes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for review in reviews:
        counts = severity_counts(review)
        lines.append(
            f"| `{_cell(review['path'])}` | {review.get('score', 0.0):.2f} | "
            f"{len(review.get('functions', []))} | {counts['error']} | {counts['warning']} | "
            f"{counts['info']} | {len(review.get('fixes', []))} |"
        )
    for review in reviews:
        lines += ["", *file_section(review)]
    return "\n".join(lines) + "\n"


def file_section(review: Review) -> list[str]:
    """One file's section: score, worst functions, issues by severity, proposed fixes."""
    lines = [
        f"## `{review['path']}`",
        "",
        f"Score **{review.get('score', 0.0):.2f}/10**: {review.get('lines', 0)} code lines, "
        f"{len(review.get('functions', []))} functions, {len(review.get('issues', []))} issues.",
    ]
    return lines + functions_table(review) + issues_section(review) + fixes_section(review)


def functions_table(review: Review) -> list[str]:
    worst = worst_functions(review)
    if not worst:
        return []
    lines = [
        "",
        "### Worst functions",
        "",
        "| Function | Line | Complexity | Length | Nesting | Parameters |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| `{_cell(f['qualname'])}` | {f['lineno']} | {f['complexity']} | {f['length']} | "
        f"{f['max_nesting']} | {f['params']} |"
        for f in worst
    ]
    return lines


def issues_section(review: Review) -> list[str]:
    issues = list(review.get("issues", []))
    if not issues:
        return ["", "### Issues", "", "None found."]
    suggestions = review.get("suggestions") or [suggestion(i) for i in issues]
    lines = ["", "### Issues"]
    if review.get("fixes"):
        lines += ["", "Those left once the proposed fixes are made; lines of the fixed source."]
    for level in SEVERITIES:
        found = [(i, s) for i, s in zip(issues, suggestions, strict=True) if i["severity"] == level]
        if not found:
            continue
        lines += ["", f"#### {HEADINGS[level]} ({len(found)})", ""]
        for issue, advice in found:
            text = re.sub(r"^line \d+: ", "", str(advice["text"]))
            lines.append(
                f"- line {issue['line']}, col {issue['col']}, `{issue['code']}`: "
                f"{issue['message']}  \n  Suggestion: {text}"
            )
    return lines


def fixes_section(review: Review) -> list[str]:
    diff = str(review.get("diff") or "")
    fixes = list(review.get("fixes", []))
    if not diff or not fixes:
        return ["", "### Proposed fixes", "", "None: no safe mechanical fix applies."]
    longest = max((len(run) for run in re.findall(r"`+", diff)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = ["", "### Proposed fixes", ""]
    lines += [f"- {fix}" for fix in fixes]
    return [*lines, "", f"{fence}diff", diff.rstrip("\n"), fence]


def _cell(text: str) -> str:
    """text made safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|")
