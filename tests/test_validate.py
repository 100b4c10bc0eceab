"""`wfe validate`: every problem, at its position, in every format; the abusive-file corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfe.cli import app

runner = CliRunner()
CORPUS = Path(__file__).parent / "data" / "bad_yaml"

#: The first problem of each corpus file (../shared/research/bad_yaml/index.md).
CORPUS_FIRST_PROBLEM = {
    "01_python_object_apply": "9:12",
    "02_python_object_new": "8:11",
    "03_python_name_and_module": "7:14",
    "04_unknown_local_tag": "5:8",
    "05_billion_laughs": "13:",
    "06_recursive_alias": "9:9",
    "07_deep_flow_nesting": "7:75",
    "08_deep_block_nesting": "8:129",
    "09_duplicate_top_level_key": "14:1",
    "10_duplicate_nested_key": "13:7",
    "12_yaml11_numbers": "8:14",
    "13_non_json_types": "7:30",
    "14_tab_indentation": "7:1",
    "15_invalid_utf8": "8:21",
    "16_utf16_bom": "1:1",
    "17_control_characters": "8:19",
    "18_bidi_and_invisible_ids": "10:16",
    "20_merge_key_amplification": "12:5",
    "21_multiple_documents": "7:1",
    "22_empty_file": "1:1",
    "23_top_level_sequence": "1:1",
    "24_non_string_keys": "6:3",
    "25_complex_key": "6:5",
    "26_huge_integer": "8:14",
    "27_nonfinite_and_negative_numbers": "8:14",
    "28_unclosed_quote": "11:15",
    "29_bad_indentation": "8:11",
    "30_null_required_fields": "2:1",
    "31_expression_escape_chars": "11:15",
    "32_unknown_next_node": "8:11",
    "33_unknown_tool": "7:11",
    "34_unbounded_cycle": "6:3",
    "35_unknown_field_typo": "8:5",
    "36_bad_expression_in_branch": "12:15",
}


def validate(*args: object):
    return runner.invoke(app, ["validate", *[str(a) for a in args]])


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The corpus copied to an empty folder that is also the working directory."""
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize(("case", "position"), sorted(CORPUS_FIRST_PROBLEM.items()))
def test_abusive_file_is_rejected_at_its_position(corpus, case, position):
    result = validate(f"{case}.yaml")
    assert result.exit_code == 2
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{case}.yaml:{position}"), first
    assert "Traceback" not in result.output
    assert not list(corpus.glob("wfe_pwned*"))


def test_norway_booleans_file_is_valid(corpus):
    assert validate("11_norway_booleans.yaml").exit_code == 0


def test_oversized_file_is_rejected_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("nodes:\n" + "  # padding\n" * 110_000)
    result = validate(big)
    assert result.exit_code == 2
    assert "big.yaml:1:1: error[WFE001]: file is" in result.stdout


FLOW = """
imports: [TOOLS]
state:
  i: {type: int, default: 0}
  unused: {type: str, default: ""}
nodes:
  a:
    tool: inc
    next: [{when: i < 3, then: a}]
  island: {tool: inc}
"""
TOOLS = """
@tool
def inc(i: int) -> dict:
    return {"i": i + 1}

@tool
def limit(n: int) -> None:
    return None
"""


def test_warnings_keep_exit_0_and_strict_makes_them_errors(write_workflow):
    path = write_workflow(FLOW, TOOLS)
    result = validate(path)
    assert result.exit_code == 0, result.stdout
    assert f"{path}:10:3: warning[WFE060]: node 'island' is never reached from 'a'" in result.stdout
    assert (f"{path}:5:3: warning[WFE061]: state key 'unused' is neither read nor written"
            in result.stdout)
    strict = validate(path, "--strict")
    assert strict.exit_code == 2 and "error[WFE060]" in strict.stdout


def test_loop_without_exit_is_an_error(write_workflow):
    path = write_workflow("""
        imports: [TOOLS]
        state: {i: {type: int, default: 0}}
        nodes:
          a: {tool: inc, next: b}
          b: {tool: inc, next: a}
    """, TOOLS)
    result = validate(path)
    assert result.exit_code == 2
    assert "error[WFE023]: no path from 'a' reaches end (cycle a → b → a)" in result.stdout


def test_with_constant_of_the_wrong_type_is_an_error(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  a: {tool: limit, with: {n: ten}}\n", TOOLS)
    result = validate(path)
    assert result.exit_code == 2
    assert "3:30: error[WFE032]: with.n: tool 'limit' expects int, got str 'ten'" in result.stdout


def test_every_file_and_every_problem_in_one_pass_sorted(write_workflow, tmp_path):
    write_workflow("imports: [TOOLS]\nnodes:\n  a: {tool: nope, timout: 1}\n", TOOLS)
    write_workflow("imports: [TOOLS]\nnodes:\n  a: {tool: inc, next: b}\n", TOOLS)
    result = validate(tmp_path)
    lines = result.stdout.splitlines()
    assert result.exit_code == 2
    assert [line.split(": ")[0].rsplit("/", 1)[-1] for line in lines[:-1]] == [
        "wf1.yaml:3:19", "wf2.yaml:3:13", "wf2.yaml:3:13", "wf2.yaml:3:24"]
    assert lines[-1] == "2 files checked: 4 errors, 0 warnings"


def test_default_target_is_the_workflows_folder(write_workflow, tmp_path, monkeypatch):
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "one.yml").write_text("nodes:\n  a: {tool: nothing}\n")
    monkeypatch.chdir(tmp_path)
    result = validate()
    assert result.exit_code == 2
    assert "workflows/one.yml:2:13: error[WFE030]" in result.stdout


def test_missing_target_is_reported(tmp_path):
    result = validate(tmp_path / "absent.yaml")
    assert result.exit_code == 2 and "absent.yaml:1:1: error[WFE001]" in result.stdout


def test_json_format_lists_every_problem(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  a: {tool: nope}\n", TOOLS)
    problems = json.loads(validate(path, "--format", "json").stdout)
    assert len(problems) == 1
    assert problems[0] == {"path": str(path), "line": 3, "col": 13, "severity": "error",
                           "code": "WFE030", "message": problems[0]["message"]}
    assert problems[0]["message"].startswith("unknown tool 'nope'")


def test_github_format_prints_workflow_commands(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  a: {tool: inc, next: [{when: 'j > 1', "
                          "then: end}]}\n", TOOLS)
    out = validate(path, "--format", "github").stdout
    assert out.startswith(f"::error file={path},line=3,col=")
    assert ",title=WFE041::unknown name 'j'" in out


def test_sarif_format_is_sarif_2_1_0(write_workflow):
    path = write_workflow("imports: [TOOLS]\nnodes:\n  a: {tool: nope}\n", TOOLS)
    document = json.loads(validate(path, "--format", "sarif").stdout)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    assert run["tool"]["driver"]["name"] == "wfe"
    assert {"WFE030"} <= {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    result = run["results"][0]
    assert result["ruleId"] == "WFE030" and result["level"] == "error"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 13}


def test_unknown_format_is_a_usage_error(write_workflow):
    path = write_workflow("nodes:\n  a: {tool: x}\n")
    assert validate(path, "--format", "xml").exit_code == 2
