"""`tolerate:` and `errors:` on `map:` and `parallel:`: failures a fan-out node survives."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from wfe import NodeFailed
from wfe.cli import app
from wfe.errors import SpecError
from wfe.store import Store

TOOLS = """
import asyncio, os, pathlib

@tool
async def check(n: int) -> int:
    if n < 0:
        raise ValueError(f"negative: {n}")
    return n * 10

@tool
async def slow(n: int) -> int:
    await asyncio.sleep(0.05)
    return n

@tool
def effect(x: int) -> int:
    with open(os.environ["WFE_TEST_EFFECTS"], "a") as log:
        log.write(f"{x}\\n")
    if x == 1 or (x == 3 and pathlib.Path(os.environ["WFE_TEST_FAIL"]).exists()):
        raise RuntimeError(f"bad {x}")
    return x * 10
"""

MAP = """imports: [TOOLS]
state:
  numbers: {type: "list[int]", default: [1, -2, 3, -4]}
  results: list
  failures: {type: list, default: []}
nodes:
  m:
    map: numbers
    as: n
    tool: check
    concurrency: 2
    collect: results
    errors: failures
    tolerate: TOLERATE
"""


@pytest.mark.parametrize("tolerate", ["2", '"50%"', '"100%"'])
def test_a_map_within_its_tolerance_succeeds_with_nulls_and_the_errors(make_workflow, tolerate):
    result = make_workflow(MAP.replace("TOLERATE", tolerate), TOOLS).run()
    assert result.ok, result.error
    assert result.state["results"] == [10, None, 30, None]
    assert result.state["failures"] == [
        {"index": 1, "item": -2, "type": "ValueError", "message": "negative: -2"},
        {"index": 3, "item": -4, "type": "ValueError", "message": "negative: -4"}]


@pytest.mark.parametrize("tolerate", ["1", '"25%"', "0"])
def test_a_map_past_its_tolerance_fails_naming_the_item(make_workflow, tolerate):
    result = make_workflow(MAP.replace("TOLERATE", tolerate), TOOLS).run()
    assert isinstance(result.error, NodeFailed) and result.error.node == "m"
    assert result.error.message.startswith(("m[1]: ValueError", "m[3]: ValueError"))


def test_a_tolerated_map_failure_is_routed_by_on_error_past_the_tolerance(make_workflow):
    yaml = MAP.replace("TOLERATE", "1").replace("failures: {", "error: any\n  failures: {")
    result = make_workflow(yaml + "    on_error: end\n", TOOLS).run()
    assert result.ok and result.state["failures"] == []
    assert result.state["error"]["message"] in ("negative: -2", "negative: -4")


def test_errors_appends_to_what_the_key_held(make_workflow):
    result = make_workflow(MAP.replace("TOLERATE", "2"), TOOLS).run(
        {"failures": [{"earlier": True}]})
    assert [f.get("index") for f in result.state["failures"]] == [None, 1, 3]


PARALLEL = """imports: [TOOLS]
state:
  a: int
  b: int
  c: int
  failures: {type: list, reduce: extend, default: []}
nodes:
  fan:
    parallel:
      a: {tool: check, with: {n: 1}, out: a}
      b: {tool: check, with: {n: -1}, out: b}
      c: {tool: slow, with: {n: 3}, out: c}
    tolerate: TOLERATE
    errors: failures
