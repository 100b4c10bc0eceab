"""What a tool's `state` parameter costs beside named arguments, with a large value in state.

The W1 loop of engine_overhead.py (inc -> check -> inc ... while i < n, no store, no listeners)
with a list of --items items in state that the tools never touch, run three ways in one process:
`inc` taking `i` by name; `inc` taking `state` and writing `state["i"]`; and `inc` taking `state`
and appending to the list (which copies that one key on first access, as it must). Target (issue
20): the `state` tool <= 2x the named one at 10,000 items. Nothing here asserts a timing.

    python benchmarks/state_parameter.py [--items 10000] [--steps 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfe import Workflow  # noqa: E402

TOOLS = '''
from wfe import tool

@tool
def by_name(i: int) -> dict:
    return {"i": i + 1}

@tool
def by_state(state) -> None:
    state["i"] += 1

@tool
def appends(state) -> None:
    state["i"] += 1
    state["items"].append(state["i"])

@tool
def check() -> None:
    return None
'''

WORKFLOW = """
name: loop
imports: [state_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 10}
  items: {type: list, default: []}
limits: {max_steps: 100000000, timeout: 3600}
nodes:
  inc:
    tool: TOOL
    next: check
  check:
    tool: check
    next:
      - when: i < n
        then: inc
      - then: end
"""

KINDS = {
    "named arguments (inc(i))": "by_name",
    "`state` parameter, writes i": "by_state",
    "`state` parameter, appends to the list": "appends",
}


def per_step(workflow: Workflow, steps: int, items: int, repeat: int) -> float:
    """Median microseconds per node execution over `repeat` runs."""
    times = []
    for _ in range(repeat):
        inputs = {"n": steps, "items": list(range(items))}
        state = workflow.initial_state(inputs)  # checking the list is not a step's cost
        gc.collect()
        began = time.perf_counter()
        result = asyncio.run(workflow.arun(inputs, state=state))
        times.append(time.perf_counter() - began)
        assert result.ok and result.state["i"] == steps, result
    return statistics.median(times) / (2 * steps) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000, help="items of the list in state")
    parser.add_argument("--steps", type=int, default=2_000, help="loop iterations (2 nodes each)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "state_tools.py").write_text(textwrap.dedent(TOOLS))
        for label, tool in KINDS.items():
            path = Path(folder, f"{tool}.yaml")
            path.write_text(WORKFLOW.replace("TOOL", tool))
            workflow = Workflow.load(path, entry_points=False)
            figures[label] = per_step(workflow, args.steps, args.items, args.repeat)

    named = figures["named arguments (inc(i))"]
    print(f"W1 loop with a {args.items}-item list in state, {2 * args.steps} node executions, "
          f"median of {args.repeat}:")
    for label, figure in figures.items():
        print(f"  {label:40s} {figure:9.2f} us/node   ({figure / named:.2f}x named)")
    print("  target: the `state` parameter that writes i <= 2x named")


if __name__ == "__main__":
    main()
