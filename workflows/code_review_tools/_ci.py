"""What CI reads: SARIF 2.1.0 for code scanning, and GitHub workflow commands (annotations).

Paths are given relative to the current directory (the checkout, in CI), as code scanning and
annotations expect them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ._issues import CODES
from ._source import display_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
Review = Mapping[str, Any]


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


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file=, title=...): data escapes, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(root: str, reviews: Sequence[Review]) -> list[str]:
    """One `::warning file=...,line=...,col=...,title=...::message` line per issue."""
    lines = []
    for where, issue in _located(root, reviews):
        properties = ",".join([
            f"file={escape_property(where)}", f"line={int(issue['line'])}",
            f"col={int(issue['col'])}", f"title={escape_property(str(issue['code']))}"])
        lines.append(f"::{_COMMANDS[issue['severity']]} {properties}::"
                     f"{escape_data(str(issue['code']) + ' ' + str(issue['message']))}")
    return lines
