"""Tools of the bundled code-review workflow (`workflows/code_review.yaml`): real static analysis.

    read_source -> analyze -> suggest_improvements -> evaluate_quality -> apply_fixes -> analyze ...

Every tool is a plain function over JSON values; the per-file work (`review_file`, `fix_file`,
`score_file`) is exposed separately so that a workflow can `map` it over the files of a folder.
Files on disk are never modified: fixes are made on the source held in the state.

Issues are `{line, col, code, message, severity, fixable, detail}`: line and col are 1-based, col
counts characters; `_issues.CODES` lists the stable codes (CR000-CR014) and their severities.
Functions are measured as `_metrics` describes (complexity is exactly flake8's C901).

Quality score
-------------
A file's penalty is measured on its current source:

    penalty = 3 * errors + 1 * warnings + 0.25 * infos
              + 0.5 * sum over functions of max(0, complexity - max_complexity)

(weights can be changed from the workflow: `with: {weights: {error: 3, warning: 1, info: 0.25,
complexity: 0.5}}`). It is normalised by the file's size in units of 50 code lines (lines neither
blank nor comment-only), `units = max(1, code_lines / 50)`, and the file scores

    score = 10 / (1 + penalty / (5 * units))

so a clean file scores 10, one warning's worth of penalty per 10 code lines halves the score, and
the score tends to 0 but never goes below it. A file that does not parse scores 0.
`quality_score` is the mean of the file scores weighted by their units (10 with no files). Both
are rounded to 2 decimals. The score depends on the code only, so each pass re-measures it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wfe import log, tool

from ._fixes import find_fixes, fix_source, unified_diff
from ._ignore import DEFAULT_INCLUDE, select_files
from ._issues import CODES, Issue, make_issue, sort_key
from ._metrics import FunctionInfo, measure_functions
from ._names import name_smells
from ._report import file_score, overall_score, resolve_weights, suggestion
from ._smells import comment_smells, function_smells, syntax_error_issue, tree_smells
from ._source import SourceText, code_lines, display_path, parse, read_text, resolve_path
from .finish import report_review
from .per_file import combine_review, find_smells, gather_reviews, measure_file

__all__ = [
    "CODES",
    "analyze",
    "apply_fixes",
    "combine_review",
    "evaluate_quality",
    "find_smells",
    "fix_file",
    "gather_reviews",
    "inspect_source",
    "measure_file",
    "read_source",
    "report_review",
    "review_file",
    "score_file",
    "suggest_improvements",
    "summarize",
]

DEFAULT_LIMITS = {"max_complexity": 10, "max_length": 50, "max_params": 5, "max_nesting": 4}
SEVERITIES = ("error", "warning", "info")


@tool
def read_source(
    path: str, include: list[str] | None = None, exclude: list[str] | None = None
) -> dict[str, Any]:
    """Read a Python file, or the files of a folder, into `files`.

    In a folder: the files matching an `include` glob (default `**/*.py`) and no `exclude` glob,
    relative to the folder, not ignored by `.gitignore` and not in a virtual environment.
    """
    target = resolve_path(path)
    globs = DEFAULT_INCLUDE if include is None else include
    paths = select_files(target, globs, exclude or ()) if target.is_dir() else [target]
    files = [{"path": display_path(p), "source": read_text(p)} for p in paths]
    log(f"read {len(files)} file(s) from {display_path(target)}")
    return {"files": files}


@tool
def analyze(
    files: list[dict[str, Any]],
    max_complexity: int = 10,
    max_length: int = 50,
    max_params: int = 5,
    max_nesting: int = 4,
) -> dict[str, Any]:
    """Measure every function and find the smells of each file, into `reviews`."""
    limits = {
        "max_complexity": max_complexity,
        "max_length": max_length,
        "max_params": max_params,
        "max_nesting": max_nesting,
    }
    reviews = [review_file(file, limits) for file in files]
    issues = sum(len(review["issues"]) for review in reviews)
    functions = sum(len(review["functions"]) for review in reviews)
    log(f"analyzed {len(reviews)} file(s): {functions} function(s), {issues} issue(s)")
    return {"reviews": reviews}


def review_file(
    file: Mapping[str, Any], limits: Mapping[str, int] = DEFAULT_LIMITS
) -> dict[str, Any]:
    """The review of one `{path, source, [original, fixes, diff]}` entry (scores come later)."""
    path, source = str(file["path"]), str(file["source"])
    original = str(file.get("original", source))
    functions, issues = inspect_source(source, path, limits)
    return {
        "path": path,
        "lines": code_lines(source),
        "functions": functions,
        "issues": issues,
        "fixes": list(file.get("fixes", [])),
        "fixed_source": source if source != original else None,
        "diff": file.get("diff") or unified_diff(path, original, source),
    }


def inspect_source(
    source: str, path: str = "<source>", limits: Mapping[str, int] = DEFAULT_LIMITS
) -> tuple[list[FunctionInfo], list[Issue]]:
    """The functions and issues of one source text, issues sorted by position."""
    try:
        tree = parse(source, path)
    except SyntaxError as error:
        return [], [syntax_error_issue(error)]
    except ValueError as error:  # e.g. null bytes
        return [], [make_issue(1, 1, "CR000", f"syntax error: {error}", error=str(error))]
    src = SourceText.of(source)
    functions = measure_functions(tree, src)
    issues = [
        *tree_smells(tree, src, path),
        *name_smells(tree, src, path),
        *comment_smells(source),
        *function_smells(functions, {**DEFAULT_LIMITS, **limits}),
    ]
    fixable = {(fix.code, fix.line, fix.col) for fix in find_fixes(tree, src)}
    for issue in issues:
        issue["fixable"] = (issue["code"], issue["line"], issue["col"]) in fixable
    return functions, sorted(issues, key=sort_key)


@tool
def suggest_improvements(reviews: list[dict[str, Any]]) -> dict[str, Any]:
    """Add to each review one concrete suggestion per issue: the line and what to change."""
    improved = [
        {**review, "suggestions": [suggestion(issue) for issue in review["issues"]]}
        for review in reviews
    ]
    return {"reviews": improved}


def score_file(
    review: Mapping[str, Any],
    weights: Mapping[str, float] | None = None,
    max_complexity: int = 10,
) -> float:
    """One file's score, 0-10 (see the module docstring)."""
    return round(file_score(review, resolve_weights(weights), max_complexity), 2)