"""


def test_a_parallel_within_its_tolerance_runs_every_branch_to_its_end(make_workflow):
    result = make_workflow(PARALLEL.replace("TOLERATE", "1"), TOOLS).run()
    assert result.ok, result.error
    assert (result.state["a"], result.state.get("b"), result.state["c"]) == (10, None, 3)
    assert result.state["failures"] == [
        {"branch": "b", "type": "ValueError", "message": "negative: -1"}]


def test_a_parallel_past_its_tolerance_fails_naming_the_branch(make_workflow):
    result = make_workflow(PARALLEL.replace("TOLERATE", '"0%"'), TOOLS).run()
    assert isinstance(result.error, NodeFailed) and result.error.node == "fan"
    assert result.error.message == "fan/b: ValueError: negative: -1"


def test_join_any_records_the_branches_that_failed_before_it_held(make_workflow):
    yaml = PARALLEL.replace("tolerate: TOLERATE", "join: any").replace(
        "c: {tool: slow", "c: {tool: slow, retry: {attempts: 1}")
    result = make_workflow(yaml.replace("a: {tool: check, with: {n: 1}", "a: {tool: slow, "
                                        "with: {n: 1}"), TOOLS).run()
    assert result.ok, result.error
    assert [f["branch"] for f in result.state["failures"]] == ["b"]


@pytest.mark.parametrize(("change", "message"), [
    (("tolerate: TOLERATE", 'tolerate: "150%"'), "not a percentage from 0% to 100%"),
    (("tolerate: TOLERATE", "tolerate: -1"), "greater than or equal to 0"),
    (("tolerate: TOLERATE", "tolerate: lots"), "must be a count (3) or a percentage"),
    (("tolerate: TOLERATE", "tolerate: true"), "an integer"),
    (("errors: failures", "errors: nowhere"), "nowhere"),
    (("errors: failures", "errors: a"), "errors: state key 'a' must be a list"),
    (("failures: {type: list,", 'failures: {type: "list[str]",'),
     "errors: state key 'failures' must be a list that holds"),
    (("tolerate: TOLERATE", "tolerate: 1\n    join: any"), "`tolerate` needs `join: all`"),
])
def test_bad_tolerate_and_errors_are_positioned_problems(make_workflow, change, message):
    yaml = PARALLEL.replace("TOLERATE", "1") if "TOLERATE" not in change[0] else PARALLEL
    with pytest.raises(SpecError, match=r"wf\d+\.yaml:\d+:\d+") as raised:
        make_workflow(yaml.replace(*change), TOOLS)
    assert message in str(raised.value)


def test_tolerate_belongs_only_to_map_and_parallel(make_workflow):
    yaml = "imports: [TOOLS]\nnodes:\n  t: {tool: check, with: {n: 1}, tolerate: 1}\n"
    with pytest.raises(SpecError, match="`tolerate` does not belong to a tool node"):
        make_workflow(yaml, TOOLS)


RESUMED = """imports: [TOOLS]
state:
  xs: {type: "list[int]", default: [0, 1, 2, 3]}
  out: list
  failures: {type: list, reduce: append}
nodes:
  m: {map: xs, as: x, tool: effect, concurrency: 1, collect: out, tolerate: 1,
      errors: failures}
"""


def test_a_resume_keeps_a_tolerated_failure_and_does_not_run_it_again(
        write_workflow, tmp_path, monkeypatch):
    effects, fail = tmp_path / "effects", tmp_path / "fail"
    monkeypatch.setenv("WFE_TEST_EFFECTS", str(effects))
    monkeypatch.setenv("WFE_TEST_FAIL", str(fail))
    fail.write_text("")
    runner = CliRunner()
    path = write_workflow(RESUMED, TOOLS)
    assert runner.invoke(app, ["run", str(path)]).exit_code == 1  # item 3: past the tolerance
    assert effects.read_text().split() == ["0", "1", "2", "3"]
    fail.unlink()
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
    assert runner.invoke(app, ["resume", record.run_id]).exit_code == 0
    assert effects.read_text().split()[4:] == ["3"]
    with Store.open(os.environ["WFE_STORE"]) as store:
        final = store.get_run(record.run_id)
    assert final.state["out"] == [0, None, 20, 30]
    assert final.state["failures"] == [
        {"index": 1, "item": 1, "type": "RuntimeError", "message": "bad 1"}]


KILLED = """imports: [TOOLS]
state:
  seen: {type: "list[str]", reduce: append}
  failures: {type: list, reduce: extend, default: []}
nodes:
  fan:
    parallel:
      a: {tool: visit, with: {name: a}, out: seen}
      b: {tool: visit, with: {name: b}, out: seen}
      c: {tool: visit, with: {name: c}, out: seen}
    tolerate: 1
    errors: failures
"""

VISIT = """
import os, pathlib, signal, time

@tool
def visit(name: str) -> str:
    effects = pathlib.Path(os.environ["WFE_TEST_EFFECTS"])
    with effects.open("a") as log:
        log.write(name + "\\n")
    if name == "a":
        raise RuntimeError("a is broken")
    killed = effects.with_suffix(".killed")
    if name == "b" and not killed.exists():
        killed.write_text("")
        while effects.read_text().split().count("a") < 1:
            time.sleep(0.01)
        time.sleep(0.3)   # let a's failure be committed
        os.kill(os.getpid(), signal.SIGKILL)
    return name
"""


def test_a_branch_tolerated_before_a_kill_is_not_run_again_on_resume(write_workflow, tmp_path):
    effects = tmp_path / "effects"
    env = {**os.environ, "WFE_TEST_EFFECTS": str(effects)}
    path = write_workflow(KILLED, VISIT)
    run = [sys.executable, "-m", "wfe"]
    killed = subprocess.run([*run, "run", str(path), "--quiet"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    before = effects.read_text().split()
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
    resumed = subprocess.run([*run, "resume", record.run_id, "--quiet"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "a" not in effects.read_text().split()[len(before):]
    with Store.open(os.environ["WFE_STORE"]) as store:
        final = store.get_run(record.run_id)
    assert final.state["seen"] == ["b", "c"]
    assert final.state["failures"] == [
        {"branch": "a", "type": "RuntimeError", "message": "a is broken"}]
