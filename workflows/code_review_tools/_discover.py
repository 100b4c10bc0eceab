"""Which files are reviewed, and, with `since`, which lines.

Files: ruff's own discovery (`.gitignore`, ruff's default excludes such as `.venv`, `dist` and
`site-packages`, the project's own `exclude`) under the reviewed folder, then wfe's `include` and
`exclude` globs over paths relative to that folder (`**` spans folders, an exclude that matches
a folder skips all of it). A folder that an include glob starts with (`dist/**/*.py`) is handed
to ruff by name, so it is searched even where ruff would skip it by default.

Lines: `since=REF` keeps the files git sees changed since REF (committed or not, and new files
git does not ignore), with the ranges of lines added or changed in each.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ._ruff import show_files

DEFAULT_INCLUDE = ("**/*.py",)
DEFAULT_EXCLUDE = ("build",)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
LineRanges = dict[str, list[list[int]]]


def glob_regex(pattern: str) -> str:
    """The regular expression of a gitignore-style glob over a relative POSIX path."""
    out: list[str] = []
    i, n = 0, len(pattern)
    if pattern == "**":
        return ".*"
    while i < n:
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:.*/)?")  # zero or more folders
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("/.*")  # everything inside
            i += 3
        elif pattern[i] == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append("[^/]*")
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := _class_end(pattern, i)) > 0:
            body = pattern[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("[" + ("^/" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif pattern[i] == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the class opened at start, or -1."""
    i = start + 1
    if i < len(pattern) and pattern[i] in "!^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1  # a leading ] is literal
    end = pattern.find("]", i)
    return end if end > 0 and "/" not in pattern[start:end] else -1


def glob_match(pattern: str, relative: str) -> bool:
    """Whether a relative POSIX path matches an include/exclude glob (`**` spans folders)."""
    return re.fullmatch(glob_regex(pattern.lstrip("/")), relative) is not None


def _literal_folder(pattern: str) -> str:
    """The folders a glob starts with before its first wildcard: `dist/**/*.py` -> `dist`."""
    parts = pattern.lstrip("/").split("/")[:-1]
    literal = []
    for part in parts:
        if any(c in part for c in "*?["):
            break
        literal.append(part)
    return "/".join(literal)


def _excluded(relative: str, exclude: Sequence[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(glob_match(glob, prefix) for glob in exclude for prefix in prefixes)


def select_files(
    root: Path, include: Sequence[str] = DEFAULT_INCLUDE, exclude: Sequence[str] = DEFAULT_EXCLUDE
) -> list[str]:
    """The files under root to review, as sorted POSIX paths relative to root."""
    folders = {root}
    for pattern in include:
        literal = _literal_folder(pattern)
        if literal and (root / literal).is_dir():
            folders.add(root / literal)
    found = set()
    for path in show_files(sorted(folders), root):
        relative = _under(path, root)
        if not relative or not any(glob_match(glob, relative) for glob in include):
            continue
        if not _excluded(relative, exclude):
            found.add(relative)
    return sorted(found)


def changed_lines(root: Path, ref: str) -> LineRanges:
    """The files under root changed since ref (paths relative to root) and their new lines."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    ranges: LineRanges = {}
    current: list[list[int]] | None = None
    for line in _git(root, "diff", "--unified=0", "--no-color", "--no-ext-diff", ref, "--",
                     ".").splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            current = None if name == "/dev/null" else ranges.setdefault(
                _under(top / name[2:], root), [])
        elif current is not None and (hunk := _HUNK.match(line)):
            start, count = int(hunk[1]), int(hunk[2] or 1)
            if count:
                current.append([start, start + count - 1])
    for name in _git(root, "ls-files", "--others", "--exclude-standard").splitlines():
        ranges[_under(root / name, root)] = [[1, 1 << 30]]
    return {path: spans for path, spans in ranges.items() if path and spans}


def _under(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return ""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise ValueError(f"since: git {args[0]} failed: {message}")
    return done.stdout


def on_changed_line(line: int, spans: Sequence[Sequence[int]], last: int | None = None) -> bool:
    """Whether lines line..last (last defaults to line) meet a changed span."""
    end = line if last is None else last
    return any(start <= end and line <= stop for start, stop in spans)
