"""How fast `wfe validate` is, and that its cost grows linearly with the file.

Targets (issue 3): `wfe validate workflows/code_review.yaml` as a whole process < 0.2 s; a
5,000-node file < 1 s; cost linear in the file's size. Also shown: what the position-keeping loader
adds to PyYAML's own parsing, and `wfe run --dry-run` and `wfe graph` as whole processes. Figures
are printed, never asserted.

Whole-process times are measured interleaved with floors that any such program pays (Python
itself; importing typer and PyYAML, which every `wfe validate` needs), so that a busy machine slows
each of them alike; the minimum is the figure least disturbed by others. Also shown, for scale:
importing pydantic and building one model, which `wfe validate` no longer does (the file format
is checked by `wfe.spec.rules`; pydantic checks state values during a run).
wfe's own modules are compiled to bytecode first: an installed wfe has its .pyc files (pip writes
them at install time, an editable install at first import), but with PYTHONDONTWRITEBYTECODE set,
as in some sandboxes and containers, every start would compile wfe from source again (~85 ms).
`compileall` writes them even then, and imports read them.

    python benchmarks/validate_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wfe.graph.validate import validate_file  # noqa: E402
from wfe.spec.yaml_loader import load_yaml  # noqa: E402

TOOLS = "from wfe import tool\n\n@tool\ndef step(i: int) -> dict:\n    return {'i': i + 1}\n"


def chain(nodes: int) -> str:
    """A workflow of `nodes` nodes, each with a condition, like a large generated pipeline."""
    parts = ["imports: [bench_validate_tools]\nstate:\n  i: {type: int, default: 0}\nnodes:\n"]
    for n in range(nodes):
        following = f"n{n + 1}" if n + 1 < nodes else "end"
        parts.append(
            f"  n{n}:\n    tool: step\n    description: node number {n}\n"
            f"    next:\n      - when: i > {n} and i < {n + 100}\n        then: {following}\n"
            f"      - then: end\n"
        )
    return "".join(parts)


def best(action: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return min(times)


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - began


ONE_MODEL = "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int"
WFE = [sys.executable, "-m", "wfe"]
#: The whole commands, then floors (what any Python program pays; the imports `wfe validate`
#: cannot do without), then for scale what pydantic would add.
COMMANDS = {
    "wfe validate workflows/code_review.yaml": [*WFE, "validate", "workflows/code_review.yaml"],
    "wfe run workflows/code_review.yaml --dry-run": [*WFE, "run", "workflows/code_review.yaml",
                                                     "--dry-run"],
    "wfe graph workflows/code_review.yaml": [*WFE, "graph", "workflows/code_review.yaml"],
    "floor: python -c pass": [sys.executable, "-c", "pass"],
    "floor: import typer, yaml": [sys.executable, "-c", "import typer, yaml"],
    "for scale: typer, yaml, pydantic and one model": [sys.executable, "-c",
                                                       "import typer, yaml\n" + ONE_MODEL],
}


def compile_bytecode() -> None:
    """Write wfe's .pyc files, as an installation does (see the module's docstring)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "wfe", "workflows"], cwd=ROOT,
                   check=True)


def whole_process(repeat: int) -> dict[str, list[float]]:
    compile_bytecode()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        timed(command)  # warm the file cache
    for _ in range(repeat):
        for name, command in COMMANDS.items():
            times[name].append(timed(command))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    starts = whole_process(max(10, args.repeat * 5))
    for name, times in starts.items():
        print(f"`{name}`, whole process: min {min(times) * 1000:.0f} ms, "
              f"median {statistics.median(times) * 1000:.0f} ms"
              + (" (target < 200 ms)" if name.startswith("wfe validate") else ""))
    print(f"{'nodes':>6} {'KiB':>6} {'validate s':>11} {'us/KiB':>8} {'load s':>8} "
          f"{'pyyaml parse s':>15}")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_validate_tools.py").write_text(TOOLS)
        for nodes in (500, 1000, 2000, 5000):
            text = chain(nodes)
            path = Path(folder, f"chain{nodes}.yaml")
            path.write_text(text)
            problems = validate_file(path)
            assert not [p for p in problems if p.severity == "error"], problems[:3]
            data = text.encode()
            seconds = best(lambda p=path: validate_file(p), args.repeat)  # type: ignore[misc]
            load = best(lambda d=data: load_yaml(d, "x.yaml"), args.repeat)  # type: ignore[misc]
            parse = best(lambda d=data: list(yaml.parse(d, Loader=yaml.SafeLoader)), args.repeat)  # type: ignore[misc]
            kib = len(data) / 1024
            print(f"{nodes:>6} {kib:>6.0f} {seconds:>11.3f} {seconds / kib * 1e6:>8.0f} "
                  f"{load:>8.3f} {parse:>15.3f}")
    print("linear: us/KiB stays flat as the file grows; target: 5000 nodes < 1 s")


if __name__ == "__main__":
    main()
