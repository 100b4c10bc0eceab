"""Many `wfe run` processes writing one store at once (target 8 of
../shared/research/reliability.md section 6: 16 processes x 200 steps, 0 "database is locked").

WRITERS processes start on a fresh store; each waits in its first step until all have started,
so that every one of the WRITERS x STEPS commits competes for the write lock. Printed: the wall
time from that moment, commits per second, and what should be 0: lost steps, failed runs,
non-zero exit codes and "database is locked" (or any error) on stderr. Nothing is asserted here
(tests/test_crash.py asserts the zeros).

    python benchmarks/shared_store.py [--writers 16] [--steps 200] [--durability normal|full]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfe.store import Store  # noqa: E402

WORKFLOW = """
imports: [shared_store_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 200}
nodes:
  step:
    tool: step
    next:
      - when: i < n
        then: step
      - then: end
"""

TOOLS = """
import os, time
from wfe import tool

@tool
def step(i: int) -> dict:
    if i == 0:  # wait until every writer has started
        fd = os.open(os.environ["WFE_LOAD_READY"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b"x")
        os.close(fd)
        while not os.path.exists(os.environ["WFE_LOAD_GO"]):
            time.sleep(0.005)
    return {"i": i + 1}
"""

#: Generous: a hang guard, not a speed target.
START_TIMEOUT = 120.0


def shared_store(folder: Path, writers: int, steps: int, durability: str) -> dict[str, Any]:
    """Run the writers on one fresh store; every figure of the benchmark."""
    (folder / "shared_store_tools.py").write_text(TOOLS)
    workflow = folder / "load.yaml"
    workflow.write_text(WORKFLOW)
    store, ready, go = folder / "load.db", folder / "ready", folder / "go"
    env = {**os.environ, "WFE_LOAD_READY": str(ready), "WFE_LOAD_GO": str(go)}
    args = [sys.executable, "-m", "wfe", "run", str(workflow), "-i", f"n={steps}", "--quiet",
            "--store", str(store), "--durability", durability]
    logs = [folder / f"writer{n}.err" for n in range(writers)]
    processes = []
    for log in logs:
        with open(log, "wb") as stderr:
            processes.append(subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                              stderr=stderr))
    deadline = time.monotonic() + START_TIMEOUT
    while (not ready.exists() or ready.stat().st_size < writers) and time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            break  # one died before its first step: nothing to wait for
        time.sleep(0.01)
    began = time.perf_counter()
    go.touch()
    codes = Counter(process.wait(timeout=START_TIMEOUT) for process in processes)
    seconds = time.perf_counter() - began
    errors = "".join(log.read_text() for log in logs)
    return {"writers": writers, "steps": steps, "durability": durability,
            "seconds": round(seconds, 2), "commits_per_second": round(writers * steps / seconds),
            "exit_codes": dict(codes), "database_is_locked": errors.count("database is locked"),
            "stderr_lines": len(errors.splitlines()), **_stored(store, writers, steps)}


def _stored(store: Path, writers: int, steps: int) -> dict[str, Any]:
    with Store.open(store) as opened:
        runs = opened.list_runs(limit=writers + 1)
        committed = [len(opened.steps(run.run_id)) for run in runs]
        finals = [run.state.get("i") for run in runs]
    with sqlite3.connect(store) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    return {"runs": len(runs), "runs_not_succeeded": sum(r.status != "succeeded" for r in runs),
            "lost_steps": writers * steps - sum(committed),
            "wrong_final_states": sum(final != steps for final in finals),
            "integrity_ok": integrity == "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--durability", choices=["normal", "full"], nargs="+",
                        default=["normal", "full"])
    args = parser.parse_args()
    for durability in args.durability:
        with tempfile.TemporaryDirectory(prefix="wfe-load-") as scratch:
            figures = shared_store(Path(scratch), args.writers, args.steps, durability)
        print(f"{figures['writers']} `wfe run` x {figures['steps']} steps on one store, "
              f"durability {durability}: {figures['seconds']} s once all had started, "
              f"{figures['commits_per_second']} commits/s")
        print(f"  exit codes {figures['exit_codes']}; should be 0: lost steps "
              f"{figures['lost_steps']}, runs not succeeded {figures['runs_not_succeeded']}, "
              f"wrong final states {figures['wrong_final_states']}, \"database is locked\" "
              f"{figures['database_is_locked']}, stderr lines {figures['stderr_lines']}; "
              f"integrity_check ok: {figures['integrity_ok']}")


if __name__ == "__main__":
    main()
