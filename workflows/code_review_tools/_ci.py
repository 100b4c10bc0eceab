"""What CI reads: SARIF 2.1.0 for code scanning, and GitHub workflow commands (annotations).

Paths are given relative to the current directory (the checkout, in CI), as code scanning and
annotations expect them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ._issues import CODES
from ._source import display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
Review = Mapping[str, Any]


class Annotation(NamedTuple):
    """A finding as CI shows it beside the code."""

    level: str
    message: str
    file: str
    line: int
    col: int
    title: str


def _located(root: str, reviews: Sequence[Review]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for review in reviews:
        where = display_path(Path(root, str(review["path"])))
        for issue in review["issues"]:
            yield where, issue


def sarif(root: str, reviews: Sequence[Review]) -> dict[str, Any]:
    """A SARIF 2.1.0 log of the issues (lines of the files on disk)."""
    results: list[dict[str, Any]] = []
    rules: dict[str, dict[str, Any]] = {}
    for where, issue in _located(root, reviews):
        code = str(issue["code"])
        rules.setdefault(code, {"id": code, "shortDescription": {
            "text": CODES[code][1] if code in CODES else f"ruff rule {code}"}})
        results.append({
            "ruleId": code,
            "level": _SARIF_LEVELS[issue["severity"]],
            "message": {"text": str(issue["message"])},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": where},
                "region": {"startLine": int(issue["line"]), "startColumn": int(issue["col"])},
            }}],
        })
    driver = {"name": "wfe-code-review", "informationUri": "https://docs.astral.sh/ruff/",
              "rules": [rules[code] for code in sorted(rules)]}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "results": results}]}


def write_sarif(target: Path, root: str, reviews: Sequence[Review]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(sarif(root, reviews), indent=1) + "\n", "utf-8")


def annotations_of(root: str, reviews: Sequence[Review]) -> list[Annotation]:
    """One annotation per issue: its level, place and text, for `wfe.annotate` (which escapes
    it into a workflow command, so a message can never inject one of its own)."""
    return [Annotation(_COMMANDS[issue["severity"]], f"{issue['code']} {issue['message']}",
                       where, int(issue["line"]), int(issue["col"]), str(issue["code"]))
            for where, issue in _located(root, reviews)]
