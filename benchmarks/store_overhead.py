"""What durability costs per step: the engine with the store on, against a plain sqlite3 floor.

W2 of ../shared/research/peer-timings.md: the 2-node loop of engine_overhead.py, every step
committed to a fresh store file. Per-step store cost = (time with the store - time without) per
node execution, "without" measured two ways:

- observed: the same run with a listener taking its events, as `wfe run --no-store` always has
  (a renderer); the cost is then what the store itself adds;
- bare: no listener at all (the engine then builds no events), so the cost also includes
  building each step's three events (~5-10 us).

Floor, measured in the same run: a plain sqlite3 INSERT of json.dumps(state) and a COMMIT per
step, WAL, same synchronous setting. Target: at most 1.5 x the floor (LangGraph's SQLite
checkpointer ~930 us per node, Burr's ~960). The configurations are interleaved and repeated;
the minimum and the median of the repeats are printed (the machine is shared: the minimum is
the least disturbed figure). Figures are printed, never asserted.

    python benchmarks/store_overhead.py [--steps 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_overhead import TOOLS, WORKFLOW  # noqa: E402

from wfe import Workflow  # noqa: E402
from wfe.durable import StoreJournal, new_run  # noqa: E402
from wfe.ids import new_run_id  # noqa: E402
from wfe.store import Store  # noqa: E402


def floor(path: Path, executions: int, synchronous: str) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("CREATE TABLE ckpt (run TEXT, step INTEGER, state TEXT, PRIMARY KEY (run, step))")
    state = {"i": 0, "n": executions}
    began = time.perf_counter()
    for step in range(executions):
        state["i"] = step
        db.execute("BEGIN")
        db.execute("INSERT INTO ckpt VALUES (?, ?, ?)", ("run", step, json.dumps(state)))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - began
    db.close()
    return elapsed / executions


def engine(workflow: Workflow, n: int, store_file: Path | None, durability: str,
           observed: bool = False) -> float:
    listeners = [lambda event: None] if observed else []
    began = time.perf_counter()
    if store_file is None:
        result = workflow.run({"n": n}, listeners=listeners)
    else:
        with Store.open(store_file, durability=durability) as store:  # type: ignore[arg-type]
            began = time.perf_counter()
            state = workflow.initial_state({"n": n})
            lease = store.create_run(new_run(workflow.graph, new_run_id(), {"n": n}, state))
            journal = StoreJournal(store, lease, workflow.graph)
            result = workflow.run({"n": n}, run_id=lease.run_id, journal=journal,
                                  listeners=[journal])
    assert result.ok
    return (time.perf_counter() - began) / (2 * n)


def measure(workflow: Workflow, folder: str, n: int, repeat: int, durability: str,
            synchronous: str) -> dict[str, list[float]]:
    """Per-step seconds of each configuration, interleaved so that they share the noise."""
    times: dict[str, list[float]] = {"bare": [], "observed": [], "stored": [], "floor": []}
    for r in range(repeat):
        times["bare"].append(engine(workflow, n, None, durability))
        times["observed"].append(engine(workflow, n, None, durability, observed=True))
        times["stored"].append(engine(workflow, n, Path(folder, f"s{durability}{r}.db"),
                                      durability))
        times["floor"].append(floor(Path(folder, f"f{durability}{r}.db"), 2 * n, synchronous))
    return times


def report(durability: str, times: dict[str, list[float]]) -> None:
    for label, pick in (("min", min), ("median", statistics.median)):
        base = pick(times["floor"]) * 1e6
        stored = pick(times["stored"]) * 1e6
        cost = stored - pick(times["observed"]) * 1e6
        cost_bare = stored - pick(times["bare"]) * 1e6
        print(f"  durability={durability:<6} {label:<6} floor {base:6.1f} us/step   store "
              f"{cost:6.1f} us/step, ratio {cost / base:4.2f} (target <= 1.5)   with event "
              f"building {cost_bare:6.1f} us, ratio {cost_bare / base:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1000, help="loop iterations (2 nodes each)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.steps
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_tools.py").write_text(textwrap.dedent(TOOLS))
        Path(folder, "loop.yaml").write_text(WORKFLOW)
        workflow = Workflow.load(Path(folder, "loop.yaml"), entry_points=False)
        engine(workflow, n, None, "normal")  # warm up
        print(f"W2 loop with the store, {2 * n} node executions, {args.repeat} interleaved "
              "repeats:")
        for durability, synchronous in (("normal", "NORMAL"), ("full", "FULL")):
            report(durability, measure(workflow, folder, n, args.repeat, durability,
                                       synchronous))
    print("  peers (peer-timings.md): LangGraph SqliteSaver ~930 us/node, Burr ~960 us/node")


if __name__ == "__main__":
    main()
