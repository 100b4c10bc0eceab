"""The command line: exit codes, output modes, inputs, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.cli.inputs import parse_assignments, parse_scalar

runner = CliRunner()

FLOW = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 2}
  note: {type: str, default: ""}
nodes:
  inc:
    tool: inc
    next:
      - when: i < n
        then: inc
      - then: end
"""
TOOLS = """
@tool
def inc(i: int) -> dict:
    \"\"\"Add one to i.\"\"\"
    log(f"at {i}")
    return {"i": i + 1}

@tool
def fail() -> None:
    raise RuntimeError("it broke")
"""


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def flow(write_workflow) -> Path:
    return write_workflow(FLOW, TOOLS)


def test_run_prints_final_state_as_json_and_exits_0(flow):
    result = invoke("run", flow, "-i", "n=3")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"i": 3, "n": 3, "note": ""}


def test_run_plain_progress_goes_to_stderr(flow):
    result = invoke("run", flow)
    assert "inc started (step 1)" in result.stderr
    assert "run succeeded" in result.stderr


def test_run_json_prints_one_event_per_line(flow):
    result = invoke("run", flow, "--json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["event"] == "run_started" and events[-1]["event"] == "run_finished"
    assert {"log", "node_started", "node_finished", "edge"} <= {e["event"] for e in events}


def test_run_quiet_prints_nothing(flow):
    result = invoke("run", flow, "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


@pytest.mark.parametrize(("options", "kinds_built"), [
    # nothing shows them, nothing stores them: only `log` events, for annotations in CI
    (["--quiet", "--no-store"], {"log"}),
    (["--quiet"], {"run_started", "node_started", "log", "node_finished", "run_finished"}),
    (["--no-store"], {"run_started", "node_started", "log", "node_finished", "run_finished"}),
], ids=["quiet-unstored", "quiet-stored", "plain-unstored"])
def test_run_builds_events_only_for_a_reader(flow, monkeypatch, options, kinds_built):
    from wfe.engine.events import EventBus

    built: list[str] = []
    emit = EventBus.emit

    def counting(bus: EventBus, kind, fields) -> None:
        if bus.listeners:
            built.append(kind)
        emit(bus, kind, fields)

    monkeypatch.setattr(EventBus, "emit", counting)
    monkeypatch.chdir(flow.parent)
    assert invoke("run", flow, *options).exit_code == 0
    assert set(built) - {"edge"} == kinds_built


@pytest.mark.parametrize(("options", "shows_state"), [
    (["--quiet"], False),
    (["--quiet", "--output", "out.json"], True),
    ([], True),
], ids=["quiet", "quiet-output", "plain"])
def test_run_masks_the_final_state_only_to_show_it(flow, monkeypatch, options, shows_state):
    import wfe.cli.run_command as run_command

    masked: list[object] = []
    mask = run_command.mask_value
    monkeypatch.setattr(run_command, "mask_value", lambda value: masked.append(value) or
                        mask(value))
    monkeypatch.chdir(flow.parent)
    assert invoke("run", flow, "--no-store", *options).exit_code == 0
    assert bool(masked) is shows_state


def test_run_output_writes_the_final_state(flow, tmp_path):
    target = tmp_path / "out.json"
    result = invoke("run", flow, "--output", target, "-i", "n=1")
    assert result.exit_code == 0
    assert json.loads(target.read_text()) == {"i": 1, "n": 1, "note": ""}
    assert result.stdout == ""


def test_run_inputs_file_and_file_values(flow, tmp_path):
    (tmp_path / "inputs.yaml").write_text("n: 4\nnote: from file\n")
    (tmp_path / "note.txt").write_text("from @file")
    result = invoke("run", flow, "--inputs", tmp_path / "inputs.yaml", "-i",
                    f"note=@{tmp_path / 'note.txt'}")
    assert json.loads(result.stdout) == {"i": 4, "n": 4, "note": "from @file"}


def test_failed_run_exits_1_and_names_the_node(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  boom: {tool: fail}\n", TOOLS)
    result = invoke("run", path)
    assert result.exit_code == 1
    assert "error: node 'boom': RuntimeError: it broke" in result.stderr
    assert "Traceback" not in result.output


def test_invalid_workflow_exits_2_with_file_line_col(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  a:\n    tool: inc\n    nxt: end\n", TOOLS)
    result = invoke("run", path)
    assert result.exit_code == 2
    assert f"{path}:5:5: error[WFE010]: unknown key 'nxt' (did you mean 'next'?)" in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path):
    result = invoke("run", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml:1:1: error[WFE001]" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "n=many"], "state key 'n' must be int"),
        (["-i", "nn=1"], "unknown input 'nn' (did you mean 'n'?)"),
        (["-i", "novalue"], "-i expects KEY=VALUE"),
        (["-i", "note=@/no/such/file"], "no such file"),
    ],
)
def test_bad_inputs_exit_2_before_anything_runs(flow, args, message):
    result = invoke("run", flow, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "started" not in result.stderr


def test_dry_run_prints_the_plan_and_calls_no_tool(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  boom: {tool: fail}\n", TOOLS)
    result = invoke("run", path, "--dry-run")
    assert result.exit_code == 0
    assert "boom: tool fail" in result.stdout
    assert "no tool was called" in result.stdout


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3), ("-2", -2), ("1.5", 1.5), ("1e3", 1000.0), ("true", True), ("False", False),
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("0755", 755), ("0x1f", 31), ("~", None),
        ("", None), ("src/", "src/"), ("[1, two]", [1, "two"]), ("{a: 1}", {"a": 1}),
        ("1:30", "1:30"), ("2024-01-01", "2024-01-01"),
    ],
)
def test_input_values_are_yaml_12_scalars(text, value):
    assert parse_scalar(text) == value


def test_input_value_may_contain_equals_signs():
    assert parse_assignments(["expr=a=b"]) == {"expr": "a=b"}


def test_tools_lists_name_signature_and_summary(write_workflow):
    path = write_workflow(FLOW, TOOLS)
    result = invoke("tools", path)
    assert result.exit_code == 0
    assert "inc" in result.stdout and "Add one to i." in result.stdout


def test_schema_is_a_json_schema_of_the_format():
    result = invoke("schema")
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"nodes", "state", "imports", "limits"} <= set(schema["properties"])


