"""The Markdown report of a review (`-i report=FILE`): compact and deterministic.

Worst files first; a file with nothing to report gets no section (the table counts them); no
section is ever empty. Lines are those of the files on disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

SEVERITIES = ("error", "warning", "info")
#: How many functions the "worst functions" table shows per file.
WORST = 5
_OWN_CODE = re.compile(r"CR\d{3}\Z")

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


def worst_first(reviews: Sequence[Review]) -> list[Review]:
    return sorted(reviews, key=lambda r: (float(r.get("score", 0.0)), str(r["path"])))


def _has_findings(review: Review) -> bool:
    return bool(review.get("issues") or review.get("diff"))


def render_markdown(
    reviews: Sequence[Review], quality_score: float, threshold: float, summary: str = ""
) -> str:
    """The whole report: the overall score, a table of the files, then a section per file."""
    verdict = "reaches" if quality_score >= threshold else "is below"
    lines = ["# Code review", "",
             f"**Quality {quality_score:.2f}/10**, which {verdict} the threshold {threshold:g}."]
    if summary:
        lines += ["", summary]
    ordered = worst_first(reviews)
    shown = [review for review in ordered if _has_findings(review)]
    if shown:
        lines += ["", "| File | Score | Errors | Warnings | Info | Fixes |",
                  "|---|---:|---:|---:|---:|---:|"]
        for review in shown:
            counts = severity_counts(review)
            lines.append(
                f"| `{_cell(review['path'])}` | {review.get('score', 0.0):.2f} | "
                f"{counts['error']} | {counts['warning']} | {counts['info']} | "
                f"{len(review.get('fixes', []))} |")
    clean = len(reviews) - len(shown)
    if clean:
        lines += ["", f"{clean} other file(s): no issues."]
    for review in shown:
        lines += ["", *file_section(review)]
    return "\n".join(lines) + "\n"


def file_section(review: Review) -> list[str]:
    """One file's section: score, worst functions, issues, proposed fixes, what they leave."""
    lines = [
        f"## `{review['path']}`",
        "",
        f"Score **{review.get('score', 0.0):.2f}/10**: {review.get('lines', 0)} code lines, "
        f"{len(review.get('functions', []))} functions, {len(review.get('issues', []))} issues.",
    ]
    return (lines + functions_table(review) + issues_list("Issues", review.get("issues", []),
                                                          review.get("suggestions"))
            + fixes_section(review))


def functions_table(review: Review) -> list[str]:
    worst = [f for f in worst_functions(review) if f["complexity"] > 1 or f["length"] > 1]
    if not worst:
        return []
    lines = ["", "### Worst functions", "",
             "| Function | Line | Complexity | Length | Nesting | Parameters |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [
        f"| `{_cell(f['qualname'])}` | {f['lineno']} | {f['complexity']} | {f['length']} | "
        f"{f['max_nesting']} | {f['params']} |"
        for f in worst
    ]
    return lines


def issues_list(title: str, issues: Sequence[Mapping[str, Any]],
                suggestions: Sequence[Mapping[str, Any]] | None) -> list[str]:
    if not issues:
        return []
    lines = ["", f"### {title}", ""]
    advice = {(s["line"], s["code"]): s for s in suggestions or []}
    for issue in issues:
        hint = advice.get((issue["line"], issue["code"]))
        fix = "" if issue["fix"] == "none" else f" ({issue['fix']} fix)"
        line = (f"- {issue['line']}:{issue['col']} {issue['severity']} `{issue['code']}` "
                f"{issue['message']}{fix}")
        if hint is not None and _OWN_CODE.match(str(issue["code"])):
            text = re.sub(r"^line \d+: ", "", str(hint["text"]))
            line += ". " + text[:1].upper() + text[1:]
        lines.append(line)
    return lines


def fixes_section(review: Review) -> list[str]:
    diff = str(review.get("diff") or "")
    if not diff:
        return []
    longest = max((len(run) for run in re.findall(r"`+", diff)), default=0)
    fence = "`" * max(3, longest + 1)
    left = len(review.get("remaining") or [])
    lines = ["", "### Proposed fixes", "",
             f"They leave {left} issue(s) (`remaining` in the state, lines of the fixed text).", ""]
    lines += [f"- {fix}" for fix in review.get("fixes", [])]
    return [*lines, "", f"{fence}diff", diff.rstrip("\n"), fence]


def _cell(text: str) -> str:
    """text made safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|")
