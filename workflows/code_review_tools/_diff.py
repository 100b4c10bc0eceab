"""Unified diffs of a file's text, and putting such a diff back onto the text it was made from.

The state holds no file sources, only the proposed fixes as diffs: the fixed text is rebuilt
from the file on disk and its diff when it is written (`apply`). Line endings are part of the
lines (`\\r\\n` stays `\\r\\n`), and a last line without one is marked as git marks it.
"""

from __future__ import annotations

import difflib
import re

from ._source import split_lines

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff `a/path` -> `b/path`; "" when nothing changed."""
    if before == after:
        return ""
    name = path.lstrip("/")
    out: list[str] = []
    for line in difflib.unified_diff(split_lines(before), split_lines(after), f"a/{name}",
                                     f"b/{name}", lineterm="\n"):
        if line.endswith(("\n", "\r")):
            out.append(line)
        else:
            out += [line + "\n", _NO_NEWLINE]
    return "".join(out)


def apply_diff(before: str, diff: str) -> str:
    """The text diff turns before into; ValueError if before is not the text it was made from."""
    old, lines = split_lines(before), split_lines(diff)
    out: list[str] = []
    position, index = 0, 0
    while index < len(lines) and not lines[index].startswith("@@"):
        index += 1
    while index < len(lines):
        hunk = _HUNK.match(lines[index])
        if hunk is None:
            raise ValueError(f"not a hunk header: {lines[index]!r}")
        start = int(hunk[1]) - (1 if hunk[2] is None or int(hunk[2]) else 0)
        if start < position:
            raise ValueError("hunks out of order")
        out += old[position:start]
        index, position = _apply_hunk(old, lines, index + 1, start, out)
    return "".join(out + old[position:])


def _apply_hunk(old: list[str], lines: list[str], index: int, position: int,
                out: list[str]) -> tuple[int, int]:
    """Apply the hunk body starting at lines[index] to old at position, appending to out;
    (the index of the next hunk, the position after the hunk in old)."""
    while index < len(lines) and not lines[index].startswith("@@"):
        tag, body = lines[index][:1], lines[index][1:]
        index += 1
        if tag == "\\":
            continue
        if index < len(lines) and lines[index] == _NO_NEWLINE:
            body = body[:-1]
        if tag in " -":
            if position >= len(old) or old[position] != body:
                raise ValueError(f"the text does not match the diff at line {position + 1}")
            position += 1
        if tag in " +":
            out.append(body)
    return index, position