def test_help_does_not_import_the_engine_or_rich():
    code = (
        "import sys, wfe.cli; "
        "print(sorted(m for m in ('wfe.engine.loop', 'pydantic', 'rich.live', 'simpleeval', "
        "'sqlite3')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_validate_does_not_import_pydantic():
    # The format is checked by wfe's own rules; pydantic (~90 ms of a start) is for state values.
    code = (
        "import sys, wfe.cli\n"
        "sys.argv = ['wfe', 'validate', 'workflows/code_review.yaml']\n"
        "try:\n    wfe.cli.main()\nexcept SystemExit as done:\n    assert not done.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(("command", "unused"), [
    # Reading the store's settings loads neither sqlite3 nor the store (~15 ms of a start).
    (["run", "workflows/code_review.yaml", "--dry-run"],
     ["sqlite3", "wfe.store.store", "urllib.request", "zoneinfo", "cronsim"]),
    # A file with no `schedule:` needs neither cron nor time zones (~3 ms).
    (["validate", "workflows/code_review.yaml"], ["zoneinfo", "cronsim"]),
])
def test_a_start_does_not_import_what_the_command_does_not_use(command, unused):
    code = (
        "import sys, wfe.cli\n"
        f"sys.argv = ['wfe', *{command!r}]\n"
        "try:\n    wfe.cli.main()\nexcept SystemExit as done:\n    assert not done.code\n"
        f"print(sorted(m for m in {unused!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_python_dash_m_runs_the_cli(flow):
    done = subprocess.run([sys.executable, "-m", "wfe", "run", str(flow), "--quiet"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [("tree", "▶ start → inc"), ("mermaid", "flowchart TD"), ("dot", "digraph"),
     ("json", '"edges"')],
)
def test_graph_prints_each_format(flow, fmt, marker):
    result = invoke("graph", flow, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert marker in result.stdout


def test_graph_of_an_invalid_file_exits_2(write_workflow):
    path = write_workflow("nodes:\n  a: {tool: missing}\n")
    result = invoke("graph", path)
    assert result.exit_code == 2 and "error[WFE030]" in result.stderr


def test_graph_rejects_an_unknown_format(flow):
    assert invoke("graph", flow, "--format", "png").exit_code == 2


@pytest.mark.parametrize("args", [["--version"], ["--debug", "--version"]])
def test_version_prints_the_installed_version_and_exits_0(args):
    from importlib.metadata import version

    result = invoke(*args)
    assert (result.exit_code, result.stdout) == (0, f"wfe {version('wfe')}\n")
