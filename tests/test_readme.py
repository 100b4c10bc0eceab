"""The README says what the code does: its diagrams are `wfe graph`'s real output.

Each block between `<!-- BEGIN wfe graph ARGS (...) -->` and `<!-- END wfe graph -->` must be what
`wfe graph ARGS` prints (at 100 columns, from the repository's root). When a workflow changes,
`WFE_UPDATE_GOLDEN=1 pytest tests/test_readme.py` rewrites the blocks; review the diff.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
UPDATE = os.environ.get("WFE_UPDATE_GOLDEN") == "1"
BLOCK = re.compile(r"(<!-- BEGIN wfe graph (?P<args>[^(]*?) \(.*?\) -->\n)```(?P<fence>\w+)\n"
                   r"(?P<body>.*?)```\n(?=<!-- END wfe graph -->)", re.DOTALL)


def graph_output(args: str) -> str:
    result = CliRunner().invoke(app, ["graph", *shlex.split(args)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return "".join(line.rstrip() + "\n" for line in result.stdout.splitlines())


def test_the_readme_has_its_generated_diagrams():
    found = [m["args"] for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]
    assert found == ["workflows/code_review.yaml",
                     "workflows/code_review.yaml --format mermaid"]


@pytest.mark.parametrize("args", [m["args"] for m in BLOCK.finditer(
    README.read_text(encoding="utf-8"))])
def test_a_readme_diagram_is_what_wfe_graph_prints(args, monkeypatch):
    monkeypatch.chdir(ROOT)
    expected = graph_output(args)
    text = README.read_text(encoding="utf-8")
    block = next(m for m in BLOCK.finditer(text) if m["args"] == args)
    if UPDATE and block["body"] != expected:
        start, end = block.span("body")
        README.write_text(text[:start] + expected + text[end:], encoding="utf-8")
        return
    assert block["body"] == expected, (
        f"the README's `wfe graph {args}` is out of date; regenerate it with "
        "WFE_UPDATE_GOLDEN=1 pytest tests/test_readme.py")
