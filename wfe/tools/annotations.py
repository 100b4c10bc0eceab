"""Annotations: findings a tool attaches to a line of a file, which CI shows beside the code.

A tool calls `wfe.annotate("warning", "unused import", file="src/m.py", line=3)` (or
`ctx.annotate(...)`); the run emits a `log` event whose `message` is the human text and whose
`annotation` holds the level and place. When wfe writes plain lines (not a terminal, not
`--json`), each annotation is also written as a GitHub Actions workflow command,
`::warning file=src/m.py,line=3::unused import`, built by wfe.render and escaped as GitHub specifies
(`%25`, `%0D`, `%0A` in the message; also `%3A` and `%2C` in a property), so a finding's text can
never start a command of its own. A tool's own printed text never reaches stdout raw (see
wfe.tools.context), so this is the one way a workflow command leaves a run.
"""

from __future__ import annotations

from typing import Final, Literal, TypedDict, cast

Level = Literal["notice", "warning", "error"]
LEVELS: Final = ("notice", "warning", "error")


class Annotation(TypedDict, total=False):
    """Where a finding is, and how serious: `level` always, the rest when known."""

    level: Level
    file: str
    line: int
    col: int
    end_line: int
    title: str


def make_annotation(level: str, *, file: str | None = None, line: int | None = None,
                    col: int | None = None, end_line: int | None = None,
                    title: str | None = None) -> Annotation:
    """A checked annotation: a known level, positive whole numbers for the place."""
    if level not in LEVELS:
        raise ValueError(f"annotation level must be one of {', '.join(LEVELS)}, not {level!r}")
    annotation: Annotation = {"level": cast(Level, level)}
    for key, number in (("line", line), ("col", col), ("end_line", end_line)):
        if number is not None:
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ValueError(f"annotation {key} must be a whole number from 1, "
                                 f"not {number!r}")
            annotation[key] = number  # type: ignore[literal-required]
    if file is not None:
        annotation["file"] = str(file)
    if title is not None:
        annotation["title"] = str(title)
    return annotation
