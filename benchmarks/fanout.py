"""Fan-out costs: W3 of ../shared/research/peer-timings.md, and a map of 10,000 trivial items.

- `parallel:` with 100 and 1,000 branches that each `await asyncio.sleep(0.01)`: wall time against
  the 10 ms ideal and a bare `asyncio.gather` floor measured in the same run (targets: 1,000 under
  30 ms, 100 under 14 ms; Burr ~126 / ~21 ms, LangGraph ~213 / ~26 ms).
- `map:` over 10,000 items of a trivial async tool: per-item overhead (target under 20 us).
Figures are printed, never asserted.

    python benchmarks/fanout.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, TypedDict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfe import Workflow  # noqa: E402

TOOLS = """
import asyncio
from wfe import tool

@tool
async def nap(i: int) -> dict:
    await asyncio.sleep(0.01)
    return {"total": i}

@tool
async def echo(item: int) -> int:
    return item
"""


def fan_workflow(branches: int) -> str:
    lines = ["imports: [bench_fan_tools]", "state:", "  total: {type: int, reduce: add}",
             "nodes:", "  fan:", "    parallel:"]
    lines += [f"      b{i}: {{tool: nap, with: {{i: {i}}}}}" for i in range(branches)]
    return "\n".join(lines) + "\n"


MAP_WORKFLOW = """imports: [bench_fan_tools]
state:
  items: list
  out: list
nodes:
  each: {map: items, tool: echo, concurrency: 64, collect: out}
"""


async def gather_floor(branches: int) -> None:
    async def branch() -> None:
        await asyncio.sleep(0.01)

    await asyncio.gather(*(branch() for _ in range(branches)))


try:  # the `bench` extra: the same workload in LangGraph, for comparison
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send
except ImportError:
    StateGraph = None


class LangGraphState(TypedDict, total=False):
    x: int
    results: Annotated[list[int], operator.add]


def langgraph_fanout(branches: int) -> object | None:
    """The same W3 workload in LangGraph (its Send API), when the `bench` extra is installed."""
    if StateGraph is None:
        return None
    async def work(state: LangGraphState) -> dict[str, list[int]]:
        await asyncio.sleep(0.01)
        return {"results": [state["x"]]}

    def fan(state: LangGraphState) -> list[Send]:
        return [Send("work", {"x": i}) for i in range(branches)]

    graph = StateGraph(LangGraphState)
    graph.add_node("work", work)
    graph.add_conditional_edges(START, fan, ["work"])
    graph.add_edge("work", END)
    compiled = graph.compile()
    return lambda: asyncio.run(compiled.ainvoke({}))


def timed(action: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_fan_tools.py").write_text(TOOLS)
        print("W3 fan-out, each branch sleeps 10 ms (ideal 10 ms), median wall time:")
        for branches, target in ((100, 14), (1000, 30)):
            Path(folder, f"fan{branches}.yaml").write_text(fan_workflow(branches))
            wf = Workflow.load(Path(folder, f"fan{branches}.yaml"), entry_points=False)
            assert wf.run().state["total"] == sum(range(branches))
            seconds = timed(lambda w=wf: w.run(), args.repeat)  # type: ignore[misc]
            floor = timed(lambda b=branches: asyncio.run(gather_floor(b)), args.repeat)  # type: ignore[misc]
            peer = langgraph_fanout(branches)
            shown = (f"   LangGraph {timed(peer, args.repeat) * 1000:6.1f} ms" if peer is not None
                     else "   (LangGraph: pip install -e '.[bench]')")
            print(f"  {branches:>5} branches: wfe {seconds * 1000:6.1f} ms   asyncio.gather floor "
                  f"{floor * 1000:5.1f} ms{shown}   (target < {target} ms)")
        Path(folder, "map.yaml").write_text(MAP_WORKFLOW)
        wf = Workflow.load(Path(folder, "map.yaml"), entry_points=False)
        items = list(range(10_000))
        assert wf.run({"items": items}).state["out"] == items
        seconds = timed(lambda: wf.run({"items": items}), args.repeat)
        print(f"  map of 10,000 trivial items: {seconds * 1e6 / len(items):.1f} us per item "
              "(target < 20 us)")
    print("  peers (peer-timings.md): 1,000 branches Burr ~126 ms, LangGraph ~213 ms")


if __name__ == "__main__":
    main()
