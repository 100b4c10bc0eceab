"""The fixes: ruff's own (`--fix`, and `--unsafe-fixes` when asked), made in a scratch copy.

The files are never fixed where they are. The files to fix are copied under a scratch folder at
their place relative to the project (the folder of its ruff configuration, else the reviewed
folder) and ruff fixes them there with the same rules; a fixed file that no longer parses is put
back as it was. With `verify`, the whole project is copied (without `.git`, virtual environments
and caches) and the command runs in the copy: when it fails with every fix made, the files are
split in halves and each half tried again, down to single files, and only the fixes under which
the command passes are kept (provided it passes with no fix at all).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import _ruff
from ._issues import Issue
from ._source import decode_source

#: Seconds one run of the verify command may take; a run that takes longer fails.
VERIFY_TIME_LIMIT = 1800.0
_NOT_COPIED = shutil.ignore_patterns(".git", ".hg", "__pycache__", ".ruff_cache", ".mypy_cache",
                                     ".pytest_cache", ".venv", "venv", ".tox", ".nox",
                                     "node_modules", "*.orig", ".wfe")


@dataclass
class Fixed:
    """One file's fixes: its text before and after, and ruff's issues left in the fixed text."""

    before: str
    after: str
    remaining: list[Issue] = field(default_factory=list)


@dataclass
class Scratch:
    """A scratch copy of the project: where each file to fix is, and its text on disk."""

    base: Path
    config: Path
    originals: dict[str, bytes]  # relative to base -> the bytes on disk

    def write(self, relative: str, data: bytes) -> None:
        (self.base / relative).write_bytes(data)


def project_base(root: Path) -> tuple[Path, Path]:
    """(the project's folder, the ruff configuration to fix with) for a reviewed folder."""
    config = _ruff.project_config(root)
    if config is None:
        return root, _ruff.BUNDLED_CONFIG
    return config.parent, config


def make_scratch(folder: Path, root: Path, files: Sequence[str], whole: bool) -> Scratch:
    """Copy the files (paths relative to root) into folder, or the whole project when whole."""
    base, config = project_base(root)
    target = folder / "project"
    if whole:
        shutil.copytree(base, target, symlinks=True, ignore=_NOT_COPIED)
    originals: dict[str, bytes] = {}
    for name in files:
        relative = (root / name).relative_to(base).as_posix()
        data = (root / name).read_bytes()
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(data)
        originals[relative] = data
    return Scratch(target, config, originals)


async def ruff_fix(scratch: Scratch, unsafe: bool) -> dict[str, list[Issue]]:
    """Let ruff fix the scratch files; the issues left, by path relative to the scratch base."""
    args = ["--fix", *(["--unsafe-fixes"] if unsafe else []), "--no-cache",
            "--config", str(scratch.config)]
    found = await _ruff.check(sorted(scratch.originals), args, cwd=str(scratch.base))
    return {Path(name).relative_to(scratch.base.resolve()).as_posix(): issues
            for name, issues in found.items() if Path(name).is_relative_to(scratch.base.resolve())}


def collect(scratch: Scratch, remaining: dict[str, list[Issue]]) -> dict[str, Fixed]:
    """The files ruff changed and that still parse (the others are put back as they were)."""
    fixed: dict[str, Fixed] = {}
    for relative, data in scratch.originals.items():
        after_bytes = (scratch.base / relative).read_bytes()
        if after_bytes == data:
            continue
        before, encoding = decode_source(data)
        after = after_bytes.decode(encoding)
        if _parses(before) and not _parses(after):
            scratch.write(relative, data)
            continue
        fixed[relative] = Fixed(before, after, remaining.get(relative, []))
    return fixed


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def verified(scratch: Scratch, fixed: dict[str, Fixed], command: str,
             log: Callable[[str], None]) -> dict[str, Fixed]:
    """The fixes under which command passes in the scratch project (see the module docstring)."""
    names = sorted(fixed)
    if _passes(scratch, fixed, names, command):
        return fixed
    if not _passes(scratch, fixed, [], command):
        log(f"verify: `{command}` fails with no fix made either; no fix kept")
        return {}
    kept: list[str] = []
    pending = [names]
    while pending:
        group = pending.pop(0)
        if _passes(scratch, fixed, kept + group, command):
            kept += group
        elif len(group) > 1:
            middle = len(group) // 2
            pending[:0] = [group[:middle], group[middle:]]
        else:
            log(f"verify: the fixes of {group[0]} make `{command}` fail; not kept")
    _set(scratch, fixed, kept)
    return {name: fixed[name] for name in kept}


def _set(scratch: Scratch, fixed: dict[str, Fixed], names: Sequence[str]) -> None:
    """Make the scratch copy hold the fixed text of names, and the original of the others."""
    chosen = set(names)
    for name, change in fixed.items():
        data = scratch.originals[name]
        if name in chosen:
            _, encoding = decode_source(data)
            data = change.after.encode(encoding)
        scratch.write(name, data)


def _passes(scratch: Scratch, fixed: dict[str, Fixed], names: Sequence[str], command: str) -> bool:
    _set(scratch, fixed, names)
    try:
        done = subprocess.run(command, shell=True, cwd=scratch.base, capture_output=True,
                              timeout=VERIFY_TIME_LIMIT, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="wfe-review-")
