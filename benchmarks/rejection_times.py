"""Time to reject each hostile expression and each bad workflow file (max and median), and the
time and peak traced memory of `wfe validate`'s check of each hostile subgraph shape."""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from subgraph_shapes import SHAPES, write  # noqa: E402

from wfe.expr import compile_expression  # noqa: E402
from wfe.validate import validate_file  # noqa: E402

DATA = ROOT / "tests" / "data"
STATE = {"i": 0, "x": 5, "name": "bob", "items": [1, 2, 3],
         "visits": {"a": 1}, "step": 3, "inputs": {"x": 5}}


def reject_expression(text: str) -> None:
    with contextlib.suppress(Exception):  # any rejection counts; only the time matters
        compile_expression(text).evaluate(STATE)


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
