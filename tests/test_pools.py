"""`pool:` on a node: at most the pool's size of its nodes run at once, across processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wfe import Workflow

PYPROJECT = "[tool.wfe.pools]\ngithub = 1\n"
FLOW = """
imports: [pool_tools]
state:
  tag: {type: str, default: a}
nodes:
  call:
    tool: call_api
    pool: github
"""
#: The pooled node inside a sub-flow: its slot is the store's too.
PARENT = """
state: {tag: {type: str, default: a}}
nodes:
  sub: {workflow: flow.yaml, inputs: {tag: tag}}
"""
TOOLS = """
import os, time
from wfe import tool

@tool
def call_api(tag: str) -> dict:
    with open(os.environ["POOL_TRACE"], "a") as trace:
        trace.write(f"in {tag}\\n")
    while os.path.exists(f"hold_{tag}"):  # the test holds the node here while the file exists
        time.sleep(0.02)
    with open(os.environ["POOL_TRACE"], "a") as trace:
        trace.write(f"out {tag}\\n")
    return {}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "flow.yaml").write_text(FLOW)
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "pool_tools.py").write_text(TOOLS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POOL_TRACE", str(tmp_path / "trace"))
    return tmp_path


def _wfe(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wfe", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _trace(project: Path) -> list[str]:
    path = project / "trace"
    return path.read_text().split("\n")[:-1] if path.exists() else []


def _wait_for_trace(project: Path, expected: list[str]) -> None:
    deadline = time.monotonic() + 60
    while _trace(project) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _trace(project) == expected


@pytest.mark.parametrize("holder", ["flow.yaml", "parent.yaml"])
def test_two_processes_sharing_a_store_take_turns_in_a_pool_of_one(
        project: Path, holder: str) -> None:
    (project / "hold_a").touch()
    first = _wfe("run", holder, "-i", "tag=a", cwd=project)
    _wait_for_trace(project, ["in a"])
    second = _wfe("run", "flow.yaml", "-i", "tag=b", "--json", cwd=project)
    assert second.stdout is not None
    for line in second.stdout:  # it waits for the slot, and says so
        event = json.loads(line)
        if event["event"] == "log":
            assert event["message"] == "waiting for a slot of pool 'github' (all 1 in use)"
            break
    assert _trace(project) == ["in a"]
    (project / "hold_a").unlink()
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert _trace(project) == ["in a", "out a", "in b", "out b"]


def test_the_slot_of_a_killed_holder_is_taken_back(project: Path) -> None:
    (project / "hold_a").touch()
    holder = _wfe("run", "flow.yaml", "-i", "tag=a", cwd=project)
    _wait_for_trace(project, ["in a"])
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=60)
    after = _wfe("run", "flow.yaml", "-i", "tag=b", cwd=project)
    after.communicate(timeout=120)
    assert after.returncode == 0
    assert _trace(project) == ["in a", "in b", "out b"]


def test_runs_without_a_store_share_the_pool_within_the_process(project: Path) -> None:
    sys.path.insert(0, str(project))
    try:
        workflow = Workflow.load(project / "flow.yaml", entry_points=False)
    finally:
        sys.path.remove(str(project))

    (project / "hold_a").touch()

    async def both() -> list[str]:
        first = asyncio.create_task(asyncio.to_thread(workflow.run, {"tag": "a"}))
        while _trace(project) != ["in a"]:
            await asyncio.sleep(0.02)
        second = asyncio.create_task(asyncio.to_thread(workflow.run, {"tag": "b"}))
        await asyncio.sleep(0.3)  # time enough for b to go in, if nothing stopped it
        assert _trace(project) == ["in a"]
        (project / "hold_a").unlink()
        return [(await run).status for run in (first, second)]

    assert asyncio.run(both()) == ["succeeded", "succeeded"]
    assert _trace(project) == ["in a", "out a", "in b", "out b"]


@pytest.mark.parametrize(("pools", "expected"), [
    ("", "pool 'github' is not declared in [tool.wfe.pools] of pyproject.toml (declared: none)"),
    ("[tool.wfe.pools]\ngithb = 2\n", "pool 'github' is not declared in [tool.wfe.pools] of "
                                       "pyproject.toml (did you mean 'githb'?) (declared: githb)"),
])
def test_an_undeclared_pool_is_a_validation_error_at_its_position(
        project: Path, pools: str, expected: str) -> None:
    (project / "pyproject.toml").write_text(pools)
    checked = subprocess.run([sys.executable, "-m", "wfe", "validate", "flow.yaml"],
                             cwd=project, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 2
    assert f"flow.yaml:8:11: error[WFE080]: {expected}" in checked.stdout


def test_a_pool_size_that_is_not_a_whole_number_is_a_usage_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.wfe.pools]\ngithub = "two"\n')
    checked = subprocess.run([sys.executable, "-m", "wfe", "validate", "flow.yaml"],
                             cwd=project, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 2
    assert "[tool.wfe.pools] github must be a whole number of slots, at least 1, not 'two'" in (
        checked.stderr + checked.stdout)
    assert "Traceback" not in checked.stderr


def test_cancel_ends_a_run_that_waits_for_its_pool(project: Path) -> None:
    (project / "hold_a").touch()
    first = _wfe("run", "flow.yaml", "-i", "tag=a", cwd=project)
    _wait_for_trace(project, ["in a"])
    second = _wfe("run", "flow.yaml", "-i", "tag=b", "--json", cwd=project)
    assert second.stdout is not None
    run_id = ""
    for line in second.stdout:
        event = json.loads(line)
        run_id = event["run_id"]
        if event["event"] == "log":
            break
    cancelled = subprocess.run([sys.executable, "-m", "wfe", "cancel", run_id], cwd=project,
                               capture_output=True, text=True, timeout=120)
    assert cancelled.returncode == 0, cancelled.stderr
    rest = second.communicate(timeout=120)[0]
    assert json.loads(rest.splitlines()[-1])["status"] == "cancelled"
    (project / "hold_a").unlink()
    first.communicate(timeout=120)
    assert _trace(project) == ["in a", "out a"]


@pytest.mark.parametrize("file", ["flow.yaml", "parent.yaml"])
def test_a_run_takes_its_slots_from_its_journal_in_a_sub_flow_too(project: Path, file: str
                                                                  ) -> None:
    """Every Journal is where its run holds slots: the engine asks the one it was given (a
    sub-flow's, its parent's), never whatever else happens to listen."""
    from wfe.engine.memory_journal import MemoryJournal

    taken: list[tuple[str, int, str]] = []

    class Recording(MemoryJournal):
        def take_slot(self, pool: str, size: int, node: str):  # type: ignore[no-untyped-def]
            taken.append((pool, size, node))
            return super().take_slot(pool, size, node)

    sys.path.insert(0, str(project))
    try:
        workflow = Workflow.load(project / file, entry_points=False)
    finally:
        sys.path.remove(str(project))
    assert workflow.run({}, journal=Recording()).status == "succeeded"
    assert taken == [("github", 1, "call")]