@tool
def evaluate_quality(
    reviews: list[dict[str, Any]],
    weights: dict[str, float] | None = None,
    max_complexity: int = 10,
) -> dict[str, Any]:
    """Score each file and the whole review 0-10 from the issues and complexity measured."""
    resolved = resolve_weights(weights)
    scores = [file_score(review, resolved, max_complexity) for review in reviews]
    quality = round(overall_score(reviews, scores), 2)
    scored = [
        {**review, "score": round(score, 2)} for review, score in zip(reviews, scores, strict=True)
    ]
    log(f"quality {quality:.2f}/10 over {len(reviews)} file(s)")
    return {"reviews": scored, "quality_score": quality}


def fix_file(file: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """One file entry with its safe fixes applied in `source`, and how many were applied.

    The entry keeps the text read from disk in `original`, the descriptions of all fixes so far
    in `fixes`, and the unified diff from `original` to `source` in `diff`.
    """
    path, source = str(file["path"]), str(file["source"])
    original = str(file.get("original", source))
    fixed, applied = fix_source(source)
    entry = {
        **file,
        "source": fixed,
        "original": original,
        "fixes": [*file.get("fixes", []), *applied],
        "diff": unified_diff(path, original, fixed),
    }
    return entry, len(applied)


@tool
def apply_fixes(files: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the safe mechanical fixes to the sources in the state (never to the files)."""
    fixed, count = [], 0
    for file in files:
        entry, applied = fix_file(file)
        fixed.append(entry)
        count += applied
        if applied:
            log(f"{entry['path']}: {applied} fix(es) applied")
    if not count:
        log("nothing more can be fixed mechanically")
        return {"fixes_applied": 0}  # the files are unchanged: no need to rewrite them
    return {"files": fixed, "fixes_applied": count}


@tool
def summarize(
    reviews: list[dict[str, Any]],
    quality_score: float,
    threshold: float = 7.0,
    apply: bool = False,
) -> dict[str, Any]:
    """One line on the outcome: the score against the threshold, issues, fixes proposed."""
    issues = [issue for review in reviews for issue in review["issues"]]
    counts = {level: sum(i["severity"] == level for i in issues) for level in SEVERITIES}
    functions = sum(len(review["functions"]) for review in reviews)
    fixes = sum(len(review.get("fixes", [])) for review in reviews)
    verdict = "reaches" if quality_score >= threshold else "is below"
    summary = (
        f"quality {quality_score:.2f}/10 {verdict} the threshold {threshold:g}: "
        f"{_count(len(reviews), 'file')}, {_count(functions, 'function')}, "
        f"{_count(len(issues), 'issue')} ({_count(counts['error'], 'error')}, "
        f"{_count(counts['warning'], 'warning')}, {counts['info']} info); "
        f"{_count(fixes, 'fix', 'fixes')} proposed in the state (reviews[].diff), "
        + ("to be written in place (apply)" if apply and fixes else "no file modified")
    )
    log(summary)
    return {"summary": summary}


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
