"""Values given as text (`-i`, `env:`, `wfe resume -i`): YAML scalars, read for their key."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wfe.cli import app
from wfe.errors import InputError
from wfe.state.scalars import ScalarError, parse_scalar, typed_scalar
from wfe.state.types import parse_type

runner = CliRunner()

TYPED = """
imports: [TOOLS]
state:
  s: {type: str, default: ""}
  n: {type: int, default: 0}
  f: {type: float, default: 0}
  maybe: {type: str | None, default: ""}
  names: {type: "list[str]", default: []}
  anything: {type: any, default: 0}
  port: {type: int, default: 80, env: WFE_TEST_PORT}
  ratio: {type: float, default: 0, env: WFE_TEST_RATIO}
  flag: {type: bool, default: false, env: WFE_TEST_FLAG}
  token: {type: str, default: "", env: WFE_TEST_TOKEN, secret: true}
  pin: {type: int, default: 0, env: WFE_TEST_PIN, secret: true}
nodes:
  noop: {tool: noop}
"""
TOOLS = """
@tool
def noop() -> None:
    return None
"""


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def typed(write_workflow):
    return write_workflow(TYPED, TOOLS)


def final_state(path, *args: str) -> dict:
    result = invoke("run", path, "--no-store", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("text", "value"),
    [('"3"', "3"), ("'3'", "3"), ('"a\\tb"', "a\tb"), ("'it''s'", "it's"), ('""', ""),
     ('"true"', "true"), ("3", 3), ("[a, '1']", ["a", "1"])],
)
def test_a_quoted_scalar_is_a_string_as_yaml_says(text, value):
    assert parse_scalar(text) == value


@pytest.mark.parametrize("text", ['"unclosed', "[1, 2", "'a' b", '"a"\nb: 2'])
def test_text_that_is_not_one_yaml_value_is_refused(text):
    with pytest.raises(ScalarError):
        parse_scalar(text)


@pytest.mark.parametrize(
    ("type_text", "text", "value"),
    [
        ("str", "3", "3"), ("str", "1.5", "1.5"), ("str", "true", "true"), ("str", "null", "null"),
        ("str", "", ""), ("str", "[a, b]", "[a, b]"), ("str", '"3"', "3"),
        ("str", "[oops", "[oops"),
        ("int", "3", 3), ("int", '"3"', "3"), ("float", "3", 3), ("float | str", "3", 3),
        ("int | str", "3", 3), ("str | None", "null", None), ("str | None", "7", "7"),
        ("any", "3", 3), ("bool", "yes", "yes"), ("list[str]", "[a, b]", ["a", "b"]),
        ("list[int]", "[1, 2]", [1, 2]),
    ],
)
def test_a_plain_scalar_is_read_for_the_type_of_its_key(type_text, text, value):
    read = typed_scalar(text, parse_type(type_text))
    assert read == value and type(read) is type(value)


def test_quoted_input_keeps_no_quotes_and_a_str_key_takes_a_number_as_text(typed):
    state = final_state(typed, "-i", 's="3"', "-i", "maybe=7", "-i", "n=3", "-i", "names=['1', b]")
    assert (state["s"], state["maybe"], state["n"], state["names"]) == ("3", "7", 3, ["1", "b"])
    assert final_state(typed, "-i", "s=3")["s"] == "3"


def test_a_quoted_number_for_an_int_key_is_refused_as_a_string(typed):
    result = invoke("run", typed, "--no-store", "-i", "n='3'")
    assert result.exit_code == 2
    assert "state key 'n' must be int, got str '3'" in result.stderr


def test_an_input_that_is_not_a_yaml_value_names_its_key(typed):
    result = invoke("run", typed, "--no-store", "-i", "n=[1, 2")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: -i n: not a YAML value: expected ',' or ']'")


@pytest.mark.parametrize(
    ("variable", "text", "key", "value"),
    [("WFE_TEST_PORT", "7", "port", 7), ("WFE_TEST_RATIO", "0.5", "ratio", 0.5),
     ("WFE_TEST_RATIO", "2", "ratio", 2.0), ("WFE_TEST_FLAG", "true", "flag", True),
     ("WFE_TEST_TOKEN", "12345", "token", "12345")],
)
def test_env_values_are_read_as_input_values_are(make_workflow, monkeypatch, variable, text, key,
                                                 value):
    monkeypatch.setenv(variable, text)
    state = make_workflow(TYPED, TOOLS).initial_state()
    assert state[key] == value and type(state[key]) is type(value)


def test_an_input_overrides_an_env_value_even_one_its_key_refuses(typed, monkeypatch):
    monkeypatch.setenv("WFE_TEST_PORT", "not a port")
    assert final_state(typed, "-i", "port=8080")["port"] == 8080


def test_a_bad_env_value_names_the_variable(make_workflow, monkeypatch):
    monkeypatch.setenv("WFE_TEST_PORT", "eighty")
    with pytest.raises(InputError, match=r"'port' must be int, got str 'eighty'.*WFE_TEST_PORT"):
        make_workflow(TYPED, TOOLS).initial_state()


@pytest.mark.parametrize("text", ['"hunter2', "hunter2"])
def test_a_bad_env_value_of_a_secret_key_is_not_shown(make_workflow, monkeypatch, text):
    monkeypatch.setenv("WFE_TEST_PIN", text)
    with pytest.raises(InputError) as raised:
        make_workflow(TYPED, TOOLS).initial_state()
    assert "WFE_TEST_PIN" in str(raised.value) and "hunter2" not in str(raised.value)


COUNTER = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  n: {type: int, default: 2}
  approved: bool
  note: {type: str, default: ""}
nodes:
  inc:
    tool: inc
    next: [{when: i < n, then: inc}, {then: approve}]
  approve:
    interrupt: {message: Done?, expects: {approved: bool, note: str}}
"""
COUNTER_TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}
"""


def stored_runs() -> list[dict]:
    return json.loads(invoke("runs", "--json").stdout)


def stored_state(run_id: str) -> dict:
    return json.loads(invoke("show", run_id, "--json").stdout)["state"]


@pytest.fixture
def waiting_run(write_workflow) -> str:
    assert invoke("run", write_workflow(COUNTER, COUNTER_TOOLS), "--quiet").exit_code == 3
    [run] = stored_runs()
    return str(run["run_id"])


def test_resume_from_a_node_applies_the_inputs_given(waiting_run):
    result = invoke("resume", waiting_run, "--from", "inc", "-i", "n=5", "--quiet")
    assert result.exit_code == 3, result.output
    new = next(r for r in stored_runs() if r["run_id"] != waiting_run)
    assert stored_state(new["run_id"])["i"] == 5
    assert json.loads(invoke("show", new["run_id"], "--json").stdout)["inputs"] == {"n": 5}


@pytest.mark.parametrize(("given", "message"),
                         [("nn=5", "unknown input 'nn' (did you mean 'n'?)"),
                          ("n=many", "state key 'n' must be int, got str 'many'")])
def test_resume_from_a_node_checks_the_inputs_given(waiting_run, given, message):
    result = invoke("resume", waiting_run, "--from", "inc", "-i", given, "--quiet")
    assert result.exit_code == 2 and message in result.stderr
    assert len(stored_runs()) == 1


def test_an_answer_is_read_for_the_type_the_run_waits_for(waiting_run):
    result = invoke("resume", waiting_run, "-i", "approved=true", "-i", "note=42", "--quiet")
    assert result.exit_code == 0, result.output
    assert stored_state(waiting_run)["note"] == "42"
