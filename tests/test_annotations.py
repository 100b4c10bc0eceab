"""Annotations: a tool's findings placed on a file's line, written for CI as workflow commands
that wfe builds and escapes itself, so a finding's text can never start a command of its own."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wfe.render import make_renderer
from wfe.render._format import workflow_command

TOOLS = '''
import wfe

@wfe.tool
def find(ctx) -> None:
    wfe.annotate("warning", "unused import", file="src/m.py", line=3, col=8, title="F401")
    ctx.annotate("error", "evil\\n::error::injected", file="a,b:c.py", line=1)
    wfe.log("plain line")
'''


def test_an_annotation_is_a_log_event_with_its_place(make_workflow: Callable[..., Any]) -> None:
    events: list[dict[str, Any]] = []
    make_workflow("imports: [TOOLS]\nnodes:\n  f: {tool: find}\n", TOOLS).run(
        listeners=[events.append])
    logs = [(e["message"], e.get("annotation")) for e in events if e["event"] == "log"]
    assert logs == [
        ("unused import", {"level": "warning", "file": "src/m.py", "line": 3, "col": 8,
                           "title": "F401"}),
        ("evil\n::error::injected", {"level": "error", "file": "a,b:c.py", "line": 1}),
        ("plain line", None),
    ]


@pytest.mark.parametrize(("annotation", "message", "line"), [
    ({"level": "warning", "file": "src/m.py", "line": 3, "col": 8, "title": "F401"},
     "unused", "::warning file=src/m.py,line=3,col=8,title=F401::unused"),
    ({"level": "error"}, "100% sure\r\n::error::injected",
     "::error::100%25 sure%0D%0A::error::injected"),
    ({"level": "notice", "file": "a,b:c.py", "end_line": 4}, "x",
     "::notice file=a%2Cb%3Ac.py,endLine=4::x"),
    ({"level": "warning", "title": "\x1b]0;pwned\x07"}, "\x1b[2J",
     "::warning title=\\x1b]0;pwned\\x07::\\x1b[2J"),
])
def test_a_workflow_command_is_escaped_so_its_text_cannot_start_another(
        annotation: dict[str, Any], message: str, line: str) -> None:
    command = workflow_command(annotation, message)
    assert command == line
    assert "\n" not in command and "\r" not in command


@pytest.mark.parametrize(("level", "place", "reason"), [
    ("fatal", {}, "level must be one of"),
    ("warning", {"line": 0}, "line must be a whole number"),
    ("warning", {"col": True}, "col must be a whole number"),
])
def test_a_bad_annotation_fails_its_tool(level: str, place: dict[str, Any], reason: str) -> None:
    from wfe.tools.annotations import make_annotation

    with pytest.raises(ValueError, match=reason):
        make_annotation(level, **place)


@pytest.mark.parametrize("mode", ["plain", "quiet"])
def test_plain_and_quiet_output_write_annotations_as_workflow_commands(mode: str) -> None:
    stream = io.StringIO()
    renderer = make_renderer(mode, stream=stream)  # type: ignore[arg-type]
    renderer({"event": "log", "node": "f", "message": "unused", "ts": "2026-01-01T00:00:00Z",
              "annotation": {"level": "warning", "file": "m.py", "line": 2}})
    renderer({"event": "log", "node": "f", "message": "::error::raw", "ts": "2026-01-01T00:00:00Z"})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "::warning file=m.py,line=2::unused"
    assert all(not line.startswith("::error") for line in lines)


def test_a_tool_that_prints_a_command_cannot_reach_ci_but_its_annotation_does(
        tmp_path: Path) -> None:
    (tmp_path / "tools.py").write_text(
        "import wfe\n@wfe.tool\ndef find() -> None:\n    print('::error::printed')\n"
        "    wfe.annotate('warning', 'found', file='m.py', line=1)\n")
    flow = tmp_path / "flow.yaml"
    flow.write_text("imports: [tools]\nnodes:\n  f: {tool: find}\n")
    done = subprocess.run([sys.executable, "-m", "wfe", "run", str(flow), "--no-store"],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).splitlines()
    assert "::warning file=m.py,line=1::found" in lines
    assert not any(line.startswith("::error") for line in lines)
