"""`wfe run --executor dask://HOST:PORT` against a real `dask scheduler` and two `dask worker`
processes on 127.0.0.1 (a free port), and `--executor dask` (a LocalCluster wfe starts): the
same results, events and steps as locally; `wfe cancel`, Ctrl-C and `kill -9` mid-map; a worker
killed mid-item; tools the workers cannot import. Hang guards only, no timing assertions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 90.0

TOOLS = """
import os, pathlib, time
from wfe import tool, log

@tool
def square(x: int) -> dict:
    log(f"squaring {x}")
    return {"square": x * x}

@tool
def where(x: int) -> int:
    return os.getpid()

@tool
def left(n: int) -> dict:
    return {"a": n + 1}

@tool
def right(n: int) -> dict:
    return {"b": n + 2}

@tool
def hold(x: int, folder: str) -> int:
    # Marks its start (with the worker's pid), then waits for the test to release it.
    pathlib.Path(folder, "started", f"{x}-{os.getpid()}").write_text("")
    deadline = time.monotonic() + 60
    while not pathlib.Path(folder, "release").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return x * 10
"""

WORKFLOW = """
imports: [dask_cli_tools]
state:
  xs: {type: list, default: [1, 2, 3, 4, 5]}
  n: {type: int, default: 1}
  folder: {type: str, default: ""}
  squares: list
  held: list
  a: int
  b: int
nodes:
  squares: {map: xs, as: x, tool: square, collect: squares, concurrency: 3, next: fan}
  fan:
    parallel: {l: {tool: left}, r: {tool: right}}
    next: held
  held: {map: xs, as: x, tool: hold, collect: held, concurrency: 5}
