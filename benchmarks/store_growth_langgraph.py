"""LangGraph on the growing-state workload of store_growth.py: a loop of one node appending an
item to a list (an `operator.add` channel) and counting, checkpointed by SqliteSaver to a fresh
file, with 0, 1k, 10k and 100k items in the list when the run starts. A step's cost is the time
from its first node's start to its last one's, over the steps between. LangGraph is not a
dependency of wfe: run this with a Python that has `langgraph` and
`langgraph-checkpoint-sqlite` (`python -m venv /tmp/lg && /tmp/lg/bin/pip install ...`).

    /tmp/lg/bin/python benchmarks/store_growth_langgraph.py [--steps 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import operator
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict


def per_step(path: Path, steps: int, items: int) -> float:
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, StateGraph

    class State(TypedDict):
        i: int
        n: int
        items: Annotated[list[dict[str, Any]], operator.add]

    times: list[float] = []

    def grow(state: State) -> dict[str, Any]:
        times.append(time.perf_counter())
        i = state["i"]
        return {"i": i + 1, "items": [{"n": i, "path": "src/a.py", "ok": True}]}

    builder = StateGraph(State)
    builder.add_node("grow", grow)
    builder.set_entry_point("grow")
    builder.add_conditional_edges("grow", lambda s: "grow" if s["i"] < s["n"] else END)
    conn = sqlite3.connect(path, check_same_thread=False)
    graph = builder.compile(checkpointer=SqliteSaver(conn))
    start = [{"n": -k, "path": "src/a.py", "ok": True} for k in range(items)]
    graph.invoke({"i": 0, "n": steps, "items": start},
                 {"configurable": {"thread_id": "1"}, "recursion_limit": steps + 10})
    conn.close()
    return (times[-1] - times[0]) / (len(times) - 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = (0, 1_000, 10_000, 100_000)
    times: dict[int, list[float]] = {size: [] for size in sizes}
    with tempfile.TemporaryDirectory() as name:
        for r in range(args.repeat):
            for size in sizes:
                times[size].append(per_step(Path(name, f"lg{size}-{r}.db"), args.steps, size))
    print(f"LangGraph SqliteSaver, {args.steps} steps a run (us/step):")
    for size in sizes:
        print(f"  list of {size:>7,} items: min {min(times[size]):8.1f}, median "
              f"{statistics.median(times[size]):8.1f}")


if __name__ == "__main__":
    main()
