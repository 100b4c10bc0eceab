"""Hostile inputs and surroundings at run time: files that never end, stores in odd places,
tools that print or never yield. Each case is answered with one line and its exit code."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def run_wfe(*args: str | Path, cwd: Path | None = None,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`wfe ARGS` in a process of its own, its memory capped; the timeout only stops a hang."""
    return subprocess.run([*prefix, sys.executable, "-m", "wfe", *map(str, args)],
                          capture_output=True, text=True, timeout=60, cwd=cwd,
                          preexec_fn=_capped_memory)


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


# --- the store -----------------------------------------------------------------------------------

def read_only(folder: Path) -> tuple[str, ...]:
    """Make `folder` read-only for the commands run with the returned prefix: by its mode for a
    normal user; for root, which ignores modes, by a read-only bind mount of its own."""
    if os.geteuid() != 0:
        for path in folder.iterdir():
            path.chmod(0o444)
        folder.chmod(0o555)
        return ()
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root without mount namespaces: cannot make a folder read-only")
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return ("unshare", "-m", "sh", "-c", script, str(folder))


@pytest.fixture
def finished_run(flow: Path, tmp_path: Path) -> tuple[Path, str]:
    """A store holding one finished run, alone in a folder of its own: (the store, the run id)."""
    store = tmp_path / "stored" / "wfe.db"
    result = run_wfe("run", flow, "--store", store, "--json")
    assert result.returncode == 0, result.stderr
    return store, result.stdout.split('"run_id":"', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("command", [["runs"], ["show", "RUN"], ["logs", "RUN"]])
def test_a_store_in_a_read_only_folder_can_still_be_read(
    finished_run: tuple[Path, str], command: list[str]
) -> None:
    store, run_id = finished_run
    before = sorted(p.name for p in store.parent.iterdir())
    prefix = read_only(store.parent)
    args = [run_id if arg == "RUN" else arg for arg in command]
    result = run_wfe(*args, "--store", store, prefix=prefix)
    assert result.returncode == 0, result.stderr
    assert run_id in result.stdout or "succeeded" in result.stdout
    assert sorted(p.name for p in store.parent.iterdir()) == before


def test_a_new_store_in_a_read_only_folder_is_refused(finished_run: tuple[Path, str]) -> None:
    store, _ = finished_run
    prefix = read_only(store.parent)
    result = run_wfe("runs", "--store", store.parent / "new.db", prefix=prefix)
    assert result.returncode == 2
    assert result.stderr == (f"error: {store.parent / 'new.db'}: no store there, and its folder "
                             "is not writable to make one (use --store or WFE_STORE to pick "
                             "another file)\n")


@pytest.mark.parametrize("place", ["/dev/null", "fifo", "folder"])
def test_a_store_path_that_is_not_a_regular_file_is_refused_and_left_alone(
    request: pytest.FixtureRequest, tmp_path: Path, place: str
) -> None:
    path = {"fifo": lambda: request.getfixturevalue("fifo"), "folder": lambda: tmp_path}.get(
        place, lambda: Path(place))()
    beside = sorted(p.name for p in tmp_path.iterdir())
    result = run_wfe("runs", "--store", path)
    assert result.returncode == 2
    assert result.stderr == (f"error: {path}: not a regular file, so not a place for a store "
                             "(use --store or WFE_STORE to pick another file)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == beside


# --- what tools print ----------------------------------------------------------------------------

PRINTING_TOOLS = """
import asyncio
import sys

@tool
def say(ctx) -> None:
    print("said by", ctx.node)

@tool
async def say_later(ctx) -> None:
    await asyncio.sleep(0)
    print("said by", ctx.node)

@tool
def say_to_stderr(ctx) -> None:
    sys.stderr.write(f"said by {ctx.node}\\n")

@tool
def say_in_pieces(ctx) -> None:
    print("said", end="")
    print(" by", ctx.node, end="")
"""
PRINTING_NODES = {
    "inline": "{tool: say}",
    "thread": "{tool: say, timeout: 30}",
    "async": "{tool: say_later}",
    "stderr": "{tool: say_to_stderr}",
    "unfinished line": "{tool: say_in_pieces}",
    "process": "{tool: say, isolation: process}",
    "async process": "{tool: say_later, isolation: process}",
}


@pytest.mark.parametrize("kind", PRINTING_NODES)
def test_what_a_tool_prints_becomes_log_lines_of_its_node_and_stdout_stays_json(
    write_workflow: Callable[..., Path], kind: str
) -> None:
    flow = write_workflow(f"imports: [TOOLS]\nnodes:\n  talk: {PRINTING_NODES[kind]}\n",
                          PRINTING_TOOLS)
    result = run_wfe("run", flow, "--json", "--no-store")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["node"], e["message"]) for e in events if e["event"] == "log"] == [
        ("talk", "said by talk")]
    assert result.stderr == ""


def test_concurrent_branches_each_get_their_own_lines(
    write_workflow: Callable[..., Path]
) -> None:
    branches = {"a": "say", "b": "say_later", "c": "say", "d": "say_later"}
    lines = [f"      {name}: {{tool: {tool}, timeout: 30}}" for name, tool in branches.items()]
    flow = write_workflow("imports: [TOOLS]\nnodes:\n  fan:\n    parallel:\n" + "\n".join(lines)
                          + "\n", PRINTING_TOOLS)
    result = run_wfe("run", flow, "--json", "--no-store")
    assert result.returncode == 0, result.stderr
    logs = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted((e["node"], e["message"]) for e in logs if e["event"] == "log") == [
        (f"fan/{name}", f"said by fan/{name}") for name in branches]


def test_plain_progress_shows_printed_lines_as_it_shows_log_lines(
    write_workflow: Callable[..., Path]
) -> None:
    flow = write_workflow("imports: [TOOLS]\nnodes:\n  talk: {tool: say}\n", PRINTING_TOOLS)
    result = run_wfe("run", flow, "--no-store")
    assert result.returncode == 0
    assert "talk: said by talk\n" in result.stderr
    assert json.loads(result.stdout) == {}


def test_a_listener_that_prints_is_not_taken_for_the_tool(
    make_workflow: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = make_workflow("imports: [TOOLS]\nnodes:\n  talk: {tool: say}\n", PRINTING_TOOLS)

    def show(event: dict[str, Any]) -> None:
        print(event["event"], event.get("message", ""))

    workflow.run({}, listeners=[show])
    assert capsys.readouterr().out.splitlines() == [
        "run_started ", "node_started ", "log said by talk", "node_finished ", "edge ",
        "run_finished "]
