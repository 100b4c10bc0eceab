"""Time to reject each hostile expression and each bad workflow file (max and median), and the
time and memory each amplification shape (nested function calls, templates, subgraph fans and
chains) takes to be refused or bounded. Every case should be answered in under 1 s and a few MB;
printed, not asserted.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from subgraph_shapes import SHAPES, write  # noqa: E402

from wfe.expr.expression import compile_expression  # noqa: E402
from wfe.expr.template import compile_template  # noqa: E402
from wfe.graph.validate import validate_file  # noqa: E402

DATA = ROOT / "tests" / "data"
STATE = {"i": 0, "x": 5, "name": "bob", "items": [1, 2, 3],
         "visits": {"a": 1}, "step": 3, "inputs": {"x": 5}}


def reject_expression(text: str) -> None:
    with contextlib.suppress(Exception):  # any rejection counts; only the time matters
        compile_expression(text).evaluate(STATE)


def amplification_cases() -> dict[str, Callable[[], object]]:
    """Each shape at its worst: what issue 15 measured at 226 s and 10 GB for 8 levels."""
    cases: dict[str, Callable[[], object]] = {}
    for levels in (1, 2, 4, 8, 16):
        nested = "str(sorted(" * levels + "'ab' * 5000" + "))" * levels
        cases[f"str(sorted()) x{levels} at load"] = lambda text=nested: compile_expression(text)
        at_run = "str(sorted(" * levels + "s" + "))" * levels
        cases[f"str(sorted()) x{levels} at run"] = (
            lambda text=at_run: compile_expression(text).evaluate({"s": "ab" * 5000}))
    cases["template of 100 x 9,000 at load"] = lambda: compile_template("${ 'x' * 9000 }" * 100)
    cases["template of 100,000 parts at load"] = lambda: compile_template("${ s }" * 100_000)
    many = compile_template("${ s }" * 100)
    assert many is not None
    cases["template of 100 x 10,000 at run"] = lambda: many.render({"s": "x" * 10_000})
    deep, big = {"deep": _nested(10_000)}, {"big": list(range(1_000_000))}
    cases["str() of 10,000 nested lists"] = lambda: compile_expression("str(deep)").evaluate(deep)
    cases["sorted() of 1,000,000 items"] = lambda: compile_expression("sorted(big)").evaluate(big)
    return cases


def _nested(levels: int) -> list[object]:
    value: list[object] = []
    for _ in range(levels):
        value = [value]
    return value


def measure_amplification() -> None:
    worst_time, worst_memory = 0.0, 0
    for label, case in amplification_cases().items():
        tracemalloc.start()
        began = time.perf_counter()
        with contextlib.suppress(Exception):  # refused or bounded: both are answers
            case()
        took = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        worst_time, worst_memory = max(worst_time, took), max(worst_memory, peak)
        print(f"  {label}: {took * 1000:.2f} ms, peak {peak / 1e6:.2f} MB")
    verdict = "yes" if worst_time < 1 else "NO"
    print(f"amplification: slowest {worst_time * 1000:.2f} ms, most memory "
          f"{worst_memory / 1e6:.2f} MB; every case under 1 s: {verdict}")


def report(label: str, times: dict[str, float]) -> None:
    worst = max(times, key=times.__getitem__)
    print(f"{label}: {len(times)} cases, median {statistics.median(times.values()) * 1000:.3f} ms, "
          f"max {times[worst] * 1000:.3f} ms ({worst[:60]!r})")


def main() -> None:
    expressions = {}
    for line in (DATA / "expr" / "bad_expressions.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            text = line.rsplit("\t", 1)[0]
            began = time.perf_counter()
            reject_expression(text)
            expressions[text] = time.perf_counter() - began
    report("bad_expressions.txt", expressions)
    files = {}
    for path in sorted((DATA / "bad_yaml").glob("*.yaml")):
        began = time.perf_counter()
        validate_file(path)
        files[path.name] = time.perf_counter() - began
    report("bad_yaml", files)
    measure_amplification()
    subgraph_shapes()


def subgraph_shapes() -> None:
    """Each shape's first file validated (the time of a plain run, then the peak traced memory
    of a second one): every case is to be answered in under 1 s."""
    for name, make in SHAPES.items():
        with tempfile.TemporaryDirectory() as folder:
            top = write(Path(folder), make())
            began = time.perf_counter()
            problems = validate_file(top)
            elapsed = time.perf_counter() - began
            tracemalloc.start()
            validate_file(top)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        causes = [p for p in problems if p.severity == "error" and "is invalid (" not in p.message]
        answer = causes[0].message[:72] if causes else "accepted"
        print(f"{name}: {elapsed * 1000:.0f} ms, peak {peak / 2**20:.1f} MiB traced, "
              f"{len(problems)} problems ({answer})")


if __name__ == "__main__":
    main()
