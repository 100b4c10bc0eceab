"""The last nodes of the review: write the fixes in place (`-i apply=true`), the Markdown report
(`-i report=FILE`), SARIF (`-i sarif=FILE`), GitHub annotations (`-i annotations=true`), on a
terminal a Rich summary. The CI gate (`-i fail_under=N`) is the workflow's `fail:` node."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wfe import annotate, log, tool
from wfe import console as live_console

from ._ci import annotations_of, write_sarif
from ._diff import apply_diff
from ._markdown import render_markdown
from ._source import decode_source

if TYPE_CHECKING:
    from rich.console import Console


@tool
def report_review(
    root: str,
    reviews: list[dict[str, Any]],
    quality_score: float,
    threshold: float = 7.0,
    summary: str = "",
    apply: bool = False,
    report: str = "",
    sarif: str = "",
    annotations: bool = False,
) -> dict[str, Any]:
    """Apply the fixes if asked, write the report and SARIF if asked, show the summary."""
    applied = write_fixes(root, reviews) if apply else []
    if report:
        target = Path(report).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_markdown(reviews, quality_score, threshold, summary), "utf-8")
        log(f"report written to {target.as_posix()}")
    if sarif:
        write_sarif(Path(sarif).expanduser(), root, reviews)
        log(f"SARIF written to {sarif}")
    if annotations:
        for found in annotations_of(root, reviews):
            annotate(found.level, found.message, file=found.file, line=found.line,
                     col=found.col, title=found.title)
    console = summary_console()
    if console is not None:
        from ._summary import print_summary

        print_summary(console, reviews, quality_score, threshold)
    return {"applied": applied}


def summary_console() -> Console | None:
    """Where the summary goes: during `wfe run` on a terminal, the live view's console (above
    the view, never overwritten by it); called outside a run, stderr if it is a terminal."""
    console = live_console()
    if console is None and sys.stderr.isatty():
        # Imported here: rich's import costs `wfe validate` ~30 ms, and only a terminal needs it.
        from rich.console import Console

        console = Console(stderr=True)
    return console


def write_fixes(root: str, reviews: Sequence[Mapping[str, Any]]) -> list[str]:
    """Write each file's proposed fixes in place, keeping its original beside it; the paths
    written. A file is written only when its text on disk is still the text that was reviewed."""
    applied: list[str] = []
    for review in reviews:
        diff = str(review.get("diff") or "")
        path = Path(root, str(review["path"]))
        if diff and write_fixed(path, diff, str(review.get("digest", ""))):
            applied.append(str(review["path"]))
    if applied:
        log(f"fixes written to {len(applied)} file(s)")
    return applied


def write_fixed(path: Path, diff: str, digest: str) -> bool:
    """Apply diff to path's text, keeping the old bytes in a new `.orig` file; only if the
    bytes on disk are still those reviewed (their SHA-256 is digest)."""
    try:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("changed")
        text, encoding = decode_source(data)
        fixed = apply_diff(text, diff)
    except OSError as error:
        log(f"{path.as_posix()}: not written, cannot read it ({error.strerror})")
        return False
    except (ValueError, SyntaxError):
        log(f"{path.as_posix()}: not written, it changed on disk since it was reviewed")
        return False
    backup = keep_original(path, data)
    temporary = path.with_name(f".{path.name}.wfe-apply")
    temporary.write_bytes(fixed.encode(encoding))
    shutil.copymode(path, temporary)
    os.replace(temporary, path)
    log(f"{path.as_posix()}: fixes written, original kept as {backup.name}")
    return True


def keep_original(path: Path, data: bytes) -> Path:
    """Write data to `FILE.orig`, or `FILE.orig.1`, `.orig.2`... never overwriting a file."""
    candidates = [path.with_name(path.name + ".orig")]
    for n in range(1, 1000):
        candidates.append(path.with_name(f"{path.name}.orig.{n}"))
    for candidate in candidates:
        try:
            with candidate.open("xb") as stream:
                stream.write(data)
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"{path}: no free name for a backup ({candidates[-1].name} exists)")
