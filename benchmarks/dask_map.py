"""A map of CPU-bound items in one process against a 2-worker Dask LocalCluster.

- `map:` over 200 items of a pure-Python loop calibrated to ~50 ms each: the local executor (one
  process: sync tools in threads, so the GIL serialises them) against `--executor dask` on a
  LocalCluster of 2 worker processes with 1 thread each. Prints both times and the speed-up
  (target: at least 1.8x on a 2-core machine), next to the speed-up two bare processes get on
  the same work (a multiprocessing Pool): what this machine gives at the moment (on a shared
  machine, often much less than 2x). Beside them, the same loops as bare Dask tasks on the same
  cluster (one `client.map`, one `gather`): the most Dask itself gives, wfe or not.
- The per-item overhead of the Dask path: maps of 200 no-op items, Dask against local, with 64
  items in flight (throughput) and with one at a time (a call's round trip), next to the same
  calls as bare Dask tasks (`client.submit`, as many in flight): Dask's own cost.

Method. Each path runs once, untimed, before any timing (the Pool's workers start and import,
wfe's engine builds its state schema, the cluster's workers load wfe's task module), so that no
timing includes a first-time cost the others do not pay. The figures are then taken in rounds,
one of each per round, so that each round's ratios compare figures of the same moment of a
shared machine; each is printed as the median of the rounds and their range. The cluster's
start-up is timed apart (it is paid once per `wfe run`). Figures are printed, never asserted.
Needs the `dask` extra.

    python benchmarks/dask_map.py [--items 200] [--ms 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOOLS = """
from wfe import tool

def spin(rounds: int) -> int:
    total = 0
    for i in range(rounds):
        total = (total + i * i) % 1_000_003
    return total

@tool
def burn(item: int, rounds: int) -> int:
    return spin(rounds) + item

@tool
def noop(item: int) -> int:
    return item
"""

WORKFLOW = """imports: [bench_dask_tools]
state:
  items: list
  rounds: {type: int, default: 0}
  out: list
nodes:
  each: {map: items, tool: TOOL, concurrency: CONCURRENCY, collect: out}
"""


def calibrate(milliseconds: float) -> int:
    """Loop rounds that take about `milliseconds` here."""
    from bench_dask_tools import spin  # type: ignore[import-not-found]

    rounds = 10_000
    while True:
        began = time.perf_counter()
        spin(rounds)
        took = time.perf_counter() - began
        if took > 0.05:
            return max(1, int(rounds * milliseconds / 1000 / took))
        rounds *= 4


def load(folder: Path, tool: str, concurrency: int):
    from wfe import Workflow

    path = folder / f"{tool}_{concurrency}.yaml"
    path.write_text(WORKFLOW.replace("TOOL", tool).replace("CONCURRENCY", str(concurrency)))
    return Workflow.load(path, entry_points=False)


def bare_processes(items: int, rounds: int) -> tuple[float, float]:
    """(one process, a Pool of two) seconds for the same loops, without wfe or Dask."""
    import multiprocessing

    from bench_dask_tools import spin  # type: ignore[import-not-found]

    began = time.perf_counter()
    for _ in range(items):
        spin(rounds)
    one = time.perf_counter() - began
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(spin, [1, 1])  # its warm-up: the workers start and import
        began = time.perf_counter()
        pool.map(spin, [rounds] * items, chunksize=1)
        two = time.perf_counter() - began
    return one, two


def bare_dask_map(client, items: int, rounds: int) -> float:
    """Seconds for the same loops as bare Dask tasks: one `client.map`, one `gather`."""
    from bench_dask_tools import spin  # type: ignore[import-not-found]

    began = time.perf_counter()
    client.gather(client.map(spin, [rounds] * items, pure=False))
    return time.perf_counter() - began


def bare_dask(client, items: list[int], in_flight: int) -> float:
    """Seconds for the same no-op calls as plain Dask tasks, `in_flight` at a time: Dask's own
    cost, measured beside wfe's."""
    from bench_dask_tools import noop  # type: ignore[import-not-found]
    from distributed import as_completed

    began = time.perf_counter()
    waiting = as_completed([client.submit(noop, item, pure=False)
                            for item in items[:in_flight]], with_results=True, loop=client.loop)
    rest = iter(items[in_flight:])
    for _done in waiting:
        item = next(rest, None)
        if item is not None:
            waiting.add(client.submit(noop, item, pure=False))
    return time.perf_counter() - began


