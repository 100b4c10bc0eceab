"""Time to reject each hostile expression and each bad workflow file (max and median)."""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

from wfe.expr import compile_expression
from wfe.validate import validate_file

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
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


if __name__ == "__main__":
    main()
