"""The Rich summary printed on a terminal after a review (per file, worst first: score, worst
function, issues by severity; then the overall score). Paths are relative to the reviewed folder
and never wrapped mid-word (a long one ends in an ellipsis), and files beyond `ROWS` are
counted, not listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._markdown import severity_counts, worst_first, worst_functions

ROWS = 20


def summary_table(reviews: Sequence[Mapping[str, Any]]) -> Table:
    """One row per file, worst first: score, worst function and its complexity, issues."""
    ordered = worst_first(reviews)
    hidden = len(ordered) - ROWS
    caption = f"{hidden} more file(s) score higher" if hidden > 0 else None
    table = Table(box=box.SIMPLE_HEAD, title="Code review", title_justify="left",
                  caption=caption, caption_justify="left")
    table.add_column("File", overflow="ellipsis", no_wrap=True, ratio=3)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Worst function", overflow="ellipsis", no_wrap=True, ratio=2)
    table.add_column("Cx", justify="right", no_wrap=True)
    table.add_column("Err", justify="right", no_wrap=True)
    table.add_column("Warn", justify="right", no_wrap=True)
    table.add_column("Info", justify="right", no_wrap=True)
    for review in ordered[:ROWS]:
        worst = worst_functions(review, 1)
        name = str(worst[0]["qualname"]) if worst else "-"
        complexity = str(worst[0]["complexity"]) if worst else "-"
        counts = severity_counts(review)
        score = float(review.get("score", 0.0))
        style = "green" if score >= 7 else "yellow" if score >= 4 else "red"
        table.add_row(
            Text(str(review["path"])),
            f"[{style}]{score:.2f}[/]",
            Text(name),
            complexity,
            str(counts["error"]),
            str(counts["warning"]),
            str(counts["info"]),
        )
    return table


def print_summary(
    console: Console,
    reviews: Sequence[Mapping[str, Any]],
    quality_score: float,
    threshold: float,
) -> None:
    """Print the table and the overall score on console."""
    console.print(summary_table(reviews))
    verdict = "reaches" if quality_score >= threshold else "is below"
    style = "green" if quality_score >= threshold else "red"
    console.print(
        f"[bold]quality [{style}]{quality_score:.2f}/10[/][/bold] {verdict} the threshold "
        f"{threshold:g}",
        highlight=False,
    )
