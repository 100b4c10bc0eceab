"""What capturing a tool's output and watching async tools cost per call.

- an inline sync call through `wfe.tools.context.call_tool` against calling the function directly;
- one printed line that becomes a `log` event (the sink does nothing here);
- an async call through `LocalExecutor.call`, without and with a timeout (the loop guard's
  bookkeeping and `asyncio.timeout` included).
Figures are printed, never asserted (the machine is shared and noisy: compare within a run).

    python benchmarks/tool_output.py [--calls 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import timeit
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfe.executors.executor import LocalExecutor  # noqa: E402
from wfe.tools.context import StepInfo, call_tool  # noqa: E402


def inc(i: int) -> dict[str, int]:
    return {"i": i + 1}


async def echo(item: int) -> int:
    return item


def best_us(function: object, calls: int, repeat: int) -> float:
    return min(timeit.repeat(function, number=calls, repeat=repeat)) / calls * 1e6  # type: ignore[arg-type]


async def async_calls(calls: int, timeout: float | None) -> float:
    executor, step = LocalExecutor(), StepInfo("bench", None)
    tool = SimpleNamespace(fn=echo, is_async=True, name="echo")
    loop = asyncio.get_running_loop()
    began = loop.time()
    for item in range(calls):
        await executor.call(tool, {"item": item}, timeout, step)  # type: ignore[arg-type]
    return (loop.time() - began) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    step, kwargs = StepInfo("bench", lambda node, message: None), {"i": 1}
    direct = best_us(lambda: inc(**kwargs), args.calls, args.repeat)
    captured = best_us(lambda: call_tool(inc, kwargs, step), args.calls, args.repeat)
    print(f"inline call: direct {direct:.3f} us, through call_tool {captured:.3f} us "
          f"(+{captured - direct:.3f} us)")
    line = best_us(lambda: step.printed("a line of text\n"), args.calls, args.repeat)
    print(f"a printed line to a log event: {line:.3f} us")
    for timeout in (None, 30.0):
        per_call = min(asyncio.run(async_calls(args.calls // 5, timeout))
                       for _ in range(args.repeat))
        print(f"async call, timeout {timeout}: {per_call:.2f} us")


if __name__ == "__main__":
    main()
