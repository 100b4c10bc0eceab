"""Durability under SIGKILL, SIGINT, SIGTERM and many writers: nothing committed is lost or run
twice.

The crash campaign and the many-writers load live in benchmarks/ (crash_campaign.py,
shared_store.py), which print their figures; these tests run them at a smaller size and assert
the figures that must be zero.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from crash_campaign import KINDS, SIGNALS, ZEROS  # noqa: E402
from shared_store import shared_store  # noqa: E402

from wfe.engine.journal import Cursor  # noqa: E402

CAMPAIGN_KILLS = 40


@pytest.fixture(scope="module")
def campaign() -> dict:
    """40 SIGKILLs, SIGINTs and SIGTERMs over 4 concurrent runs of about 55 steps, each resumed
    until it succeeds."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "crash_campaign.py"), "--kills", str(CAMPAIGN_KILLS),
         "--runs", "4", "--steps", "40", "--json"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_campaign_kills_in_every_window(campaign: dict) -> None:
    # A "random" kill can miss (its run finished first); every planned kill of another kind hits.
    assert campaign["kills"] >= CAMPAIGN_KILLS - 4, campaign
    assert set(campaign["kills_by_kind"]) == set(KINDS), campaign
    assert set(campaign["kills_by_signal"]) == set(SIGNALS), campaign
    assert campaign["map_kills"] > 0, campaign


@pytest.mark.parametrize("figure", ZEROS)
def test_a_kill_or_signal_at_any_point_loses_nothing_and_reruns_only_what_was_in_flight(
    campaign: dict, figure: str
) -> None:
    assert campaign[figure] == 0, campaign


def test_a_kill_at_the_start_of_a_commit_never_leaves_its_step_committed(campaign: dict) -> None:
    assert campaign["commit_kills"].get("at_start", 0) > 0, campaign
    assert campaign["commit_kills"].get("at_start_yet_committed", 0) == 0, campaign


def test_after_the_campaign_the_store_is_intact(campaign: dict) -> None:
    assert campaign["integrity_ok"] is True


def test_duplicate_side_effects_stay_within_kills_times_items_in_flight(campaign: dict) -> None:
    assert campaign["duplicate_side_effects"] <= campaign["duplicate_bound"]


def test_sixteen_wfe_run_processes_share_one_store_without_losing_anything(
    tmp_path: Path,
) -> None:
    figures = shared_store(tmp_path, writers=16, steps=200, durability="normal")
    assert figures["exit_codes"] == {0: 16}, figures
    assert figures["runs"] == 16
    problems = ("lost_steps", "runs_not_succeeded", "wrong_final_states", "database_is_locked",
                "stderr_lines")
    assert {name: figures[name] for name in problems} == dict.fromkeys(problems, 0)
    assert figures["integrity_ok"] is True


FANNED = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  got: {type: list, reduce: extend}
nodes:
  work: {tool: work, next: [{when: i < 3, then: each}, {then: end}]}
  each: {map: "[1, 2]", as: n, tool: item, collect: got, next: both}
  both:
    parallel: {a: {tool: branch}, b: {tool: branch}}
    next: work
"""

FANNED_TOOLS = """
@tool
def work(i: int, ctx) -> dict:
    return {"i": i + 1, "got": [[ctx.idempotency_key, ctx.step]]}

@tool
def item(n: int, ctx) -> list:
    return [ctx.idempotency_key, ctx.step]

@tool
def branch(ctx) -> dict:
    return {"got": [[ctx.idempotency_key, ctx.step]]}
"""


def test_map_items_and_branches_take_their_nodes_visit_and_step_also_after_a_resume(
    make_workflow,
) -> None:
    wf = make_workflow(FANNED, FANNED_TOOLS)
    whole = wf.run(run_id="r").state["got"]
    assert whole[:5] == [["r:work:1", 1], ["r:each[0]:1", 2], ["r:each[1]:1", 2],
                         ["r:both/a:1", 3], ["r:both/b:1", 3]]
    # Resumed at the second visit of the map, with nothing run in this process before it.
    state = {**wf.initial_state(), "i": 2}
    cursor = Cursor("each", {"work": 2, "each": 1, "both": 1}, step=4)
    resumed = asyncio.run(wf.arun(run_id="r", state=state, cursor=cursor)).state["got"]
    assert resumed == whole[6:]
