"""Crash campaign: SIGKILL, SIGINT or SIGTERM `wfe run` / `wfe resume` at chosen moments, resume,
check nothing is lost or run twice (issues 7 and 16; target 7 of
../shared/research/reliability.md section 6).

RUNS runs (each at least STEPS steps, a `map:` every few steps, branches that depend on what the
tools computed) share one store and go on at the same time. Each attempt is a process running the
real CLI (`wfe run`, then `wfe resume` until the run succeeds), forked from this pre-imported
driver (or, with --spawn, a fresh interpreter). Until the kill budget is spent, each attempt gets a
plan, chosen at random, that stops it there with SIGKILL, SIGINT (Ctrl-C) or SIGTERM (every kind
is dealt with every signal in turn):

    tool      inside the `work` tool of a step a few steps ahead (after its side effect)
    returned  after a step's tool returned and its updates were applied, before its commit
    between   right after a step's commit returned, before the next step starts
    commit    while the statement that commits the step runs (its own INSERT, or the COMMIT
              of a transaction that also writes due events): at its start, or a random
              0-300 us into it (the returned/between/commit hooks wrap the store's write of a
              step in the attempt process only; the engine's own code path is untouched).
              SIGINT and SIGTERM raise only once the statement has returned.
    map       inside one item of a map (8 items, 2 at a time), a sibling in flight
    random    at a random moment 10-150 ms after the attempt started (SIGKILL, by this
              driver), or 10-150 ms into the run itself (SIGINT, SIGTERM: by a timer in the
              attempt, so that the signal meets the run, not the interpreter's start)

Checks, against an uninterrupted reference run of each seed: final state and branch trace (node,
next node and outcome of every step) equal; steps 1..N each committed once (0 lost); no tool of
a step that was committed before an attempt started ran in that attempt (0 committed steps run
twice); every tool call's `ctx.idempotency_key` is one the reference used, and every reference
key ran (the same key across re-runs); a stopped attempt's calls that ran again were those of at
most the one step in flight, and for a map only its items in flight (its finished items are
committed one by one: so duplicate side effects <= kills x items in flight); a SIGINT or
SIGTERM exits 130 or 143; stored events numbered
without gap or repeat; `PRAGMA integrity_check` = ok; no traceback and no "database is locked"
from any attempt. Figures are printed (or, with --json, one JSON object); nothing is asserted here
(tests/test_crash.py asserts the zeros).

    python benchmarks/crash_campaign.py [--kills 200] [--runs 8] [--steps 100] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from crash_attempt import child_main, cli  # noqa: E402
from crash_checks import IN_FLIGHT, ITEMS, Attempt, Reference, Slot, verify  # noqa: E402

from wfe import Workflow  # noqa: E402
from wfe.errors import Location  # noqa: E402
from wfe.store import Store  # noqa: E402
from wfe.tools.discovery import import_module  # noqa: E402

# Imported as `--import` would (and named with --import by every attempt): the campaign's
# workflow lives in a scratch folder outside this project, whose `imports:` may not name it.
tools = import_module("crash_campaign_tools", HERE, Location(str(HERE)))
IMPORTS = ["--import", "crash_campaign_tools"]

WORKFLOW = """
state:
  seed: {type: int, default: 1}
  steps: {type: int, default: 100}
  i: {type: int, default: 0}
  total: {type: int, default: 0}
  trail: {type: "list[int]", reduce: append}
  squares: "list[int]"
nodes:
  work:
    tool: work
    next:
      - when: i >= steps
        then: end
      - when: total % 6 == seed % 6
        then: fan
      - then: work
  fan:
    map: "[total % 10, total % 11, total % 13, i, total % 7, total % 5, total % 3, i + 1]"
    as: n
    tool: square
    concurrency: 2
    collect: squares
    next: fold
  fold:
    tool: fold
    next: work
