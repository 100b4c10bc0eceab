"""What durability costs per step: the engine with the store on, against a plain sqlite3 floor.

W2 of ../shared/research/peer-timings.md: the 2-node loop of engine_overhead.py, every step
committed to a fresh store file. Per-step store cost = (time with the store - time without) per
node execution. Floor, measured in the same run: a plain sqlite3 INSERT of json.dumps(state) and a
COMMIT per step, WAL, same synchronous setting. Target: at most 1.5 x the floor (the floor is about
22 us with WAL/NORMAL; LangGraph's SQLite checkpointer ~930 us per node, Burr's ~960).
Figures are printed, never asserted.

    python benchmarks/store_overhead.py [--steps 1000] [--repeat 3]
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


def engine(workflow: Workflow, n: int, store_file: Path | None, durability: str) -> float:
    began = time.perf_counter()
    if store_file is None:
        result = workflow.run({"n": n})
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=1000, help="loop iterations (2 nodes each)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.steps
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_tools.py").write_text(textwrap.dedent(TOOLS))
        Path(folder, "loop.yaml").write_text(WORKFLOW)
        workflow = Workflow.load(Path(folder, "loop.yaml"), entry_points=False)
        print(f"W2 loop with the store, {2 * n} node executions, median of {args.repeat}:")
        for durability, synchronous in (("normal", "NORMAL"), ("full", "FULL")):
            bare, stored, floors = [], [], []
            for r in range(args.repeat):
                bare.append(engine(workflow, n, None, durability))
                stored.append(engine(workflow, n, Path(folder, f"s{durability}{r}.db"),
                                     durability))
                floors.append(floor(Path(folder, f"f{durability}{r}.db"), 2 * n, synchronous))
            cost = (statistics.median(stored) - statistics.median(bare)) * 1e6
            base = statistics.median(floors) * 1e6
            print(f"  durability={durability:<6}  floor {base:7.1f} us/step   wfe store "
                  f"{cost:7.1f} us/step   ratio {cost / base:4.2f} (target <= 1.5)")
    print("  peers (peer-timings.md): LangGraph SqliteSaver ~930 us/node, Burr ~960 us/node")


if __name__ == "__main__":
    main()
