"""`wfe run` on a terminal prints a short result, not the state (SPEC section 2); the state goes
to stdout only when stdout is not a terminal, or to `--output`."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wfe.cli.short_result import changed_keys, short_result, short_value, where_to_see
from wfe.engine.result import RunResult

FLOW = """
imports: [TOOLS]
state:
  n: {type: int, default: 0}
  files: {type: "list[str]", default: []}
  note: {type: str, default: ""}
  token: {type: str, default: "s3cret-value", secret: true}
nodes:
  work: {tool: work}
"""
TOOLS = """
@tool
def work(n: int) -> dict:
    print("working")
    return {"n": n + 1, "files": [f"src/module_{i}.py" for i in range(500)]}
"""


def run_on_terminal(*args: str | Path, cwd: Path) -> tuple[str, str, int]:
    """`wfe ARGS` with stdout on a pseudo-terminal (stderr a pipe: plain progress lines)."""
    main, attached = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wfe", *map(str, args)], stdout=attached,
        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    os.close(attached)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    _, err = process.communicate()
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    return out, err.decode(), process.returncode


@pytest.fixture
def flow(write_workflow: Any) -> Path:
    return write_workflow(FLOW, TOOLS)


def test_on_a_terminal_run_prints_a_short_result_not_the_state(flow: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    out, err, code = run_on_terminal("run", flow, "--store", db, cwd=tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    run_id = lines[0].split(" · ")[1].removeprefix("run ")
    assert lines[0].startswith(f"succeeded · run {run_id} · 1 step · ")
    assert lines[1:] == ["changed:", "  n      1", "  files  [500 items]",
                         f"the whole state: wfe show {run_id} --store {db}"]
    assert "src/module_" not in out and "s3cret" not in out


def test_on_a_terminal_output_gets_the_state_and_the_short_result_names_it(
        flow: Path, tmp_path: Path) -> None:
    out, err, code = run_on_terminal("run", flow, "--no-store", "--output", "state.json",
                                     cwd=tmp_path)
    assert code == 0, err
    assert out.splitlines()[-1] == "the whole state: state.json"
    assert json.loads((tmp_path / "state.json").read_text())["n"] == 1


@pytest.mark.parametrize("option", ["--quiet", "--json"])
def test_on_a_terminal_quiet_and_json_keep_their_stdout(
        flow: Path, tmp_path: Path, option: str) -> None:
    out, err, code = run_on_terminal("run", flow, "--no-store", option, cwd=tmp_path)
    assert code == 0, err
    if option == "--quiet":
        assert out == ""
    else:
        assert all(json.loads(line)["event"] for line in out.splitlines())


def test_not_on_a_terminal_the_state_is_on_stdout(flow: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "wfe", "run", str(flow), "--no-store"],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["files"]) == 500


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (3, "3"),
        ("short", '"short"'),
        ("x" * 100, '"' + "x" * 38 + "…"),
        (list(range(100)), "[100 items]"),
        ([1], "[1]"),
        ({f"k{i}": i for i in range(20)}, "{20 keys}"),
        (None, "null"),
    ],
)
def test_a_changed_value_is_shown_when_short_else_its_size(value: Any, shown: str) -> None:
    assert short_value(value) == shown


def test_changed_keys_are_the_new_and_different_ones_in_state_order() -> None:
    assert changed_keys({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "c": 3, "d": 0}) == ["b", "d"]


def test_past_eight_changed_keys_the_rest_are_counted() -> None:
    after = {f"key{i}": i for i in range(11)}
    result = RunResult("01run", "failed", after, steps=2, duration_ms=12)
    text = short_result(result, {}, after, show="wfe show 01run")
    lines = text.splitlines()
    assert lines[0] == "failed · run 01run · 2 steps · 12 ms"
    assert lines[-2:] == ["  and 3 more", "the whole state: wfe show 01run"]
    assert len(lines) == 1 + 1 + 8 + 2


def test_nothing_changed_says_so() -> None:
    result = RunResult("01run", "succeeded", {"a": 1})
    assert short_result(result, {"a": 1}, {"a": 1}, show="x").splitlines()[1] == "changed: nothing"


@pytest.mark.parametrize(
    ("stored", "store", "output", "where"),
    [
        (True, None, None, "wfe show 01run"),
        (True, Path("x.db"), None, "wfe show 01run --store x.db"),
        (False, None, None, "not stored; run again with --output FILE, or with stdout redirected"),
        (False, None, Path("out.json"), "out.json"),
    ],
)
def test_the_short_result_says_where_the_whole_state_is(
        stored: bool, store: Path | None, output: Path | None, where: str) -> None:
    assert where_to_see("01run", stored=stored, store=store, output=output) == where


def test_a_changed_value_cannot_drive_the_terminal() -> None:
    after = {"note": "\x1b]0;owned\x07"}
    text = short_result(RunResult("01run", "succeeded", after), {}, after, show="x")
    assert "\x1b" not in text and "\x07" not in text
