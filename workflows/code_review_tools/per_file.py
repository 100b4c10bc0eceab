"""The review of a batch of files (`review_batch`, which `code_review.yaml` maps over the
batches), the reviews gathered in file order (`gather_reviews`), and the review of one file
(`review_file`, the tool of the subgraph `review_file.yaml`)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wfe import tool

from . import _ruff
from ._discover import on_changed_line
from ._issues import Issue, sort_key
from ._measure import measure_files
from ._report import DEFAULT_WEIGHTS, file_score, suggestion

_UNREADABLE = frozenset({"CR015", "CR016"})


@tool
async def review_batch(
    root: str,
    batch: dict[str, Any],
    changed: dict[str, list[list[int]]] | None = None,
    max_complexity: int = 10,
    max_length: int = 50,
    max_params: int = 5,
    max_nesting: int = 4,
) -> dict[str, Any]:
    """One review per file of a batch (paths relative to root): ruff's findings and wfe's
    measures, found side by side in two processes; with `changed` (since=REF), only the issues
    on changed lines. Lines are those of the files on disk."""
    limits = {"max_complexity": max_complexity, "max_length": max_length,
              "max_params": max_params, "max_nesting": max_nesting}
    paths = [str(Path(root, name)) for name in batch["files"]]
    lint, measures = await asyncio.gather(
        _ruff.check(paths, _ruff.config_args(Path(root))), measure_files(paths, limits))
    reviews = []
    for name, path in zip(batch["files"], paths, strict=True):
        measured = measures[path]
        issues = merge_issues(lint.get(path, []), measured["issues"])
        if changed is not None:
            issues = [i for i in issues if _on_changed(i, measured["functions"], changed[name])]
        reviews.append({
            "path": name, "digest": measured.get("digest", ""), "lines": measured["lines"],
            "functions": measured["functions"], "issues": [_lean(i) for i in issues],
            "suggestions": [s for s in map(suggestion, issues) if s is not None],
            "diff": "", "fixes": [],
        })
    return {"reviews": reviews}


@tool
async def review_file(
    file: dict[str, Any],
    max_complexity: int = 10,
    max_length: int = 50,
    max_params: int = 5,
    max_nesting: int = 4,
) -> dict[str, Any]:
    """The review of one file (`{path}`, relative to the current directory), as `review_batch`
    makes it, scored as it is on disk; for workflows that choose their own files."""
    target = Path(str(file["path"])).resolve()
    found = await review_batch(str(target.parent), {"files": [target.name]}, None,
                               max_complexity, max_length, max_params, max_nesting)
    (review,) = found["reviews"]
    review["score"] = round(file_score(review, review["issues"], DEFAULT_WEIGHTS,
                                       max_complexity), 2)
    return {"review": review}


def _lean(issue: Issue) -> Issue:
    """The issue as the state keeps it: a ruff issue's fix message goes to its suggestion."""
    if "detail" in issue and not issue["code"].startswith("CR"):
        issue = {**issue}
        del issue["detail"]
    return issue


def merge_issues(ruff: Sequence[Issue], own: Sequence[Issue]) -> list[Issue]:
    """ruff's issues and wfe's, sorted, without saying one problem twice: a file that cannot be
    read is wfe's issue (not ruff's E902 too), one that does not parse is ruff's."""
    unreadable = any(issue["code"] in _UNREADABLE for issue in own)
    syntax = any(issue["code"] == "invalid-syntax" for issue in ruff)
    kept = [_unlinted(i) if i["code"] == "E902" else i
            for i in ruff if not (unreadable and i["code"] == "E902")]
    kept += [i for i in own if not (syntax and i["code"] == "CR000")]
    return sorted(kept, key=sort_key)


def _unlinted(issue: Issue) -> Issue:
    """ruff's E902 on a file wfe could read (ruff reads UTF-8 only): a warning, not an error."""
    return {**issue, "severity": "warning",
            "message": f"ruff could not read the file, so it was not linted: {issue['message']}"}


def _on_changed(issue: Issue, functions: Sequence[Mapping[str, Any]],
                spans: Sequence[Sequence[int]]) -> bool:
    """An issue on a changed line; a function's limit issue when any line of it changed."""
    if "qualname" in issue.get("detail", {}):
        for fn in functions:
            if fn["lineno"] == issue["line"]:
                return on_changed_line(fn["lineno"], spans, fn["lineno"] + fn["length"] - 1)
    return on_changed_line(issue["line"], spans)


@tool
def gather_reviews(
    file_reviews: list[dict[str, Any]], max_complexity: int = 10
) -> dict[str, Any]:
    """The reviews of every batch, in file order, each scored as it is on disk (so that
    `evaluate` need not write them again); the batches' results are let go."""
    reviews = sorted((review for entry in file_reviews for review in entry["reviews"]),
                     key=lambda review: str(review["path"]))
    for review in reviews:
        review["score"] = round(file_score(review, review["issues"], DEFAULT_WEIGHTS,
                                           max_complexity), 2)
    return {"reviews": reviews, "file_reviews": []}
