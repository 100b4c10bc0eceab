"""Which files of a folder are reviewed: `.gitignore` rules, virtual environments, include/exclude.

The `.gitignore` subset implemented (as git documents it in gitignore(5)):

- blank lines and lines starting with `#` are ignored; `\\#` and `\\!` start a literal `#` / `!`;
  trailing spaces are dropped;
- `!pattern` re-includes what an earlier pattern excluded (the last matching pattern wins, and
  the rules of a deeper `.gitignore` come after those of its parents); a file inside an excluded
  folder cannot be re-included, because the folder is never entered;
- `pattern/` matches folders only;
- a pattern with a `/` at its start or in its middle is anchored to the folder of its
  `.gitignore`; any other pattern matches a name at any depth below it;
- `*` and `?` match within one path segment, `[...]` is a character class (`[!...]` negated);
  `**/` matches any number of leading folders, `/**` everything inside, `/**/` zero or more
  folders.

The `.gitignore` files read are those of the reviewed folder and its subfolders, plus those of
its parents up to the root of its git repository (the first folder holding `.git`); outside a
repository only the reviewed folder's own are read. Globs are translated to regular expressions
rather than matched with `fnmatch`, whose `*` also matches `/`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Folders never entered when a folder is reviewed (besides any holding `pyvenv.cfg`).
SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "__pycache__", "node_modules", "build", "dist", "site-packages"}
)
DEFAULT_INCLUDE = ("**/*.py",)


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


@dataclass(frozen=True, slots=True)
class Rule:
    """One `.gitignore` line: its regex over paths relative to `base` (an absolute POSIX path)."""

    base: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool
    source: str

    def matches(self, path: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if not path.startswith(self.base + "/"):
            return False
        return self.regex.fullmatch(path[len(self.base) + 1 :]) is not None


def parse_rule(line: str, base: str) -> Rule | None:
    """The rule of one `.gitignore` line, or None for a blank line or a comment."""
    line = line.rstrip("\n\r")
    stripped = line.rstrip(" \t")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "  # an escaped trailing space
    if not stripped or stripped.startswith("#"):
        return None
    negate = stripped.startswith("!")
    pattern = stripped[1:] if negate else stripped
    if pattern.startswith(("\\#", "\\!")):
        pattern = pattern[1:]
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        return None
    anchored = "/" in pattern
    regex = glob_regex(pattern.lstrip("/"))
    if not anchored:
        regex = "(?:.*/)?" + regex
    return Rule(base, re.compile(regex, re.DOTALL), negate, dir_only, stripped)


def read_rules(folder: Path) -> list[Rule]:
    """The rules of `folder/.gitignore` (none if it has none or it cannot be read)."""
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    base = folder.as_posix()
    return [rule for line in text.splitlines() if (rule := parse_rule(line, base))]


def parent_rules(folder: Path) -> list[Rule]:
    """The rules of the `.gitignore` files above folder, up to its repository's root, outermost
    first; none when folder is not inside a git repository."""
    parents: list[Path] = []
    for parent in folder.parents:
        parents.append(parent)
        if (parent / ".git").exists():
            return [rule for p in reversed(parents) for rule in read_rules(p)]
    return []


def is_ignored(rules: Iterable[Rule], path: str, is_dir: bool) -> bool:
    """Whether the last rule matching path excludes it."""
    ignored = False
    for rule in rules:
        if rule.matches(path, is_dir):
            ignored = not rule.negate
    return ignored


def is_venv(folder: Path) -> bool:
    return folder.name in SKIP_DIRS or (folder / "pyvenv.cfg").is_file()


def select_files(
    folder: Path, include: Sequence[str] = DEFAULT_INCLUDE, exclude: Sequence[str] = ()
) -> list[Path]:
    """The files under folder to review, sorted by relative path: not ignored by git, not in a
    virtual environment or `SKIP_DIRS`, matching an include glob and no exclude glob (globs
    over paths relative to folder; an exclude glob matching a folder skips it whole)."""
    root = folder.resolve()
    rules_of: dict[str, list[Rule]] = {root.as_posix(): parent_rules(root) + read_rules(root)}
    found: list[tuple[str, Path]] = []
    for current, dirs, names in os.walk(root):
        here = Path(current)
        rules = rules_of.pop(here.as_posix())
        dirs[:] = sorted(d for d in dirs if _keep(here / d, root, rules, (), exclude))
        for name in dirs:
            rules_of[(here / name).as_posix()] = rules + read_rules(here / name)
        found.extend(
            ((here / name).relative_to(root).as_posix(), here / name)
            for name in names
            if _keep(here / name, root, rules, include, exclude)
        )
    return [path for _, path in sorted(found)]


def _keep(
    path: Path, root: Path, rules: list[Rule], include: Sequence[str], exclude: Sequence[str]
) -> bool:
    """Whether to enter a folder (include is then empty) or review a file."""
    relative = path.relative_to(root).as_posix()
    is_dir = not include
    if is_dir and is_venv(path):
        return False
    if include and not any(glob_match(glob, relative) for glob in include):
        return False
    if any(glob_match(glob, relative) for glob in exclude):
        return False
    return not is_ignored(rules, path.as_posix(), is_dir)
