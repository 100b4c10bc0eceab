"""Fuzz the loader: mutated and generated workflow files through everything `wfe validate FILE`
does (bytes -> YAML -> schema -> tools, expressions and subgraphs compiled -> graph checks ->
every report format), each case guarded and timed.

Target 6 of shared/research/reliability.md §6: 10,000 mutated workflows give 0 tracebacks,
0 signal deaths and 0 cases over 3 s. In-process, anything raised that is not a WfeError is a
crash; every K-th case also runs as a real `python -m wfe validate FILE` process, which must exit
0 or 2 with no `Traceback` and no death by a signal. Crashing, hanging and slow inputs are saved
so that they can be replayed (`wfe validate SAVED_FILE`). Exits 1 when anything crashed.

    python benchmarks/fuzz_loader.py --cases 10000                  # target 6
    python benchmarks/fuzz_loader.py --seconds 3600 --seed 7        # longer, by hand
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fuzz_workflows import TOOL_MODULES, Seeds, fuzz_case, prepare_folder, validate_case  # noqa: E402

from wfe.errors import WfeError  # noqa: E402

SLOW_SECONDS = 3.0


class CaseHung(BaseException):
    """The per-case guard fired (a BaseException, so that no `except Exception` swallows it)."""


@dataclass
class Campaign:
    """What the cases did, counted."""

    started: float = field(default_factory=time.perf_counter)
    origins: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    times: list[float] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    processes: int = 0
    tracebacks: int = 0
    signal_deaths: int = 0
    bad_exits: int = 0
    process_hangs: int = 0
    saved: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return (sum(self.crashes.values()) + self.tracebacks + self.signal_deaths + self.bad_exits
                + self.process_hangs)


def _raise_hung(signum: int, frame: FrameType | None) -> None:
    raise CaseHung


def run_in_process(path: Path, data: bytes, guard: float) -> str:
    """'valid', 'problems', 'WfeError', or what crashed: 'crash: Type: message @ where'."""
    signal.setitimer(signal.ITIMER_REAL, guard)
    try:
        problems = validate_case(path, data)
        return "problems" if any(p.severity == "error" for p in problems) else "valid"
    except CaseHung:
        return f"crash: no result after {guard:.0f} s (hang guard)"
    except WfeError:
        return "WfeError"
    except BaseException as error:  # the point: anything else is a crash to report
        where = traceback.extract_tb(error.__traceback__)[-1]
        place = f"{Path(where.filename).name}:{where.lineno}"
        return f"crash: {type(error).__name__}: {str(error)[:120]} @ {place}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_as_process(path: Path, guard: float, campaign: Campaign) -> str:
    """The same file through a real `wfe validate`; '' when it behaved."""
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), *map(str, TOOL_MODULES.values())])}
    campaign.processes += 1
    try:
        done = subprocess.run([sys.executable, "-m", "wfe", "validate", path.name],
                              cwd=path.parent, env=env, capture_output=True, text=True,
                              timeout=guard, check=False)
    except subprocess.TimeoutExpired:
        campaign.process_hangs += 1
        return f"no exit after {guard:.0f} s"
    if done.returncode < 0:
        campaign.signal_deaths += 1
        return f"killed by signal {-done.returncode}"
    if "Traceback" in done.stderr + done.stdout:
        campaign.tracebacks += 1
        return "printed a traceback"
    if done.returncode not in (0, 2):
        campaign.bad_exits += 1
        return f"exit code {done.returncode}: {done.stderr.strip()[:200]}"
    return ""


def save(data: bytes, why: str, folder: Path, campaign: Campaign) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"case_{len(campaign.saved):04d}.yaml"
    target.write_bytes(data)
    target.with_suffix(".txt").write_text(why + "\n")
    campaign.saved.append(target)
    print(f"  saved {target}: {why}", flush=True)


def one_case(number: int, rng: random.Random, seeds: Seeds, path: Path,
             options: argparse.Namespace, campaign: Campaign) -> None:
    origin, data = fuzz_case(rng, seeds)
    began = time.perf_counter()
    outcome = run_in_process(path, data, options.guard)
    took = time.perf_counter() - began
    campaign.origins[origin] += 1
    campaign.times.append(took)
    campaign.slowest = max(campaign.slowest, (took, origin))
    if outcome.startswith("crash: "):
        campaign.crashes[outcome] += 1
        if campaign.crashes[outcome] == 1:
            save(data, f"{origin}: {outcome}", options.save, campaign)
    else:
        campaign.outcomes[outcome] += 1
    if took > SLOW_SECONDS:
        save(data, f"{origin}: took {took:.2f} s", options.save, campaign)
    if options.subprocess_every and number % options.subprocess_every == 0:
        failure = run_as_process(path, max(options.guard, 30.0), campaign)
        if failure:
            save(data, f"{origin}: `wfe validate` {failure}", options.save, campaign)


def report(campaign: Campaign, options: argparse.Namespace) -> None:
    elapsed = time.perf_counter() - campaign.started
    times = campaign.times
    over = sum(t > SLOW_SECONDS for t in times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    origins = ", ".join(f"{n} {origin}" for origin, n in sorted(campaign.origins.items()))
    outcomes = ", ".join(f"{n} {kind}" for kind, n in sorted(campaign.outcomes.items()))
    print(f"fuzz_loader: {len(times)} cases in {elapsed:.1f} s (seed {options.seed}): {origins}")
    print(f"  outcomes: {outcomes}")
    print(f"  crashes (raised something other than a WfeError): {sum(campaign.crashes.values())}")
    for what, count in campaign.crashes.most_common():
        print(f"    {count} x {what}")
    print(f"  `wfe validate` processes: {campaign.processes}: tracebacks {campaign.tracebacks}, "
          f"signal deaths {campaign.signal_deaths}, exit codes other than 0/2 "
          f"{campaign.bad_exits}, hangs {campaign.process_hangs}")
    if times:
        print(f"  per case: median {statistics.median(times) * 1000:.1f} ms, slowest "
              f"{campaign.slowest[0] * 1000:.0f} ms ({campaign.slowest[1]}); cases over "
              f"{SLOW_SECONDS:.0f} s: {over}; peak RSS {peak:.0f} MiB")
    if campaign.saved:
        print(f"  inputs saved under {options.save}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=None,
                        help="stop after this many cases (default 10000, or none with --seconds)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subprocess-every", type=int, default=100, metavar="K",
                        help="also run every K-th case as a `wfe validate` process (0: never)")
    parser.add_argument("--progress", type=int, default=0, metavar="N",
                        help="print a progress line every N cases (0: none)")
    parser.add_argument("--guard", type=float, default=60.0,
                        help="seconds after which one case counts as hung")
    parser.add_argument("--memory", type=int, default=2048, metavar="MIB",
                        help="address-space limit of this process (a blow-up is a MemoryError)")
    parser.add_argument("--save", type=Path, default=None,
                        help="folder for crashing and slow inputs (default: a new temp folder)")
    options = parser.parse_args()
    if options.cases is None and options.seconds is None:
        options.cases = 10_000
    options.save = options.save or Path(tempfile.gettempdir()) / f"wfe-fuzz-{os.getpid()}"
    return options


def main() -> int:
    options = parse_args()
    limit = options.memory * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _raise_hung)
    seeds = Seeds()
    rng = random.Random(options.seed)
    campaign = Campaign()
    with tempfile.TemporaryDirectory(prefix="wfe-fuzz-cases-") as work:
        path = prepare_folder(Path(work))
        deadline = campaign.started + (options.seconds or float("inf"))
        number = 0
        while (options.cases is None or number < options.cases) and time.perf_counter() < deadline:
            number += 1
            one_case(number, rng, seeds, path, options, campaign)
            if options.progress and number % options.progress == 0:
                print(f"  {number} cases, {campaign.failures} failures, "
                      f"{time.perf_counter() - campaign.started:.0f} s", flush=True)
    report(campaign, options)
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
