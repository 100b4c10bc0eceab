"""The fix step of the loop: ruff's fixes, made in a scratch copy and checked (see `_fixes`), kept
in the state as diffs against the files on disk, and the fixed files measured again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wfe import log, tool

from ._diff import unified_diff
from ._fixes import collect, make_scratch, project_base, ruff_fix, scratch_folder, verified
from ._issues import Issue
from ._measure import measure_files
from .per_file import merge_issues


@tool
async def propose_fixes(
    root: str,
    reviews: list[dict[str, Any]],
    unsafe_fixes: bool = False,
    verify: str = "",
    max_complexity: int = 10,
    max_length: int = 50,
    max_params: int = 5,
    max_nesting: int = 4,
) -> dict[str, Any]:
    """Make ruff's safe fixes (and its unsafe ones with unsafe_fixes) to the files not tried yet,
    keep those that leave the file parseable (and, with verify, the command passing), as diffs."""
    allowed = {"safe", "unsafe"} if unsafe_fixes else {"safe"}
    todo = [r for r in reviews
            if not r.get("fix_tried") and any(i["fix"] in allowed for i in r["issues"])]
    if not todo:
        log("nothing more can be fixed")
        return {"fixes_applied": 0}
    base = project_base(Path(root))[0]
    names = {(Path(root, r["path"])).relative_to(base).as_posix(): r["path"] for r in todo}
    limits = {"max_complexity": max_complexity, "max_length": max_length,
              "max_params": max_params, "max_nesting": max_nesting}
    with scratch_folder() as folder:
        scratch = make_scratch(Path(folder), Path(root), [r["path"] for r in todo], bool(verify))
        fixed = collect(scratch, await ruff_fix(scratch, unsafe_fixes))
        if verify:
            fixed = await asyncio.to_thread(verified, scratch, fixed, verify, log)
        measured = await measure_files([str(scratch.base / name) for name in fixed], limits)
    changes = {names[name]: (change, measured[str(scratch.base / name)])
               for name, change in fixed.items()}
    updated, count = [], 0
    for review in reviews:
        if review in todo:
            review = {**review, "fix_tried": True}
        if review["path"] in changes:
            change, measures = changes[review["path"]]
            remaining = merge_issues(change.remaining, measures["issues"])
            fixes = describe_fixes(review["issues"], remaining, allowed)
            review = {**review, "fixes": fixes, "remaining": remaining,
                      "diff": unified_diff(review["path"], change.before, change.after)}
            count += len(fixes)
        updated.append(review)
    log(f"{count} fix(es) proposed in {len(changes)} file(s)")
    return {"reviews": updated, "fixes_applied": count}


def describe_fixes(issues: Sequence[Issue], remaining: Sequence[Issue],
                   allowed: set[str]) -> list[str]:
    """The issues (lines on disk) that the fixes remove: the fixable ones, less as many of each
    code as are still there after the fixes."""
    left = Counter(issue["code"] for issue in remaining if issue["fix"] in allowed)
    done = []
    for issue in issues:
        if issue["fix"] not in allowed:
            continue
        if left[issue["code"]]:
            left[issue["code"]] -= 1
            continue
        done.append(f"line {issue['line']}: {issue['code']} {issue['message']}")
    return done
