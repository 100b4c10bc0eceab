"""Hostile inputs and surroundings at run time: files that never end, stores in odd places,
tools that print or never yield. Each case is answered with one line and its exit code."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
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


def test_a_file_value_without_a_file_name_is_refused(flow: Path) -> None:
    result = run_wfe("run", flow, "--no-store", "-i", "note=@")
    assert result.returncode == 2
    assert result.stderr == "error: -i note=@ names no file: write -i note=@PATH\n"


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


@pytest.mark.parametrize(
    ("writes", "lines"),
    [
        ('print("a"); print(); print("b")', ["a", "", "b"]),
        ('sys.stdout.write("one\\ntwo\\nthr"); sys.stdout.write("ee")', ["one", "two", "three"]),
        ('[sys.stdout.write(".") for _ in range(100_000)]',
         ["." * 4000 + "... [96000 more characters cut]"]),
        ('print("x" * 150_000); print("y")',
         ["x" * 4000 + "... [146000 more characters cut]", "y"]),
    ],
)
def test_printed_text_is_cut_into_lines_and_a_long_line_is_cut_saying_how_much(
    make_workflow: Callable[..., Any], writes: str, lines: list[str]
) -> None:
    workflow = make_workflow("imports: [TOOLS]\nnodes:\n  talk: {tool: write}\n",
                             f"import sys\n@tool\ndef write() -> None:\n    {writes}\n")
    events: list[dict[str, Any]] = []
    workflow.run({}, listeners=[events.append])
    assert [e["message"] for e in events if e["event"] == "log"] == lines


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


# --- async tools that never await ----------------------------------------------------------------

BLOCKING_TOOLS = """
import os
import time
from pathlib import Path

@tool
async def spin() -> None:
    Path(os.environ["WFE_TEST_STARTED"]).touch()
    while True:
        pass

@tool
async def nap() -> None:
    Path(os.environ["WFE_TEST_STARTED"]).touch()
    time.sleep(30)    # far longer than the timeouts below; returns before the hang guard

@tool
async def busy() -> dict:
    time.sleep(0.5)   # holds the loop well past the guard's look, within its timeout
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        pass
    return {"after": True}

@tool
def after() -> dict:
    return {"after": True}
"""
BLOCKING_FLOW = """
imports: [TOOLS]
limits: RUN_LIMITS
state:
  error: {type: any}
  after: {type: bool, default: false}
nodes:
  block: {tool: BLOCKER, NODE_TIMEOUT on_error: recover}
  recover: {tool: after}
"""


def blocking_flow(write_workflow: Callable[..., Path], tool: str, limit: str) -> Path:
    """`limit`: "node" (the node has `timeout:`) or "run" (only `limits.timeout`)."""
    text = (BLOCKING_FLOW.replace("BLOCKER", tool)
            .replace("NODE_TIMEOUT", "timeout: 0.3," if limit == "node" else "")
            .replace("RUN_LIMITS", "{timeout: 60}" if limit == "node" else "{timeout: 0.3}"))
    return write_workflow(text, BLOCKING_TOOLS)


@pytest.mark.parametrize("limit", ["node", "run"])
@pytest.mark.parametrize("tool", ["spin", "nap"])
def test_an_async_tool_that_never_awaits_still_times_out(
    write_workflow: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    tool: str, limit: str
) -> None:
    monkeypatch.setenv("WFE_TEST_STARTED", str(tmp_path / "started"))
    result = run_wfe("run", blocking_flow(write_workflow, tool, limit), "--no-store")
    if limit == "node":  # routed by on_error, and the run goes on
        assert result.returncode == 0, result.stderr
        state = json.loads(result.stdout)
        assert state["after"] is True and state["error"]["type"] == "TimeoutError"
        assert "blocked the event loop" in state["error"]["message"]
    else:  # the run's time is up, whatever on_error says
        assert result.returncode == 1, result.stderr
        assert "limits.timeout" in result.stderr


def test_an_async_tool_that_blocks_within_its_timeout_is_left_alone(
    write_workflow: Callable[..., Path]
) -> None:
    flow = write_workflow("imports: [TOOLS]\nstate:\n  after: bool\nnodes:\n"
                          "  block: {tool: busy, timeout: 60}\n", BLOCKING_TOOLS)
    result = run_wfe("run", flow, "--no-store")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"after": True}


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    while not path.exists():  # no deadline: the test's own guard below ends a hang
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)


@pytest.mark.parametrize("shape", ["node", "branch"])
def test_sigterm_during_an_async_tool_that_never_awaits_exits_143_cleanly(
    write_workflow: Callable[..., Path], tmp_path: Path, shape: str
) -> None:
    node = ("{tool: spin, timeout: 600}" if shape == "node"
            else "\n    parallel:\n      a: {tool: spin}\n      b: {tool: after}")
    flow = write_workflow(f"imports: [TOOLS]\nstate:\n  after: bool\nnodes:\n  block: {node}\n",
                          BLOCKING_TOOLS)
    started, store = tmp_path / "started", tmp_path / "runs.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "wfe", "run", str(flow), "--store", str(store)],
        env={**os.environ, "WFE_TEST_STARTED": str(started)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(started, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 143
    assert "Traceback" not in stderr and "never retrieved" not in stderr
    run_id = stderr.split("wfe resume ", 1)[1].split("`", 1)[0]
    shown = run_wfe("show", run_id, "--json", "--store", store)
    assert json.loads(shown.stdout)["status"] == "interrupted"
