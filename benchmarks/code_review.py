"""The bundled code review on real code: the `pip` package (~150k lines, ~440 files).

- The whole `wfe run workflows/code_review.yaml -i path=PIP` as a process, with its store, against
  pyflakes over the same folder (`python -m pyflakes`, from the dev extra; target: no slower), and
  two floors measured in the same run: `ruff check` alone over the same folder with the same rules,
  and parsing every file once with `ast` in one process.
- Peak memory: the wfe process's own (VmHWM; target < 150 MB), and the largest child it ran
  (ruff, or a measuring worker).
- The store after the run (target < 20 MB) and the size of the final state.
- A file with 10,000 fixable issues (`class Cn(object):`, ruff's UP004, a safe fix): the time of
  the fix step (target < 5 s).

pip is copied to a scratch folder first, so that no configuration above the venv applies (the
bundled rules are used). Figures are printed, never asserted.

    python benchmarks/code_review.py [--pip PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "workflows" / "code_review.yaml"
RULES = ROOT / "workflows" / "code_review_tools" / "review_rules.toml"
sys.path.insert(0, str(ROOT / "tests"))

from peak_rss import wfe_measured  # noqa: E402


def default_pip() -> Path:
    import pip

    return Path(pip.__file__).parent


def timed(command: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - began


def parse_floor(folder: Path) -> float:
    began = time.perf_counter()
    for path in sorted(folder.rglob("*.py")):
        ast.parse(path.read_bytes())
    return time.perf_counter() - began


def review(folder: Path, work: Path, *inputs: str) -> tuple[float, int, int, dict[str, object]]:
    """(seconds, wfe's peak RSS, store bytes, final state) of one review of folder."""
    store = work / "store.db"
    for leftover in work.glob("store.db*"):
        leftover.unlink()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    began = time.perf_counter()
    done, peak = wfe_measured("run", str(WORKFLOW), "--store", str(store), "-q", "--output",
                              str(work / "state.json"), "-i", f"path={folder}", *inputs,
                              cwd=work, env=env)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"the review failed: {done.stderr}")
    size = sum(p.stat().st_size for p in work.glob("store.db*"))
    return seconds, peak, size, json.loads((work / "state.json").read_text())


def fix_step_seconds(work: Path) -> tuple[float, int]:
    """(seconds of the improve step, fixes proposed) on a file with 10,000 fixable issues."""
    target = work / "many" / "many.py"
    target.parent.mkdir(exist_ok=True)
    target.write_text("".join(f"class C{n}(object):\n    pass\n" for n in range(10_000)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(
        [sys.executable, "-m", "wfe", "run", str(WORKFLOW), "--no-store", "--json", "-q",
         "-i", f"path={target}", "-i", "threshold=10"],
        cwd=work, env=env, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        event = json.loads(line)
        if event.get("event") == "node_finished" and event.get("node") == "improve":
            return event["duration_ms"] / 1000, int(event["updates"]["fixes_applied"])
    raise SystemExit("no improve step")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip", type=Path, default=None, help="the pip package folder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wfe-bench-review-") as scratch:
        work = Path(scratch)
        folder = work / "pip"
        shutil.copytree(args.pip or default_pip(), folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
        files = sorted(folder.rglob("*.py"))
        lines = sum(len(p.read_bytes().splitlines()) for p in files)
        print(f"pip: {len(files)} files, {lines:,} lines")
        ruff_bin = shutil.which("ruff") or "ruff"
        ruff = [timed([ruff_bin, "check", "--no-cache", "--exit-zero", "--config", str(RULES),
                       "-q", str(folder)], work) for _ in range(args.repeat)]
        floor = [parse_floor(folder) for _ in range(args.repeat)]
        pyflakes = ([timed([sys.executable, "-m", "pyflakes", str(folder)], work)
                     for _ in range(args.repeat)]
                    if importlib.util.find_spec("pyflakes") is not None else [])
        runs = [review(folder, work) for _ in range(args.repeat)]
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        seconds = [run[0] for run in runs]
        _, peak, size, state = runs[-1]
        state_size = len(json.dumps(state))
        print(f"review (wfe run, whole process): min {min(seconds):.2f} s, median "
              f"{statistics.median(seconds):.2f} s")
        if pyflakes:
            print(f"  pyflakes over the same folder: min {min(pyflakes):.2f} s, median "
                  f"{statistics.median(pyflakes):.2f} s (target: wfe no slower: "
                  f"{min(seconds) / min(pyflakes):.2f}x)")
        print(f"  floors: ruff check alone {min(ruff):.2f} s; ast.parse of every file in one "
              f"process {min(floor):.2f} s (a pyflakes-style checker parses, then walks)")
        print(f"  peak memory: wfe process {peak / 2**20:.0f} MB; largest process run "
              f"(any child) {children / 2**20:.0f} MB")
        print(f"  store after the run {size / 2**20:.1f} MB; final state {state_size / 2**20:.2f} "
              f"MB; quality {state['quality_score']}")
        fix_seconds, fixes = fix_step_seconds(work)
        print(f"10,000 fixable issues in one file: {fixes:,} fixes proposed by the fix step in "
              f"{fix_seconds:.2f} s")


if __name__ == "__main__":
    main()
