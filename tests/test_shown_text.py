"""What a tool, an error or a file puts in front of a person cannot drive their terminal or the
CI log: control, bidirectional and invisible characters are escaped, no line starts with `::`."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from wfe.render.live import LiveRenderer
from wfe.render.plain import PlainRenderer

HOSTILE = {
    "a terminal title": "\x1b]0;pwned\x07",
    "a screen clear": "\x1b[2J\x1b[H",
    "a bell": "ring\a",
    "a right-to-left override": "txt.\u202eexe",
    "a workflow command on its own line": "fine\n::error file=x.py::injected",
    "an indented workflow command": "fine\n   ::set-output name=x::y",
    "a carriage return over the line": "visible\rhidden",
}

TS = "2026-01-01T00:00:00.000Z"


def _events(text: str) -> list[dict[str, object]]:
    base = {"run_id": "r1", "ts": TS}
    return [
        {**base, "seq": 1, "event": "run_started", "workflow": "wf", "inputs": {}},
        {**base, "seq": 2, "event": "node_started", "node": "n", "step": 1, "attempt": 1},
        {**base, "seq": 3, "event": "log", "node": "n", "message": text},
        {**base, "seq": 4, "event": "node_failed", "node": "n", "step": 1, "attempt": 1,
         "error": {"type": "ValueError", "message": text}},
        {**base, "seq": 5, "event": "run_finished", "status": "failed", "state": {},
         "duration_ms": 1.0, "error": {"node": "n", "type": "ValueError", "message": text}},
    ]


def _assert_harmless(output: str) -> None:
    for char in "\x1b\x07\r\u202e":
        assert char not in output, f"{char!r} reached the output"
    assert not any(line.lstrip().startswith("::") for line in output.splitlines())


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_plain_renderer_shows_hostile_text_escaped(text: str) -> None:
    stream = io.StringIO()
    renderer = PlainRenderer(stream)
    for event in _events(text):
        renderer(event)
    _assert_harmless(stream.getvalue())
    assert "\\x1b" in stream.getvalue() or "\x1b" not in text


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_live_view_shows_hostile_text_escaped(text: str) -> None:
    renderer = LiveRenderer(["n"], "wf", Console(file=io.StringIO()), get_time=lambda: 0.0)
    for event in _events(text):
        renderer(event)
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=200,
                      legacy_windows=False, _environ={})
    console.print(renderer.renderable())
    assert isinstance(console.file, io.StringIO)
    _assert_harmless(console.file.getvalue())


HOSTILE_TOOLS = '''
from wfe import tool, log


@tool
def misbehave(text: str) -> dict:
    log(text)
    raise RuntimeError(text)
'''


def _wfe(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.run([sys.executable, "-m", "wfe", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_tool_cannot_drive_the_terminal_through_run_show_or_logs(tmp_path: Path) -> None:
    (tmp_path / "hostile_tools.py").write_text(HOSTILE_TOOLS)
    (tmp_path / "wf.yaml").write_text(
        "imports: [hostile_tools]\nstate: {text: str}\nnodes:\n  n: {tool: misbehave}\n")
    (tmp_path / "text.txt").write_text("\n".join(HOSTILE.values()))
    store = str(tmp_path / "wfe.db")
    run = _wfe("run", "wf.yaml", "-i", "text=@text.txt", "--store", store, cwd=tmp_path)
    assert run.returncode == 1
    run_id = _wfe("runs", "--json", "--store", store, cwd=tmp_path).stdout
    run_id = json.loads(run_id)[0]["run_id"]
    show = _wfe("show", run_id, "--store", store, cwd=tmp_path)
    logs = _wfe("logs", run_id, "--store", store, cwd=tmp_path)
    for output in (run.stderr, show.stdout, logs.stdout):
        _assert_harmless(output)
    assert "%3A:error" in logs.stdout



def test_a_workflow_name_is_shown_as_written_not_as_rich_markup(tmp_path: Path) -> None:
    (tmp_path / "hostile_tools.py").write_text(HOSTILE_TOOLS)
    (tmp_path / "wf.yaml").write_text('name: "[reverse]x[/reverse]"\nimports: [hostile_tools]\n'
                                      "nodes:\n  n: {tool: misbehave, with: {text: ok}}\n")
    store = str(tmp_path / "wfe.db")
    _wfe("run", "wf.yaml", "--store", store, cwd=tmp_path)
    run_id = json.loads(_wfe("runs", "--json", "--store", store, cwd=tmp_path).stdout)[0]
    show = _wfe("show", run_id["run_id"], "--store", store, cwd=tmp_path)
    runs = _wfe("runs", "--store", store, cwd=tmp_path)
    assert "[reverse]x[/reverse]" in show.stdout
    assert "[reverse]x" in runs.stdout
