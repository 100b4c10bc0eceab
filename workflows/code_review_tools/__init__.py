"""Tools of the bundled code-review workflow (`workflows/code_review.yaml`).

    read_files -> review_batch (mapped over batches of files) -> gather_reviews
      -> evaluate_quality -> propose_fixes -> evaluate_quality ... -> summarize -> report_review
      -> (the gate: a `fail:` node)

Findings and fixes are ruff's (`_ruff`, `_fixes`); wfe adds each function's measures
(`_metrics`: complexity exactly as flake8's C901), a score, the report and the loop. The state
holds paths, measures, issues and diffs, never a file's text. Files on disk change only with
`apply=true`.

Issues are `{line, col, code, message, severity, fix}`: line and col are 1-based, col counts
characters, both in the file on disk; `fix` is ruff's applicability (`safe`, `unsafe`, `none`).

Quality score
-------------
A file's penalty:

    penalty = 3 * errors + 1 * warnings + 0.25 * infos
              + 0.5 * sum over functions of max(0, complexity - max_complexity)

(weights can be changed from the workflow: `with: {weights: {error: 3, warning: 1, info: 0.25,
complexity: 0.5}}`). It is normalised by the file's size in units of 50 code lines (lines neither
blank nor comment-only), `units = max(1, code_lines / 50)`, and the file scores

    score = 10 / (1 + penalty / (5 * units))

so a clean file scores 10, one warning's worth of penalty per 10 code lines halves the score, and
the score tends to 0 but never goes below it. A file that cannot be read, decoded or parsed scores
0. `quality_score` is the mean of the file scores weighted by their units (10 with no files),
counting for a file with proposed fixes the issues left after them (`remaining`);
`quality_on_disk` counts the files as they are. Both are rounded to 2 decimals.
"""

from __future__ import annotations

from typing import Any

from wfe import log, tool

from ._discover import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, changed_lines, select_files
from ._issues import CODES, Issue
from ._report import file_score, overall_score, resolve_weights
from ._ruff import ruff_binary
from ._source import display_path, resolve_path
from .finish import report_review
from .improve import propose_fixes
from .per_file import gather_reviews, review_batch, review_file

__all__ = [
    "CODES",
    "evaluate_quality",
    "gather_reviews",
    "propose_fixes",
    "read_files",
    "report_review",
    "review_batch",
    "review_file",
    "summarize",
]

SEVERITIES = ("error", "warning", "info")
#: At most this many batches, of at least MIN_BATCH files: each batch is one ruff process and
#: one measuring process, and the map runs two batches at a time (this machine's cores, or Dask).
MAX_BATCHES, MIN_BATCH = 4, 25


@tool
def read_files(
    path: str,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    since: str = "",
) -> dict[str, Any]:
    """The files to review, in batches: a file, or a folder's files as ruff discovers them
    filtered by include/exclude; with `since`, only those changed since that git ref."""
    ruff_binary()  # fails the run at once, with what to install, when ruff is missing
    target = resolve_path(path).resolve()
    root = target if target.is_dir() else target.parent
    if target.is_dir():
        files = select_files(root, include or DEFAULT_INCLUDE,
                             DEFAULT_EXCLUDE if exclude is None else exclude)
    else:
        files = [target.name]
    changed = changed_lines(root, since) if since else None
    if changed is not None:
        files = [name for name in files if name in changed]
        changed = {name: changed[name] for name in files}
    count = max(1, min(MAX_BATCHES, len(files) // MIN_BATCH))
    batches = [{"files": files[i::count]} for i in range(count) if files[i::count]]
    log(f"{len(files)} file(s) to review in {display_path(root)}"
        + (f", changed since {since}" if since else ""))
    return {"root": str(root), "batches": batches, "changed": changed}


@tool
def evaluate_quality(
    reviews: list[dict[str, Any]],
    weights: dict[str, float] | None = None,
    max_complexity: int = 10,
) -> dict[str, Any]:
    """Score each file and the whole review 0-10 (see the module docstring). The reviews are
    written again only when a file's score changed (they are the bulk of the state)."""
    resolved = resolve_weights(weights)
    on_disk = [file_score(r, r["issues"], resolved, max_complexity) for r in reviews]
    scores = [
        round(file_score(r, r["remaining"], resolved, max_complexity) if r.get("diff") else disk, 2)
        for r, disk in zip(reviews, on_disk, strict=True)
    ]
    quality = round(overall_score(reviews, scores), 2)
    log(f"quality {quality:.2f}/10 over {len(reviews)} file(s)")
    updates: dict[str, Any] = {"quality_score": quality,
                               "quality_on_disk": round(overall_score(reviews, on_disk), 2)}
    if any(r.get("score") != s for r, s in zip(reviews, scores, strict=True)):
        updates["reviews"] = [{**r, "score": s} for r, s in zip(reviews, scores, strict=True)]
    return updates


@tool
def summarize(
    reviews: list[dict[str, Any]],
    quality_score: float,
    threshold: float = 7.0,
    apply: bool = False,
) -> dict[str, Any]:
    """One line on the outcome: the score against the threshold, issues, fixes proposed."""
    issues: list[Issue] = [issue for review in reviews for issue in review["issues"]]
    counts = {level: sum(i["severity"] == level for i in issues) for level in SEVERITIES}
    functions = sum(len(review["functions"]) for review in reviews)
    fixes = sum(len(review.get("fixes", [])) for review in reviews)
    verdict = "reaches" if quality_score >= threshold else "is below"
    summary = (
        f"quality {quality_score:.2f}/10 {verdict} the threshold {threshold:g}: "
        f"{_count(len(reviews), 'file')}, {_count(functions, 'function')}, "
        f"{_count(len(issues), 'issue')} ({_count(counts['error'], 'error')}, "
        f"{_count(counts['warning'], 'warning')}, {counts['info']} info); "
        f"{_count(fixes, 'fix', 'fixes')} proposed (reviews[].diff), "
        + ("to be written in place (apply)" if apply and fixes else "no file modified")
    )
    log(summary)
    return {"summary": summary}


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