"""


@dataclass
class Scheduler:
    address: str  # HOST:PORT
    tools: Path
    client: Any

    @property
    def url(self) -> str:
        return f"dask://{self.address}"

    def tasks(self) -> int:
        return int(self.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)))


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scheduler]:
    folder = tmp_path_factory.mktemp("dask-cluster")
    tools = folder / "tools"
    tools.mkdir()
    (tools / "dask_cli_tools.py").write_text(TOOLS)
    file = folder / "scheduler.json"
    logs = open(folder / "cluster.log", "wb")  # noqa: SIM115 (closed below)
    dask = [sys.executable, "-m", "dask"]
    processes = [subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(file)], stdout=logs, stderr=logs)]
    try:
        _wait(lambda: file.exists() and "address" in file.read_text(), "the scheduler starts")
        address = json.loads(file.read_text())["address"]
        env = {**os.environ, "PYTHONPATH": str(tools)}
        processes += [subprocess.Popen(
            [*dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"],
            stdout=logs, stderr=logs, env=env, cwd=tools) for i in range(2)]
        client = distributed.Client(address, set_as_default=False, timeout=30)
        client.wait_for_workers(2, timeout=HANG_GUARD)
        yield Scheduler(address.removeprefix("tcp://"), tools, client)
        client.shutdown()  # the scheduler and its workers, at once
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs.close()


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert time.monotonic() < deadline, f"hang guard: {what}"
        time.sleep(0.05)


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    path = tmp_path / "flow.yaml"
    path.write_text(WORKFLOW)
    # The workflow's own module; the workers import the copy on their PYTHONPATH.
    (tmp_path / "dask_cli_tools.py").write_text(TOOLS)
    for name in ("started",):
        (tmp_path / name).mkdir()
    return path


def wfe(*args: object, cwd: Path | None = None, tools: Path | None = None,
        timeout: float = HANG_GUARD) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wfe", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=_env(tools))


def wfe_process(*args: object, tools: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wfe", *map(str, args)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tools))


def _env(tools: Path | None) -> dict[str, str]:
    env = {**os.environ}
    if tools is not None:
        env["PYTHONPATH"] = str(tools)
    return env


def events_of(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((e["event"], e.get("node", ""), e.get("attempt", 0), repr(e.get("updates")),
                   e.get("message", ""), e.get("status", "")) for e in events)


def steps_of(run_id: str, tools: Path) -> list[tuple[Any, ...]]:
    shown = json.loads(wfe("show", run_id, "--json", tools=tools).stdout)
    return [(s["node"], s["attempt"], s["outcome"], json.dumps(s["updates"], sort_keys=True),
             json.dumps([(i["index"], i["status"]) for i in s.get("items") or []]))
            for s in shown["steps"]]


def release(workflow: Path) -> None:
    (workflow.parent / "release").write_text("")


def test_a_run_on_a_scheduler_has_the_results_events_and_steps_of_a_local_one(scheduler,
                                                                              workflow):
    release(workflow)
    runs = {}
    for executor in ("local", scheduler.url):
        done = wfe("run", workflow, "--json", "--executor", executor, "-i",
                   f"folder={workflow.parent}", tools=scheduler.tools)
        assert done.returncode == 0, done.stderr
        events = events_of(done.stdout)
        runs[executor] = (events, steps_of(events[0]["run_id"], scheduler.tools))
    (local, local_steps), (remote, remote_steps) = runs.values()
    assert remote[-1]["state"] == local[-1]["state"]
    assert remote[-1]["state"]["held"] == [10, 20, 30, 40, 50]
    assert shape(remote) == shape(local)
    assert remote_steps == local_steps


def test_the_executor_can_come_from_pyproject_and_calls_run_on_the_workers(scheduler,
                                                                           tmp_path):
    (tmp_path / "pyproject.toml").write_text(f'[tool.wfe]\nexecutor = "{scheduler.url}"\n')
    (tmp_path / "dask_cli_tools.py").write_text(TOOLS)
    (tmp_path / "flow.yaml").write_text(textwrap.dedent("""
        imports: [dask_cli_tools]
        state:
          xs: {type: list, default: [1, 2, 3, 4]}
          pids: list
        nodes:
          go: {map: xs, as: x, tool: where, collect: pids, concurrency: 4}
        """))
    done = wfe("run", "flow.yaml", "--no-store", cwd=tmp_path, tools=scheduler.tools)
    assert done.returncode == 0, done.stderr
    workers = set(scheduler.client.run(os.getpid).values())
    assert set(json.loads(done.stdout)["pids"]) <= workers


def test_a_tool_the_workers_cannot_import_is_a_clear_error_before_the_run(scheduler, tmp_path):
    (tmp_path / "elsewhere_tools.py").write_text("from wfe import tool\n\n@tool\n"
                                                 "def nowhere(x: int) -> int:\n    return x\n")
    (tmp_path / "flow.yaml").write_text(textwrap.dedent("""
        imports: [elsewhere_tools]
        state:
          xs: {type: list, default: [1]}
          ys: list
        nodes:
          go: {map: xs, as: x, tool: nowhere, collect: ys}
        """))
    done = wfe("run", tmp_path / "flow.yaml", "--executor", scheduler.url)
    assert done.returncode == 2
    assert ("error: tool 'nowhere' (module elsewhere_tools) cannot be imported on Dask worker "
            "tcp://127.0.0.1:") in done.stderr
    assert "ModuleNotFoundError" in done.stderr and "Traceback" not in done.stderr
    assert json.loads(wfe("runs", "--json").stdout) == []  # nothing was recorded


def _start_held_run(scheduler: Scheduler, workflow: Path) -> tuple[subprocess.Popen[str], str]:
    process = wfe_process("run", workflow, "--quiet", "--executor", scheduler.url,
                          "-i", f"folder={workflow.parent}", tools=scheduler.tools)
    _wait(lambda: len(list((workflow.parent / "started").iterdir())) >= 2,
          "two items start on the workers")
    runs = json.loads(wfe("runs", "--json").stdout)
    return process, runs[0]["run_id"]


def test_wfe_cancel_stops_a_map_in_flight_and_its_tasks_on_the_cluster(scheduler, workflow):
    process, run_id = _start_held_run(scheduler, workflow)
    try:
        assert wfe("cancel", run_id).returncode == 0
        assert process.wait(timeout=HANG_GUARD) == 1
        assert json.loads(wfe("show", run_id, "--json").stdout)["status"] == "cancelled"
        _wait(lambda: scheduler.tasks() == 0, "no task left on the scheduler")
    finally:
        release(workflow)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_a_run_stopped_mid_map_leaves_no_task_and_resumes_to_the_same_end(scheduler, workflow,
                                                                          tmp_path, sig, code):
    process, run_id = _start_held_run(scheduler, workflow)
    try:
        process.send_signal(sig)
        assert process.wait(timeout=HANG_GUARD) == code
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
        _wait(lambda: scheduler.tasks() == 0, "no task left on the scheduler")
    finally:
        release(workflow)
    assert json.loads(wfe("show", run_id, "--json").stdout)["status"] == "interrupted"
    resumed = wfe("resume", run_id, "--quiet", "--executor", scheduler.url, "--output",
                  tmp_path / "out.json", tools=scheduler.tools)
    assert resumed.returncode == 0, resumed.stderr
    final = json.loads((tmp_path / "out.json").read_text())
    assert final["held"] == [10, 20, 30, 40, 50] and final["a"] == 2 and final["b"] == 3


def test_a_worker_killed_mid_item_is_rescheduled_and_the_run_finishes(scheduler, workflow):
    process, run_id = _start_held_run(scheduler, workflow)
    try:
        victim = int(next((workflow.parent / "started").iterdir()).name.split("-")[1])
        os.kill(victim, signal.SIGKILL)  # a worker process, not wfe: Dask reruns its task
        time.sleep(0.5)
    finally:
        release(workflow)
    assert process.wait(timeout=HANG_GUARD) == 0, process.stderr.read() if process.stderr else ""
    shown = json.loads(wfe("show", run_id, "--json").stdout)
    assert shown["status"] == "succeeded"
    assert shown["state"]["held"] == [10, 20, 30, 40, 50]
    _wait(lambda: len(scheduler.client.nthreads()) == 2, "the nanny restarts the worker")


def test_the_code_review_workflow_runs_on_a_local_cluster_with_the_same_result(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(ROOT / "workflows" / "samples" / "messy.py", code / "messy.py")
    for name in ("executors/cluster.py", "executors/executor.py", "tools/context.py"):
        shutil.copy(ROOT / "wfe" / name, code / Path(name).name)
    outputs = {}
    for executor in ("local", "dask?workers=2&threads=1"):
        out = tmp_path / f"{executor.split('?')[0]}.json"
        done = wfe("run", ROOT / "workflows" / "code_review.yaml", "--quiet", "--executor",
                   executor, "-i", f"path={code}", "--output", out)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        outputs[executor] = json.loads(out.read_text())
    local, remote = outputs.values()
    assert remote == local
    assert len(remote["reviews"]) == 4