"""
KINDS = ("tool", "returned", "between", "commit", "map", "random")
SIGNALS = ("KILL", "INT", "TERM")
#: The exit code of an attempt that a signal stopped and that handled it (SPEC section 2).
EXIT_CODES = {"INT": 130, "TERM": 143}


# --- the driver ----------------------------------------------------------------------------------

class Campaign:
    def __init__(self, folder: Path, args: argparse.Namespace) -> None:
        self.folder, self.args = folder, args
        self.workflow = folder / "campaign.yaml"
        self.workflow.write_text(WORKFLOW)
        self.log = folder / "attempts.log"
        self.chance = random.Random(args.seed)
        self.kinds: Counter[str] = Counter()  # kills that happened, by kind
        self.live: dict[int, Slot] = {}  # pid -> the slot whose attempt it is
        self.traces: dict[int, list[str]] = {}
        self.deck: list[str] = []
        self.signals: dict[str, list[str]] = {}  # by kind: the signals of its next plans
        self.by_signal: Counter[str] = Counter()  # kills that happened, by signal
        self.commit_plans = 0
        # Imports warm for forked attempts.
        Workflow.load(self.workflow, imports=IMPORTS[1:], entry_points=False)
        cli()

    def launch(self, store: Path, ledger: Path, argv: list[str], plan: str) -> int:
        os.environ["WFE_CRASH_LEDGER"] = str(ledger)
        argv = [*argv, *IMPORTS, "--quiet", "--store", str(store)]
        log = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if self.args.spawn:
                env = {**os.environ, "WFE_CRASH_ARGV": json.dumps(argv), "WFE_CRASH_PLAN": plan,
                       "PYTHONPATH": os.pathsep.join(sys.path[:2])}
                code = "import crash_attempt; crash_attempt.spawned()"
                return os.posix_spawn(sys.executable, [sys.executable, "-c", code], env,
                                      file_actions=[(os.POSIX_SPAWN_DUP2, log, 2)])
            pid = os.fork()
            if pid == 0:
                os.dup2(log, 2)
                child_main(argv, plan)
            return pid
        finally:
            os.close(log)

    def references(self) -> dict[int, Reference]:
        """One uninterrupted run per seed, in a store of their own."""
        store, ledger = self.folder / "reference.db", self.folder / "reference.ledger"
        pids = [self.launch(store, ledger, self._run_argv(seed), "none")
                for seed in range(1, self.args.runs + 1)]
        for pid in pids:
            os.waitpid(pid, 0)
        with Store.open(store) as opened:
            runs = {run.inputs["seed"]: run.run_id for run in opened.list_runs(limit=1000)}
            references = {seed: Reference.of(opened, run_id, ledger)
                          for seed, run_id in runs.items()}
        self.traces = {seed: [node for node, _, _ in ref.trace]
                       for seed, ref in references.items()}
        return references

    def _run_argv(self, seed: int) -> list[str]:
        argv = ["run", str(self.workflow), "-i", f"seed={seed}", "-i", f"steps={self.args.steps}"]
        return [*argv, "--durability", _durability(seed)]

    def crash(self) -> list[Slot]:
        """Run every slot to success, killing attempts until the budget is spent."""
        store, ledger = self.folder / "campaign.db", self.folder / "campaign.ledger"
        slots = [Slot(seed, _durability(seed)) for seed in range(1, self.args.runs + 1)]
        while not all(slot.done for slot in slots):
            for slot in slots:
                if slot.child is None and not slot.done:
                    self._next_attempt(slot, store, ledger)
            self._reap(store)
            now = time.monotonic()
            for slot in self.live.values():
                child = slot.child
                if child is not None and child.kill_at is not None and now >= child.kill_at:
                    os.kill(child.pid, signal.SIGKILL)
                    child.kill_at = None
            time.sleep(0.002)
        return slots

    def _next_attempt(self, slot: Slot, store: Path, ledger: Path) -> None:
        committed = self._progress(slot, store)
        if slot.done:
            return
        if len(slot.attempts) > self.args.kills + 50:
            raise RuntimeError(f"the run of seed {slot.seed} does not finish")
        kind, plan, sig = self._plan(slot, committed)
        argv = (["resume", slot.run_id, "--durability", slot.durability] if slot.run_id
                else self._run_argv(slot.seed))
        attempt = Attempt(self.launch(store, ledger, argv, f"{plan}:{sig}"), kind, committed,
                          sig)
        if kind == "random" and sig == "KILL":
            startup = 0.4 if self.args.spawn else 0.0  # an interpreter starts in ~0.3 s
            attempt.kill_at = time.monotonic() + startup + self.chance.uniform(0.01, 0.15)
        slot.attempts.append(attempt)
        slot.child = attempt
        self.live[attempt.pid] = slot

    def _progress(self, slot: Slot, store: Path) -> int:
        """Steps committed so far (finding the slot's run once it exists); marks it done."""
        if not store.exists():
            return 0
        with Store.open(store) as opened:
            if slot.run_id is None:
                slot.run_id = next((run.run_id for run in opened.list_runs(limit=1000)
                                    if run.inputs.get("seed") == slot.seed), None)
            if slot.run_id is None:
                return 0
            record = opened.get_run(slot.run_id)
        slot.done = record.status == "succeeded"
        return record.step

    def _plan(self, slot: Slot, committed: int) -> tuple[str, str, str]:
        """A kind of kill, where (a step a few ahead, the last one at most, or a map's) and
        with which signal."""
        planned = sum(1 for s in self.live.values() if s.child and s.child.kind != "none")
        if sum(self.kinds.values()) + planned >= self.args.kills:
            return "none", "none", "KILL"
        trace = self.traces[slot.seed]
        maps = [n for n, node in enumerate(trace, 1) if node == "fan" and n > committed]
        kind = self._deal(map_left=bool(maps))
        sig = self._signal(kind)
        ahead = min(committed + self.chance.randint(1, 6), len(trace))
        if kind == "commit":
            delay = self.chance.randint(1, 300)
            if sig == "KILL":
                self.commit_plans += 1  # every other one strikes at the very start of the COMMIT
                delay = 0 if self.commit_plans % 2 else delay
            return kind, f"commit:{ahead}:{delay}", sig
        if kind == "map":
            return kind, f"map:{maps[0]}:{self.chance.randrange(ITEMS)}", sig
        if kind == "random":
            return kind, f"random:{self.chance.randint(10, 150)}", sig
        return kind, f"{kind}:{ahead}", sig

    def _signal(self, kind: str) -> str:
        """The kind's next signal, from a shuffled deck of the three: each kind meets each."""
        deck = self.signals.setdefault(kind, [])
        if not deck:
            deck.extend(self.chance.sample(SIGNALS, len(SIGNALS)))
        return deck.pop()

    def _deal(self, *, map_left: bool) -> str:
        """The next kind from a shuffled deck of all kinds, so that every kind comes up."""
        kinds = [kind for kind in self.deck if map_left or kind != "map"]
        if not kinds:
            self.deck = self.chance.sample(KINDS, len(KINDS))
            kinds = [kind for kind in self.deck if map_left or kind != "map"]
        self.deck.remove(kinds[0])
        return kinds[0]

    def _reap(self, store: Path) -> None:
        while self.live:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            slot = self.live.pop(pid)
            attempt, slot.child = slot.child, None
            assert attempt is not None and attempt.pid == pid
            code = os.waitstatus_to_exitcode(status)
            attempt.killed = code == -signal.SIGKILL or (
                attempt.kind != "none" and code == EXIT_CODES.get(attempt.signal))
            attempt.committed_at_end = self._progress(slot, store)
            if attempt.killed:
                self.kinds[attempt.kind] += 1
                self.by_signal[attempt.signal] += 1
            elif code != 0:
                raise RuntimeError(f"an attempt exited with {code}; see {self.log}")


def _durability(seed: int) -> str:
    """Odd seeds sync every commit, which widens the commit window the kills aim at."""
    return "full" if seed % 2 else "normal"


def campaign(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    began = time.perf_counter()
    driver = Campaign(folder, args)
    references = driver.references()
    slots = driver.crash()
    figures = verify(folder, slots, references)
    figures["seconds"] = round(time.perf_counter() - began, 2)
    figures["kills_by_kind"] = dict(driver.kinds)
    figures["kills_by_signal"] = dict(driver.by_signal)
    figures["duplicate_bound"] = figures["kills"] * IN_FLIGHT
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100, help="`work` steps per run")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--spawn", action="store_true", help="fresh interpreters, not forks")
    parser.add_argument("--json", action="store_true", help="one JSON object of figures")
    parser.add_argument("--keep", type=Path, help="work in this folder, and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wfe-crash-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        figures = campaign(args, folder)
    if args.json:
        print(json.dumps(figures))
    else:
        _print(figures, args)


ZEROS = ("lost_steps", "duplicated_steps", "event_log_faults", "committed_steps_rerun",
         "lost_side_effects", "foreign_keys", "state_mismatches", "trace_mismatches",
         "wasted_calls_of_clean_exits", "kills_over_in_flight_bound",
         "map_kills_over_items_in_flight", "tracebacks", "database_is_locked")


def _print(figures: dict[str, Any], args: argparse.Namespace) -> None:
    mode = "fresh interpreters" if args.spawn else "forked from a warm driver"
    print(f"crash campaign: {args.runs} concurrent runs, {args.steps} work steps each plus maps; "
          f"attempts {mode}")
    print(f"  {figures['kills']} kills in {figures['attempts']} attempts, "
          f"{figures['steps']} steps committed, {figures['seconds']} s")
    print(f"  kills by kind: {figures['kills_by_kind']}; by signal: {figures['kills_by_signal']}")
    print(f"  kills during a map: {figures.get('map_kills', 0)}, its items run again: "
          f"{figures.get('map_items_rerun', 0)} (at most {IN_FLIGHT} in flight each)")
    print(f"  commit kills: {figures['commit_kills']}")
    print("  should be 0: " + ", ".join(f"{name.replace('_', ' ')} {figures.get(name, 0)}"
                                        for name in ZEROS))
    print(f"  duplicate side effects: {figures['duplicate_side_effects']} "
          f"(bound: kills x {IN_FLIGHT} = {figures['duplicate_bound']}); "
          f"integrity_check ok: {figures['integrity_ok']}")


if __name__ == "__main__":
    main()
