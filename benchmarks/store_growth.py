"""A stored step's cost as the state and the graph grow (issue 20's targets).

Growing state: a loop of one node that appends an item to a list and counts, every step
committed to a fresh store, with the list holding 0, 1k, 10k and 100k items when the run starts.
Target: a stored step with 100k items <= 1.5 x the same step with an empty list.

Large graph: the same counting step in a cycle of 1000 nodes against a 2-node loop (the visit
counts of 1000 nodes). Target: <= 1.3 x.

A step's cost is the time from the commit of the run's first step to that of its last, over
the steps between: the whole step (engine, events and store, on a fresh file), without what a
run pays once (creating it with its initial state, the final state in `run_finished` and in the
run's row). Runs are interleaved and repeated; the minimum and the median are printed, never
asserted.

    python benchmarks/store_growth.py [--steps 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfe import Workflow  # noqa: E402
from wfe.engine.journal import StepDone  # noqa: E402
from wfe.engine.loop import Engine  # noqa: E402
from wfe.executors import LocalExecutor  # noqa: E402
from wfe.ids import new_run_id  # noqa: E402
from wfe.store import Store  # noqa: E402
from wfe.store.journal import StoreJournal, new_run  # noqa: E402

TOOLS = '''
from wfe import tool

@tool
def grow(i: int) -> dict:
    return {"i": i + 1, "items": {"n": i, "path": "src/a.py", "ok": True}}

@tool
def count(i: int) -> dict:
    return {"i": i + 1}
'''

GROWING = """
imports: [growth_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 10}
  items: {type: "list[dict]", reduce: append, default: []}
limits: {max_steps: 100000000, timeout: 3600}
nodes:
  grow:
    tool: grow
    next:
      - when: i < n
        then: grow
      - then: end
"""


def cycle(size: int) -> str:
    """A cycle of `size` counting nodes, leaving it when the count is reached."""
    nodes = []
    for k in range(size):
        after = f"c{(k + 1) % size}"
        nodes.append(f"  c{k}:\n    tool: count\n    next:\n      - when: i < n\n"
                     f"        then: {after}\n      - then: end\n")
    return textwrap.dedent("""
        imports: [growth_tools]
        state:
          i: {type: int, default: 0}
          n: {type: int, default: 10}
        limits: {max_steps: 100000000, timeout: 3600}
        nodes:
        """) + "".join(nodes)


class Timed(StoreJournal):
    """The store's journal, noting when each step's commit returned."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.times: list[float] = []

    def step_done(self, done: StepDone, state: dict[str, Any], visits: dict[str, int]) -> bool:
        cancelled = super().step_done(done, state, visits)
        self.times.append(time.perf_counter())
        return cancelled


def per_step(workflow: Workflow, path: Path, steps: int, items: int) -> float:
    """Microseconds per step of a stored run of `steps` steps whose list starts with `items`."""
    graph = workflow.graph
    with Store.open(path) as store:
        state = graph.schema.initial({"n": steps})
        if "items" in graph.schema:
            state["items"] = [{"n": -k, "path": "src/a.py", "ok": True} for k in range(items)]
        run_id = new_run_id()
        lease = store.create_run(new_run(graph, run_id, {"n": steps}, state))
        journal = Timed(store, lease, graph)
        engine = Engine(graph, run_id=run_id, listeners=[journal],
                        executor=LocalExecutor(), journal=journal)
        result = asyncio.run(engine.run(state))
    assert result.status == "succeeded", result.error
    times = journal.times
    return (times[-1] - times[0]) / (len(times) - 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = (0, 1_000, 10_000, 100_000)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "growth_tools.py").write_text(TOOLS)
        (folder / "growing.yaml").write_text(GROWING)
        (folder / "big.yaml").write_text(cycle(1000))
        (folder / "small.yaml").write_text(cycle(2))
        growing = Workflow.load(folder / "growing.yaml", entry_points=False)
        graphs = {size: Workflow.load(folder / f"{size}.yaml", entry_points=False)
                  for size in ("small", "big")}
        times: dict[Any, list[float]] = {key: [] for key in (*sizes, "small", "big")}
        for r in range(args.repeat):
            for size in sizes:
                times[size].append(per_step(growing, folder / f"g{size}-{r}.db", args.steps,
                                            size))
            for key, workflow in graphs.items():
                times[key].append(per_step(workflow, folder / f"{key}-{r}.db", args.steps, 0))
    print(f"stored step, {args.steps} steps a run, {args.repeat} interleaved repeats (us/step):")
    for size in sizes:
        print(f"  list of {size:>7,} items: min {min(times[size]):7.1f}, median "
              f"{statistics.median(times[size]):7.1f}")
    print(f"  100k against empty: {_ratios(times[100_000], times[0])} (target <= 1.5)")
    for key, label in (("small", "2-node loop"), ("big", "1000-node cycle")):
        print(f"  {label:<16}: min {min(times[key]):7.1f}, median "
              f"{statistics.median(times[key]):7.1f}")
    print(f"  1000 nodes against 2: {_ratios(times['big'], times['small'])} (target <= 1.3)")


def _ratios(these: list[float], those: list[float]) -> str:
    low = min(these) / min(those)
    middle = statistics.median(these) / statistics.median(those)
    return f"{low:.2f} x at the minimums, {middle:.2f} x at the medians"


if __name__ == "__main__":
    main()
