"""ruff, as the review runs it: its file discovery, its findings and its fixes.

The rules: the reviewed project's own ruff configuration when it has one (a `ruff.toml`,
`.ruff.toml`, or `pyproject.toml` with a `[tool.ruff]` table in its folder or a parent, found the
way ruff finds it), with its `# noqa` comments, excludes and per-file ignores; else the rule set
bundled beside this module (`review_rules.toml`, listed in the README). ruff never writes its
cache into the reviewed project (`--no-cache`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from ._issues import FixApplicability, Issue, make_issue

BUNDLED_CONFIG = Path(__file__).with_name("review_rules.toml")
_CONFIG_NAMES = (".ruff.toml", "ruff.toml", "pyproject.toml")
_APPLICABILITY: dict[str | None, FixApplicability] = {"safe": "safe", "unsafe": "unsafe"}
#: Seconds ruff may take over one batch of files (it lints pip's 150k lines in ~0.3 s), before
#: each file is checked on its own, with FILE_TIME_LIMIT seconds each.
BATCH_TIME_LIMIT = 120.0
FILE_TIME_LIMIT = 20.0


class RuffMissing(RuntimeError):
    """ruff is not installed where the review runs."""


@cache
def ruff_binary() -> str:
    """The path of the ruff executable installed with the `ruff` package."""
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        raise RuffMissing(
            "the code review needs ruff: pip install -e '.[review]' (or pip install ruff)"
        ) from None
    return str(find_ruff_bin())


def project_config(start: Path) -> Path | None:
    """The ruff configuration that applies at start (a folder), or None."""
    for folder in (start, *start.parents):
        for name in _CONFIG_NAMES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml" or _has_ruff_table(candidate):
                return candidate
    return None


def _has_ruff_table(pyproject: Path) -> bool:
    try:
        return "[tool.ruff" in pyproject.read_text("utf-8", "replace")
    except OSError:
        return False


def config_args(root: Path) -> list[str]:
    """The options that choose the rules for files under root (see the module docstring)."""
    base = ["--no-cache"]
    return base if project_config(root) else [*base, "--config", str(BUNDLED_CONFIG)]


def show_files(paths: Sequence[Path], root: Path) -> list[Path]:
    """The Python files ruff would check under paths: its own discovery (`.gitignore`, its
    default excludes, the project's `exclude`)."""
    done = subprocess.run(
        [ruff_binary(), "check", "--show-files", *config_args(root), *map(str, paths)],
        capture_output=True, text=True, check=False, timeout=BATCH_TIME_LIMIT)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"ruff could not list the files: {_first_line(done.stderr)}")
    return [Path(line) for line in done.stdout.splitlines() if line.strip()]


async def check(
    paths: Sequence[str], args: Sequence[str], *, cwd: str | None = None,
    time_limit: float = BATCH_TIME_LIMIT,
) -> dict[str, list[Issue]]:
    """ruff's issues for each of paths, by the file name ruff reports (absolute).

    If ruff fails or runs out of time on the batch, each file is checked on its own (for at most
    FILE_TIME_LIMIT seconds), and one that still fails gets a CR018 issue.
    """
    found = await _check_batch(paths, args, cwd, time_limit)
    if found is not None:
        return found
    results: dict[str, list[Issue]] = {}
    for path in paths:
        one = await _check_batch([path], args, cwd, min(time_limit, FILE_TIME_LIMIT))
        if one is None:
            results[str(Path(cwd or ".", path).resolve())] = [
                make_issue(1, 1, "CR018", "ruff failed on this file")]
        else:
            results.update(one)
    return results


async def _check_batch(
    paths: Sequence[str], args: Sequence[str], cwd: str | None, time_limit: float
) -> dict[str, list[Issue]] | None:
    if not paths:
        return {}
    process = await asyncio.create_subprocess_exec(
        ruff_binary(), "check", "--output-format", "json", "--exit-zero", *args, "--", *paths,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=cwd)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), time_limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None
    if process.returncode != 0:
        return None
    results: dict[str, list[Issue]] = {}
    for entry in json.loads(out or b"[]"):
        results.setdefault(entry["filename"], []).append(to_issue(entry))
    return results


def to_issue(entry: dict[str, Any]) -> Issue:
    """An issue from one entry of `ruff check --output-format json`."""
    fix = entry.get("fix") or {}
    location = entry.get("location") or {"row": 1, "column": 1}
    issue = make_issue(int(location["row"]), int(location["column"]),
                       str(entry.get("code") or "invalid-syntax"), str(entry["message"]),
                       _APPLICABILITY.get(fix.get("applicability"), "none"))
    if fix.get("message"):
        issue["detail"] = {"fix": str(fix["message"])}
    return issue


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "no message")
