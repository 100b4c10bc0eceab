"""Branches of `parallel:` that are whole sub-flows: `workflow:` with `inputs` and `outputs`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe import NodeFailed, Workflow
from wfe.cli import app
from wfe.errors import SpecError
from wfe.store import Store

runner = CliRunner()

TOOLS = """
import os, pathlib, signal, time

def _note(name):
    effects = os.environ.get("WFE_TEST_EFFECTS")
    if effects:
        with open(effects, "a") as log:
            log.write(name + "\\n")

@tool
def double(n: int) -> dict:
    _note(f"double{n}")
    if n < 0:
        raise ValueError(f"negative: {n}")
    return {"doubled": n * 2}

@tool
def lint() -> dict:
    _note("lint")
    killed = pathlib.Path(os.environ.get("WFE_TEST_EFFECTS", "x") + ".killed")
    if os.environ.get("WFE_TEST_KILL") and not killed.exists():
        killed.write_text("")
        effects = pathlib.Path(os.environ["WFE_TEST_EFFECTS"])
        while "double6" not in effects.read_text().split():
            time.sleep(0.01)
        time.sleep(0.3)   # let the sub-flow branch be committed
        os.kill(os.getpid(), signal.SIGKILL)
    return {"lint": "ok"}
"""

CHILD = """
imports: [TOOLS]
state:
  n: int
  doubled: int
nodes:
  twice: {tool: double, next: again}
  again: {tool: double, with: {n: "${ doubled }"}}
"""

PARENT = """
imports: [TOOLS]
state:
  n: {type: int, default: 3}
  result: int
  lint: str
nodes:
  fan:
    parallel:
      quick: {tool: lint}
      deep:
        workflow: child.yaml
        inputs: {n: n}
        outputs: {result: doubled}
"""


@pytest.fixture
def flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = f"flow_tools_{tmp_path.name}".replace("-", "_")
    (tmp_path / f"{module}.py").write_text("from wfe import tool\n" + TOOLS)

    def write(parent: str = PARENT, child: str = CHILD) -> Path:
        (tmp_path / "child.yaml").write_text(child.replace("TOOLS", module))
        path = tmp_path / "parent.yaml"
        path.write_text(parent.replace("TOOLS", module))
        return path

    return write


def test_a_workflow_branch_runs_its_child_and_writes_its_outputs(flows):
    events: list[dict] = []
    result = Workflow.load(flows(), entry_points=False).run(listeners=[events.append])
    assert result.ok, result.error
    assert (result.state["result"], result.state["lint"]) == (12, "ok")
    started = [e["node"] for e in events if e["event"] == "node_started"]
    assert {"fan/deep", "fan/deep/twice", "fan/deep/again", "fan/quick"} <= set(started)


def test_a_failed_sub_flow_branch_fails_the_node_or_is_tolerated(flows):
    failing = PARENT.replace("default: 3", "default: -1").replace(
        "  lint: str\n", "  lint: str\n  failures: {type: list, default: []}\n")
    failed = Workflow.load(flows(failing), entry_points=False).run()
    assert isinstance(failed.error, NodeFailed) and failed.error.node == "fan"
    tolerant = failing + "    tolerate: 1\n    errors: failures\n"
    result = Workflow.load(flows(tolerant), entry_points=False).run()
    assert result.ok, result.error
    assert [(f["branch"], f["type"]) for f in result.state["failures"]] == [
        ("deep", "NodeFailed")]
    assert "negative: -1" in result.state["failures"][0]["message"]


@pytest.mark.parametrize(("parent", "child", "message", "where"), [
    (PARENT.replace("outputs: {result: doubled}", "outputs: {result: nothing}"), CHILD,
     "the subgraph has no state key 'nothing'", "parent.yaml:14:"),
    (PARENT.replace("inputs: {n: n}", "inputs: {m: n}"), CHILD,
     "the subgraph has no state key 'm'", "parent.yaml:13:"),
    (PARENT.replace("outputs: {result: doubled}", "outputs: {missing: doubled}"), CHILD,
     "missing", "parent.yaml:14:"),
    (PARENT.replace("workflow: child.yaml", "workflow: child.yaml\n        tool: lint"), CHILD,
     "needs exactly one of `tool:` or `workflow:`", "parent.yaml:11:"),
    (PARENT.replace("quick: {tool: lint}", "quick: {out: lint}"), CHILD,
     "needs exactly one of `tool:` or `workflow:`", "parent.yaml:10:"),
    (PARENT.replace("inputs: {n: n}", "inputs: {n: n}\n        with: {n: 1}"), CHILD,
     "`with` does not belong to a workflow branch", "parent.yaml:14:"),
    (PARENT.replace("inputs: {n: n}", "inputs: {n: n}\n        timeout: 5s"), CHILD,
     "`timeout` does not belong to a workflow branch", "parent.yaml:14:"),
    (PARENT.replace("quick: {tool: lint}", "quick: {tool: lint, inputs: {n: 1}}"), CHILD,
     "`inputs` does not belong to a tool branch", "parent.yaml:10:"),
    (PARENT, CHILD.replace("again: {tool: double", "again: {tool: nope"),
     "nope", "child.yaml:8:"),
    (PARENT, CHILD.replace("  again: {", "  ask: {interrupt: {message: ok?}}\n  again: {"),
     "a parallel branch's workflow cannot wait for input", "parent.yaml:12:"),
])
def test_a_bad_workflow_branch_is_a_positioned_problem(flows, parent, child, message, where):
    with pytest.raises(SpecError) as raised:
        Workflow.load(flows(parent, child), entry_points=False)
    text = str(raised.value)
    assert message in text and where in text, text


def test_validate_and_the_dry_run_show_a_workflow_branch(flows):
    path = flows()
    checked = runner.invoke(app, ["validate", str(path)])
    assert checked.exit_code == 0 and "0 errors, 0 warnings" in checked.output, checked.output
    dry = runner.invoke(app, ["run", str(path), "--dry-run"])
    assert "fan: parallel 2 branches (quick, deep: workflow " in dry.stdout
    assert "child.yaml), join all" in dry.stdout
    graph = runner.invoke(app, ["graph", str(path), "--format", "mermaid", "--expand"])
    assert "parallel: quick, deep (" in graph.stdout and "child.yaml)" in graph.stdout
    assert "fan/deep/twice" in graph.stdout


def test_a_finished_sub_flow_branch_is_not_run_again_after_a_kill(flows, tmp_path):
    path = flows()
    effects = tmp_path / "effects"
    env = {**os.environ, "WFE_TEST_EFFECTS": str(effects), "WFE_TEST_KILL": "1",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "wfe"]
    killed = subprocess.run([*command, "run", str(path), "--quiet"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    before = effects.read_text().split()
    assert before.count("double3") == 1
    with Store.open(os.environ["WFE_STORE"]) as store:
        [record] = store.list_runs()
    resumed = subprocess.run([*command, "resume", record.run_id, "--quiet"], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert effects.read_text().split()[len(before):] == ["lint"]
    with Store.open(os.environ["WFE_STORE"]) as store:
        assert store.get_run(record.run_id).state["result"] == 12
