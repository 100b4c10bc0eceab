"""The last node of the review: write the fixes in place (`-i apply=true`), the Markdown report
(`-i report=FILE`), and on a terminal a Rich summary."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wfe import log, tool

from ._markdown import render_markdown
from ._source import decode_source


@tool
def report_review(
    files: list[dict[str, Any]],
    reviews: list[dict[str, Any]],
    quality_score: float,
    threshold: float = 7.0,
    summary: str = "",
    apply: bool = False,
    report: str = "",
) -> dict[str, Any]:
    """Apply the fixes if asked, write the report if asked, show the summary on a terminal."""
    applied = write_fixes(files) if apply else []
    if report:
        target = Path(report).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_markdown(reviews, quality_score, threshold, summary), "utf-8")
        log(f"report written to {target.as_posix()}")
    if sys.stderr.isatty():
        # Imported here: rich's import costs `wfe validate` ~30 ms, and only a terminal needs it.
        from rich.console import Console

        from ._summary import print_summary

        print_summary(Console(stderr=True), reviews, quality_score, threshold)
    return {"applied": applied}


def write_fixes(files: Sequence[Mapping[str, Any]]) -> list[str]:
    """Write each fixed file in place, keeping its original beside it; the paths written.

    A file is written only when its text on disk is still the text that was reviewed.
    """
    applied: list[str] = []
    for file in files:
        original, fixed = file.get("original"), str(file["source"])
        if original is None or fixed == original:
            continue
        path = Path(str(file["path"]))
        if write_fixed(path, str(original), fixed):
            applied.append(str(file["path"]))
    if applied:
        log(f"fixes written to {len(applied)} file(s)")
    return applied


def write_fixed(path: Path, original: str, fixed: str) -> bool:
    """Replace path's text original with fixed, keeping the old bytes in a new `.orig` file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        log(f"{path.as_posix()}: not written, cannot read it ({error.strerror})")
        return False
    text, encoding = decode_source(data)
    if text != original:
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
