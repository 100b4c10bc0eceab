"""What durability costs per step: the engine with the store on, against a plain sqlite3 floor.

W2 of ../shared/research/peer-timings.md: the 2-node loop of engine_overhead.py, every step
committed to a fresh store file. The cost of a journal per step = (time of the run with it -
time of the same run without it) per node execution; "without" has a listener taking the events,
as `wfe run` always has (its renderer), so the cost is what storing adds, events included.

The floor (issue 4: "a plain sqlite3 insert-and-commit of the same state in the same run") is
measured the same way: the same run with a journal that only does, per step, a plain sqlite3
BEGIN, INSERT of json.dumps(state), COMMIT (WAL, same synchronous setting). So both pay the
same for running between the engine's steps (cold caches). The same INSERT + COMMIT in a tight
loop of its own, the "about 22 us" of the issue, is printed too, with the ratio against it.
Target: at most 1.5 x the floor (LangGraph's SQLite checkpointer ~930 us per node, Burr's ~960).

The configurations are interleaved and repeated; each repeat gives a ratio, and the minimum
and the median over repeats are printed (the machine is shared: the minimum is the least
disturbed figure). Figures are printed, never asserted.

    python benchmarks/store_overhead.py [--steps 2000] [--repeat 7]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_overhead import TOOLS, WORKFLOW  # noqa: E402

from wfe import Workflow  # noqa: E402
from wfe.engine.journal import Committed, ItemDone, StepDone  # noqa: E402
from wfe.ids import new_run_id  # noqa: E402
from wfe.store import Store  # noqa: E402
from wfe.store.journal import StoreJournal, new_run  # noqa: E402

SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}


def plain_db(path: Path, durability: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={SYNCHRONOUS[durability]}")
    db.execute("CREATE TABLE ckpt (run TEXT, step INTEGER, state TEXT, PRIMARY KEY (run, step))")
    return db


class PlainJournal:
    """The floor as a journal: a plain sqlite3 insert-and-commit of the state, per step."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def step_done(self, done: StepDone, state: dict[str, Any], visits: dict[str, int]) -> bool:
        db = self.db
        db.execute("BEGIN")
        db.execute("INSERT INTO ckpt VALUES (?, ?, ?)", ("run", done.step, json.dumps(state)))
        db.execute("COMMIT")
        return False

    def run_ended(self, *details: Any) -> None:
        pass

    # The rest of the Journal protocol: nothing a run of the benchmark's loop needs.
    def committed(self) -> Committed:
        raise NotImplementedError("the floor keeps no position to go back to")

    def attempt_started(self, step: int, attempt: int) -> None:
        pass

    def attempts_made(self, step: int) -> int:
        return 0

    def item_done(self, step: int, item: ItemDone) -> None:
        pass

    def items_done(self, step: int) -> list[ItemDone]:
        return []

    def cancel_requested(self) -> bool:
        return False


def tight_floor(path: Path, executions: int, durability: str) -> float:
    """The same INSERT + COMMIT in a loop of its own: seconds per step."""
    db = plain_db(path, durability)
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


def timed_run(workflow: Workflow, n: int, prepare: Callable[[], dict[str, Any]]) -> float:
    """Seconds per node execution of one run; `prepare` gives its journal and listeners (made
    before the clock starts: opening a file is not a step)."""
    options = prepare()
    began = time.perf_counter()
    result = workflow.run({"n": n}, **options)
    elapsed = time.perf_counter() - began
    assert result.ok
    return elapsed / (2 * n)


def stored_run(workflow: Workflow, n: int, path: Path, durability: str) -> float:
    """The run with the store, from creating the run to its outcome (closing the store, which
    folds the WAL into the file once, is left out, as it is for the floor)."""
    with Store.open(path, durability=durability) as store:  # type: ignore[arg-type]
        began = time.perf_counter()
        state = workflow.initial_state({"n": n})
        lease = store.create_run(new_run(workflow.graph, new_run_id(), {"n": n}, state))
        journal = StoreJournal(store, lease, workflow.graph)
        result = workflow.run({"n": n}, run_id=lease.run_id, journal=journal,
                              listeners=[journal])
        elapsed = time.perf_counter() - began
    assert result.ok
    return elapsed / (2 * n)


def measure(workflow: Workflow, folder: str, n: int, repeat: int,
            durability: str) -> dict[str, list[float]]:
    """Per-step microseconds of each configuration, interleaved so that they share the noise."""
    times: dict[str, list[float]] = {k: [] for k in ("observed", "stored", "floor", "tight")}
    observers: dict[str, Any] = {"listeners": [lambda event: None]}
    for r in range(repeat):
        db = plain_db(Path(folder, f"p{durability}{r}.db"), durability)
        times["observed"].append(timed_run(workflow, n, lambda: observers))
        times["stored"].append(stored_run(workflow, n, Path(folder, f"s{durability}{r}.db"),
                                          durability))
        times["floor"].append(timed_run(
            workflow, n, lambda: {**observers, "journal": PlainJournal(db)}))  # noqa: B023
        db.close()
        times["tight"].append(tight_floor(Path(folder, f"t{durability}{r}.db"), 2 * n,
                                          durability))
    return {k: [t * 1e6 for t in v] for k, v in times.items()}


def report(durability: str, t: dict[str, list[float]]) -> None:
    costs = [s - o for s, o in zip(t["stored"], t["observed"], strict=True)]
    floors = [f - o for f, o in zip(t["floor"], t["observed"], strict=True)]
    ratios = [c / f for c, f in zip(costs, floors, strict=True)]
    tight = [c / f for c, f in zip(costs, t["tight"], strict=True)]
    print(f"  durability={durability}: store {min(costs):6.1f} us/step (median "
          f"{statistics.median(costs):6.1f}); floor {min(floors):6.1f} (median "
          f"{statistics.median(floors):6.1f}); in a loop of its own {min(t['tight']):6.1f}")
    print(f"    ratio to the floor: min {min(ratios):4.2f}, median {statistics.median(ratios):4.2f}"
          f" (target <= 1.5); to the loop of its own: min {min(tight):4.2f}, median "
          f"{statistics.median(tight):4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000, help="loop iterations (2 nodes each)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    n = args.steps
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_tools.py").write_text(textwrap.dedent(TOOLS))
        Path(folder, "loop.yaml").write_text(WORKFLOW)
        workflow = Workflow.load(Path(folder, "loop.yaml"), entry_points=False)
        workflow.run({"n": n})  # warm up
        print(f"W2 loop with the store, {2 * n} node executions, {args.repeat} interleaved "
              "repeats:")
        for durability in ("normal", "full"):
            report(durability, measure(workflow, folder, n, args.repeat, durability))
    print("  peers (peer-timings.md): LangGraph SqliteSaver ~930 us/node, Burr ~960 us/node")


if __name__ == "__main__":
    main()
