"""What pools and pruning cost: a pool slot taken and given back in the store per node
execution, and `wfe runs prune` over many runs (its time and how much the file shrinks).

Figures are printed, never asserted (the machine is shared: the minimum of the repeats is the
least disturbed figure).

    python benchmarks/operations.py [--slots 2000] [--runs 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from wfe.store import NewRun, Store


def slot_cost(store: Store, count: int) -> float:
    """Microseconds per take + give back of a slot of a pool that has room."""
    lease = store.create_run(_run("pool-holder"))
    began = time.perf_counter()
    for _ in range(count):
        slot = store.take_pool_slot("api", 4, lease.run_id, "call")
        assert slot is not None
        store.release_pool_slot("api", slot, lease.run_id)
    elapsed = time.perf_counter() - began
    store.finish(lease, "succeeded", state={})
    return elapsed / count * 1e6


def prune_cost(folder: Path, runs: int) -> tuple[float, int, int]:
    """(seconds, bytes before, bytes after) of pruning `runs` finished runs of ~20 kB each."""
    path = folder / f"prune-{runs}-{time.monotonic_ns()}.db"
    with Store.open(path) as store:
        for number in range(runs):
            lease = store.create_run(_run(f"r{number}"))
            store.finish(lease, "succeeded", state={"blob": os.urandom(10_000).hex()})
    before = path.stat().st_size + _wal(path)
    with Store.open(path) as store:
        began = time.perf_counter()
        store.prune(0.0)
        elapsed = time.perf_counter() - began
    return elapsed, before, path.stat().st_size + _wal(path)


def _wal(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _run(run_id: str) -> NewRun:
    return NewRun(run_id=run_id, workflow="bench", workflow_path="bench.yaml",
                  workflow_hash="0" * 64, workflow_source=b"nodes: {}", inputs={}, state={},
                  start="a", parent_run_id=None, visits={}, step=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slots", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        slots = []
        for repeat in range(args.repeat):
            with Store.open(Path(folder) / f"slots-{repeat}.db") as store:
                slots.append(slot_cost(store, args.slots))
        print(f"pool slot take + give back: min {min(slots):.0f} us, "
              f"median {sorted(slots)[len(slots) // 2]:.0f} us per node execution")
        pruned = [prune_cost(Path(folder), args.runs) for _ in range(args.repeat)]
        seconds = sorted(p[0] for p in pruned)
        _, before, after = pruned[0]
        print(f"prune of {args.runs} runs: min {seconds[0]:.2f} s, median "
              f"{seconds[len(seconds) // 2]:.2f} s; the store went from {before / 1e6:.1f} MB "
              f"to {after / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
