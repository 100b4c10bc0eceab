"""Figures for the timed targets of shared/research/reliability.md §6 that no other benchmark
prints (printed, never asserted; SECURITY.md tables every target):

- target 5, the load budget: a typical workflow under 20 KB in < 100 ms, any input up to 1 MiB
  loaded or refused in < 3 s, an input over 1 MiB refused in < 50 ms; each through everything
  `wfe validate FILE` does (tests/adversarial_inputs.py holds the inputs);
- target 12, timeouts: how long after its timeout an async tool is cancelled, a sync tool is
  abandoned and a run's deadline stops an endless loop (target: within timeout + 1 s).

Targets 1 and 4 (per expression, per corpus file) are printed by rejection_times.py, target 6
by fuzz_loader.py.

    python benchmarks/reliability_targets.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from adversarial_inputs import ADVERSARIAL, oversized, typical  # noqa: E402
from fuzz_workflows import prepare_folder  # noqa: E402

from wfe import Workflow  # noqa: E402
from wfe.graph.validate import validate_file  # noqa: E402

TIMEOUT = 0.2
TIMEOUT_TOOLS = """
import asyncio, time
from wfe import tool

@tool
async def async_wait() -> None:
    await asyncio.sleep(60)

@tool
def sync_wait() -> None:
    time.sleep(2)

@tool
def spin(i: int) -> dict:
    return {"i": i + 1}
"""
TIMEOUT_WORKFLOWS = {
    "async tool past its timeout (cancelled)":
        f"nodes:\n  a: {{tool: async_wait, timeout: {TIMEOUT}}}\n",
    "sync tool past its timeout (abandoned)":
        f"nodes:\n  a: {{tool: sync_wait, timeout: {TIMEOUT}}}\n",
    "run deadline on an endless loop":
        f"state: {{i: {{type: int, default: 0}}}}\n"
        f"limits: {{timeout: {TIMEOUT}, max_steps: 100000000}}\n"
        "nodes:\n  a:\n    tool: spin\n    next: [{when: i >= 0, then: a}, {then: end}]\n",
}


def best_time(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, outcome = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        outcome = action()
        times.append(time.perf_counter() - began)
    return min(times), outcome


def validate_bytes(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    errors = [p for p in validate_file(path) if p.severity == "error"]
    return f"refused {errors[0].code} at {errors[0].location.line}:{errors[0].location.col}" \
        if errors else "loaded"


def load_budget(repeat: int) -> None:
    print("load budget (target 5; through everything `wfe validate FILE` does), best of "
          f"{repeat}:")
    with tempfile.TemporaryDirectory() as work:
        path = prepare_folder(Path(work))
        adversarial = {f"{name} (target < 3 s)": make().encode()
                       for name, make in ADVERSARIAL.items()}
        inputs = {"typical workflow (target < 100 ms)": typical().encode(),
                  "over 1 MiB (target < 50 ms)": oversized(), **adversarial}
        worst = (0.0, "")
        for name, data in inputs.items():
            took, outcome = best_time(lambda data=data: validate_bytes(path, data), repeat)
            print(f"  {name}, {len(data) / 1024:.0f} KiB: {took * 1000:.0f} ms, {outcome}")
            if name in adversarial:
                worst = max(worst, (took, name))
        print(f"  worst input up to 1 MiB: {worst[0]:.2f} s ({worst[1]})")


def timed_run(workflow: Workflow) -> tuple[float, float, str]:
    """Seconds until the run finished (its last event), until `run()` returned, and its error."""
    began = time.perf_counter()
    finished: list[float] = []

    def listen(event: dict[str, object]) -> None:
        if event["event"] == "run_finished":
            finished.append(time.perf_counter() - began)

    result = workflow.run(listeners=[listen])
    return finished[0], time.perf_counter() - began, type(result.error).__name__


def timeouts(repeat: int) -> None:
    print(f"timeouts (target 12: stopped within timeout + 1 s), timeout {TIMEOUT} s, worst of "
          f"{repeat}:")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        (folder / "timeout_bench_tools.py").write_text(TIMEOUT_TOOLS)
        for name, text in TIMEOUT_WORKFLOWS.items():
            path = folder / "wf.yaml"
            path.write_text("imports: [timeout_bench_tools]\n" + text)
            workflow = Workflow.load(path, entry_points=False)
            runs = [timed_run(workflow) for _ in range(repeat)]
            ended, returned = max(r[0] for r in runs), max(r[1] for r in runs)
            print(f"  {name}: run finished after {ended:.3f} s ({runs[-1][2]}; "
                  f"{ended - TIMEOUT:.3f} s past the timeout); run() returned after "
                  f"{returned:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    load_budget(options.repeat)
    timeouts(options.repeat)


if __name__ == "__main__":
    main()
