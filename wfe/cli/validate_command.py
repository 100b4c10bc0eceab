"""`wfe validate`: report formats (text, json, github, sarif) and the exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from wfe.errors import PROBLEM_CODES, Problem
from wfe.graph.validate import as_strict, missing_target, validate_files, workflow_files

Format = Literal["text", "json", "github", "sarif"]
DEFAULT_TARGET = Path("workflows")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def run_validate(
    targets: list[Path], output: Format, strict: bool, imports: list[str]
) -> int:
    targets = targets or [DEFAULT_TARGET]
    problems = [missing_target(t) for t in targets if not t.exists()]
    files = workflow_files([t for t in targets if t.exists()])
    problems += validate_files(files, imports)
    if strict:
        problems = as_strict(problems)
    problems.sort(key=Problem.sort_key)
    sys.stdout.write(FORMATTERS[output](problems, len(files)))
    return 2 if any(p.severity == "error" for p in problems) else 0


def text_report(problems: list[Problem], checked: int) -> str:
    lines = [p.format() for p in problems]
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    noun = "file" if checked == 1 else "files"
    lines.append(f"{checked} {noun} checked: {_count(errors, 'error')}, "
                 f"{_count(warnings, 'warning')}")
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _as_dict(problem: Problem) -> dict[str, Any]:
    loc = problem.location
    return {"path": loc.file, "line": loc.line, "col": loc.col, "severity": problem.severity,
            "code": problem.code, "message": problem.message}


def json_report(problems: list[Problem], checked: int) -> str:
    return json.dumps([_as_dict(p) for p in problems], indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_report(problems: list[Problem], checked: int) -> str:
    """GitHub Actions workflow commands, so problems show inline on a pull request."""
    lines = []
    for p in problems:
        loc = p.location
        props = f"file={_escape_property(loc.file)},line={loc.line},col={loc.col}"
        props += f",title={_escape_property(p.code)}"
        lines.append(f"::{p.severity} {props}::{_escape_data(p.message)}")
    return "".join(line + "\n" for line in lines)


def sarif_report(problems: list[Problem], checked: int) -> str:
    """SARIF 2.1.0, for GitHub code scanning."""
    # deferred: the version is read with importlib.metadata (~15 ms), for --format sarif only
    from wfe import __version__

    rules = [{"id": code, "shortDescription": {"text": text}}
             for code, text in PROBLEM_CODES.items()]
    results = [
        {
            "ruleId": p.code,
            "level": p.severity,
            "message": {"text": p.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": Path(p.location.file).as_posix()},
                "region": {"startLine": max(p.location.line, 1),
                           "startColumn": max(p.location.col, 1)},
            }}],
        }
        for p in problems
    ]
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "wfe", "version": __version__, "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(document, indent=2) + "\n"


FORMATTERS = {"text": text_report, "json": json_report, "github": github_report,
              "sarif": sarif_report}
