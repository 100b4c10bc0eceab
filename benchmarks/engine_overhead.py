"""Engine overhead per node execution, and the cold start of `wfe run --dry-run`.

W1 of ../shared/research/peer-timings.md: a 2-node loop (inc -> check -> inc ... while i < n) of
sync tools, no store, no listeners. Printed next to a plain-Python floor measured in the same run
(compare ratios: the machine is shared and noisy). Also the same loop through the code path of
`wfe run -q --no-store` (its front end, signal handling and report, timed in this process so that
start-up does not count). Targets: <= 3 us per node execution; the CLI path <= 1.5x the engine
alone; cold start < 0.2 s. Nothing here asserts a timing.

    python benchmarks/engine_overhead.py [--steps 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import subprocess
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
def inc(i: int) -> dict:
    return {"i": i + 1}

@tool
def check() -> None:
    return None
'''

WORKFLOW = """
name: loop
imports: [bench_tools]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 10}
limits: {max_steps: 100000000, timeout: 3600}
nodes:
  inc:
    tool: inc
    next: check
  check:
    tool: check
    next:
      - when: i < n
        then: inc
      - then: end
"""


def inc(i: int) -> dict[str, int]:
    return {"i": i + 1}


def check() -> None:
    return None


def floor(n: int) -> None:
    """The same functions, dispatched from a dict by a plain while loop."""
    functions = {"inc": lambda s: inc(s["i"]), "check": lambda s: check()}
    state = {"i": 0, "n": n}
    node = "inc"
    while True:
        result = functions[node](state)
        if result:
            state.update(result)
        if node == "inc":
            node = "check"
        elif state["i"] < n:
            node = "inc"
        else:
            break


def cli_quiet(workflow: Workflow, file: Path, n: int) -> None:
    """What `wfe run FILE -q --no-store -i n=N` does once the file is loaded."""
    from wfe.cli.run_command import RunOptions, execute
    from wfe.ids import new_run_id

    options = RunOptions(file, quiet=True, no_store=True)
    inputs = {"n": n}
    code = execute(workflow, options, inputs, workflow.initial_state(inputs), journal=None,
                   run_id=new_run_id())
    assert code == 0, code


def timed(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return times


def cold_start(repeat: int) -> list[float]:
    command = [sys.executable, "-m", "wfe", "run", "workflows/code_review.yaml", "--dry-run"]
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False)  # warm the page cache
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - began)
        if done.returncode != 0:
            print("dry run failed:", done.stderr.decode()[-500:])
            break
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000, help="loop iterations (2 nodes each)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, executions = args.steps, 2 * args.steps

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_tools.py").write_text(textwrap.dedent(TOOLS))
        Path(folder, "loop.yaml").write_text(WORKFLOW)
        workflow = Workflow.load(Path(folder, "loop.yaml"), entry_points=False)
        result = workflow.run({"n": n})
        assert result.ok and result.state["i"] == n, result

        file = Path(folder, "loop.yaml")
        # In turns, one of each per round: whichever went first in a block of its own ran
        # slower, whatever it was (the machine warming up), which read as a cost of the code.
        engine_times, cli_times, floor_times = [], [], []
        for _ in range(args.repeat):
            engine_times += timed(lambda: workflow.run({"n": n}), 1)
            cli_times += timed(lambda: cli_quiet(workflow, file, n), 1)
            floor_times += timed(lambda: floor(n), 1)

    def per_node(times: list[float]) -> tuple[float, float]:
        return min(times) / executions * 1e6, statistics.median(times) / executions * 1e6

    # The minimum is what the code costs (as timeit reports it); the median adds what the
    # shared machine took from it. Both are printed, the targets read against both.
    engine, floor_, cli = per_node(engine_times), per_node(floor_times), per_node(cli_times)
    print(f"W1 loop, {executions} node executions, {args.repeat} runs (us/node, min / median):")
    print(f"  floor (plain Python)     {floor_[0]:6.2f} / {floor_[1]:6.2f}")
    print(f"  wfe engine               {engine[0]:6.2f} / {engine[1]:6.2f}   (target <= 3 us)")
    print(f"  wfe overhead over floor  {engine[0] - floor_[0]:6.2f} / {engine[1] - floor_[1]:6.2f}")
    print(f"  `wfe run -q --no-store`  {cli[0]:6.2f} / {cli[1]:6.2f}   "
          f"({cli[0] / engine[0]:.2f}x / {cli[1] / engine[1]:.2f}x the engine; "
          "target <= 1.5x)")
    print("  peers on this workload (peer-timings.md): burr ~31 us, langgraph ~170 us")

    starts = cold_start(args.repeat)
    if starts:
        print(f"cold start `wfe run workflows/code_review.yaml --dry-run`: "
              f"median {statistics.median(starts) * 1000:.0f} ms, min {min(starts) * 1000:.0f} ms"
              "   (target < 200 ms; importing langgraph alone: ~650 ms)")


if __name__ == "__main__":
    main()
