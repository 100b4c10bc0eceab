"""Hostile inputs and surroundings at run time: files that never end, stores in odd places,
tools that print or never yield. Each case is answered with one line and its exit code."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FLOW = """
imports: [TOOLS]
state:
  note: {type: str, default: ""}
nodes:
  a: {tool: keep}
"""
TOOLS = """
@tool
def keep(note: str) -> dict:
    return {"note": note[:10]}
"""
#: Enough for wfe, far too little for a reader that never stops.
MEMORY_CAP = 1 << 30


def _capped_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_wfe(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`wfe ARGS` in a process of its own, its memory capped; the timeout only stops a hang."""
    return subprocess.run([sys.executable, "-m", "wfe", *map(str, args)], capture_output=True,
                          text=True, timeout=60, cwd=cwd, preexec_fn=_capped_memory)


@pytest.fixture
def flow(write_workflow: Callable[..., Path]) -> Path:
    return write_workflow(FLOW, TOOLS)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "inputs.yaml.fifo"
    os.mkfifo(path)
    return path


@pytest.fixture
def oversized(tmp_path: Path) -> Path:
    path = tmp_path / "huge.txt"
    with path.open("wb") as stream:
        stream.truncate(10 * 1024 * 1024 + 1)  # sparse: costs no disk
    return path


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/dev/zero", "not a regular file"),
        ("fifo", "not a regular file"),
        ("folder", "not a regular file"),
        ("oversized", "larger than 10485760 bytes"),
    ],
)
def test_a_file_value_that_is_not_a_small_regular_file_is_refused(
    flow: Path, request: pytest.FixtureRequest, tmp_path: Path, source: str, message: str
) -> None:
    path = {"fifo": lambda: request.getfixturevalue("fifo"), "folder": lambda: tmp_path,
            "oversized": lambda: request.getfixturevalue("oversized")}.get(
        source, lambda: Path(source))()
    result = run_wfe("run", flow, "--no-store", "-i", f"note=@{path}")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: -i note=@{path}: ")
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_an_inputs_file_that_is_not_a_regular_file_is_refused(
    flow: Path, request: pytest.FixtureRequest, source: str
) -> None:
    path = request.getfixturevalue("fifo") if source == "fifo" else Path(source)
    result = run_wfe("run", flow, "--no-store", "--inputs", path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: --inputs {path}: not a regular file (a device, pipe or " \
                            "folder is never read)\n"
