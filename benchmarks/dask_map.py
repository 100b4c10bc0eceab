"""A map of CPU-bound items in one process against a 2-worker Dask LocalCluster.

- `map:` over 200 items of a pure-Python loop calibrated to ~50 ms each: the local executor (one
  process: sync tools in threads, so the GIL serialises them) against `--executor dask` on a
  LocalCluster of 2 worker processes with 1 thread each. Prints both times and the speed-up
  (target: at least 1.8x on a 2-core machine), next to the speed-up two bare processes get on
  the same work (a multiprocessing Pool): what this machine gives at the moment (on a shared
  machine, often much less than 2x).
- The per-item overhead of the Dask path: maps of 200 no-op items, Dask against local, with 64
  items in flight (throughput) and with one at a time (a call's round trip), next to the same
  calls as bare Dask tasks (`client.submit`, as many in flight): Dask's own cost.
The cluster's start-up is timed apart (it is paid once per `wfe run`). Figures are printed,
never asserted. Needs the `dask` extra.

    python benchmarks/dask_map.py [--items 200] [--ms 50] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
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
        pool.map(spin, [1, 1])
        began = time.perf_counter()
        pool.map(spin, [rounds] * items, chunksize=1)
        two = time.perf_counter() - began
    return one, two


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


def timed(workflow, inputs: dict, executor, repeat: int) -> float:
    """The best of `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = asyncio.run(workflow.arun(inputs, executor=executor))
        times.append(time.perf_counter() - began)
        assert result.status == "succeeded", result.error
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--ms", type=float, default=50.0, help="CPU time per item")
    parser.add_argument("--repeat", type=int, default=1)
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
        cluster.check([burn.graph.nodes["each"].tool])  # type: ignore[list-item]
        inputs = {"items": items, "rounds": rounds}
        # Interleaved, best of each: on a shared machine the CPU on offer changes by the second,
        # and the four figures must see the same machine for their ratios to mean anything.
        runs = [(timed(burn, inputs, None, 1), timed(burn, inputs, cluster, 1),
                 *bare_processes(args.items, rounds)) for _ in range(args.repeat)]
        local, remote, one, two = (min(column) for column in zip(*runs, strict=True))
        print(f"map of {args.items} CPU-bound items (~{args.ms:g} ms each, {rounds} rounds), "
              f"best of {args.repeat}, interleaved:")
        print(f"  local executor (one process)   {local:8.2f} s")
        print(f"  dask, 2 workers x 1 thread     {remote:8.2f} s   speed-up {local / remote:.2f}x "
              f"(target >= 1.8x)")
        print(f"  floor: 1 bare process {one:.2f} s, a Pool of 2 {two:.2f} s: speed-up "
              f"{one / two:.2f}x (the parallelism this machine gives now)")
        print(f"  dask's speed-up is {local / remote / (one / two):.0%} of the Pool's "
              f"(target >= 95%)")
        print(f"  LocalCluster start-up          {start_up:8.2f} s (once per `wfe run`)")
        print(f"per-item overhead of the Dask path ({args.items} no-op items):")
        for concurrency in (64, 1):
            noop = load(folder, "noop", concurrency)
            runs = [(timed(noop, {"items": items}, None, 1),
                     timed(noop, {"items": items}, cluster, 1),
                     bare_dask(cluster.client, items, concurrency))
                    for _ in range(max(args.repeat, 3))]
            base, dask, bare = (min(column) for column in zip(*runs, strict=True))
            per_item = 1000 / args.items
            print(f"  concurrency {concurrency:3d}: local {base * per_item * 1000:6.0f} us/item, "
                  f"dask {dask * per_item:6.2f} ms/item, overhead "
                  f"{(dask - base) * per_item:6.2f} ms/item (target <= 1.2 ms at 64); "
                  f"bare Dask tasks {bare * per_item:6.2f} ms/item")
    finally:
        cluster.close()


if __name__ == "__main__":  # the cluster's worker processes import this file again
    main()
