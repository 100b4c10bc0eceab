"""The Rich summary printed on a terminal after a review (per file: score, worst function,
issues by severity; then the overall score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ._markdown import severity_counts, worst_functions


def summary_table(reviews: Sequence[Mapping[str, Any]]) -> Table:
    """One row per file: score, worst function and its complexity, issues by severity."""
    table = Table(box=box.SIMPLE_HEAD, title="Code review", title_justify="left")
    table.add_column("File", overflow="fold")
    table.add_column("Score", justify="right")
    table.add_column("Worst function", overflow="fold")
    table.add_column("Cx", justify="right")
    table.add_column("Errors", justify="right")
    table.add_column("Warnings", justify="right")
    table.add_column("Info", justify="right")
    for review in reviews:
        worst = worst_functions(review, 1)
        name = str(worst[0]["qualname"]) if worst else "-"
        complexity = str(worst[0]["complexity"]) if worst else "-"
        counts = severity_counts(review)
        score = float(review.get("score", 0.0))
        style = "green" if score >= 7 else "yellow" if score >= 4 else "red"
        table.add_row(
            str(review["path"]),
            f"[{style}]{score:.2f}[/]",
            name,
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