def timed(workflow, inputs: dict, executor) -> float:
    """One run, in seconds."""
    began = time.perf_counter()
    result = asyncio.run(workflow.arun(inputs, executor=executor))
    took = time.perf_counter() - began
    assert result.status == "succeeded", result.error
    return took


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """`median (min-max)` of `values` times `scale`."""
    low, mid, high = (round(v * scale, digits) for v in
                      (min(values), statistics.median(values), max(values)))
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--ms", type=float, default=50.0, help="CPU time per item")
    parser.add_argument("--repeat", type=int, default=3, help="rounds")
    args = parser.parse_args()
    try:
        from wfe.executors.cluster import open_executor
    except ImportError:
        print("dask_map: the `dask` extra is not installed (pip install 'wfe[dask]')")
        return
    folder = Path(tempfile.mkdtemp(prefix="wfe-bench-dask-"))
    (folder / "bench_dask_tools.py").write_text(TOOLS)
    sys.path.insert(0, str(folder))
    rounds = calibrate(args.ms)
    items = list(range(args.items))
    began = time.perf_counter()
    cluster = open_executor("dask?workers=2&threads=1", "benchmark")
    assert cluster is not None
    start_up = time.perf_counter() - began
    try:
        burn = load(folder, "burn", 64)
        cluster.check([burn.graph.nodes["each"].tool])
        cpu_bound(args, burn, cluster, items, rounds, start_up)
        per_item(args, folder, cluster, items)
    finally:
        cluster.close()


def cpu_bound(args: argparse.Namespace, burn, cluster, items: list[int], rounds: int,
              start_up: float) -> None:
    inputs = {"items": items, "rounds": rounds}
    for executor in (None, cluster):  # untimed warm-up, as the Pool's
        timed(burn, {"items": [0, 1], "rounds": 1}, executor)
    bare_dask_map(cluster.client, 2, 1)
    runs = [(timed(burn, inputs, None), timed(burn, inputs, cluster),
             bare_dask_map(cluster.client, args.items, rounds),
             *bare_processes(args.items, rounds)) for _ in range(args.repeat)]
    local, remote, bare, one, two = (list(column) for column in zip(*runs, strict=True))
    pool = [o / t for o, t in zip(one, two, strict=True)]
    speed_up = [lo / r for lo, r in zip(local, remote, strict=True)]
    share = [s / p for s, p in zip(speed_up, pool, strict=True)]
    bare_share = [o / b / p for o, b, p in zip(one, bare, pool, strict=True)]
    print(f"map of {args.items} CPU-bound items (~{args.ms:g} ms each, {rounds} rounds), "
          f"{args.repeat} rounds, median (range):")
    print(f"  local executor (one process)   {spread(local)} s")
    print(f"  dask, 2 workers x 1 thread     {spread(remote)} s   speed-up {spread(speed_up)}x "
          f"(target >= 1.8x)")
    print(f"  floor: 1 bare process {spread(one)} s, a Pool of 2 {spread(two)} s: speed-up "
          f"{spread(pool)}x (the parallelism this machine gives now)")
    print(f"  dask's speed-up is {spread(share, 100, 0)}% of the Pool's, each round against "
          f"its own (target >= 95%)")
    print(f"  bare Dask tasks (client.map, one gather) {spread(bare)} s: "
          f"{spread(bare_share, 100, 0)}% of the Pool's speed-up (Dask's own ceiling)")
    print(f"  LocalCluster start-up          {start_up:8.2f} s (once per `wfe run`)")


def per_item(args: argparse.Namespace, folder: Path, cluster, items: list[int]) -> None:
    print(f"per-item overhead of the Dask path ({args.items} no-op items), "
          f"median of {max(args.repeat, 3)} rounds:")
    for concurrency in (64, 1):
        noop = load(folder, "noop", concurrency)
        runs = [(timed(noop, {"items": items}, None),
                 timed(noop, {"items": items}, cluster),
                 bare_dask(cluster.client, items, concurrency))
                for _ in range(max(args.repeat, 3))]
        base, dask, bare = (statistics.median(column) for column in zip(*runs, strict=True))
        per_item = 1000 / args.items
        print(f"  concurrency {concurrency:3d}: local {base * per_item * 1000:6.0f} us/item, "
              f"dask {dask * per_item:6.2f} ms/item, overhead "
              f"{(dask - base) * per_item:6.2f} ms/item (target <= 1.2 ms at 64); "
              f"bare Dask tasks {bare * per_item:6.2f} ms/item")


if __name__ == "__main__":  # the cluster's worker processes import this file again
    main()
