"""Fuzzing the loader (issue 7; reliability.md §6, target 6): generated and mutated workflow files
through everything `wfe validate FILE` does end in a list of problems, each on one line with a
position, and never in any other exception. Hypothesis drives the generators of
tests/fuzz_workflows.py here with a few hundred examples; benchmarks/fuzz_loader.py runs the
long campaigns (README, "Fuzzing"). The last section pins the crashes the fuzzer found.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_schema import schema_workflow
from fuzz_workflows import (
    MUTATORS,
    ROOT,
    Seeds,
    isolated_folder,
    mutate,
    validate_case,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wfe.errors import Problem
from wfe.graph.validate import validate_file

SEEDS = Seeds()
SEED_INDEXES = st.integers(0, len(SEEDS.texts) - 1)
FUZZ_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def case_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where each case is written; the seeds' tool modules are imported for the module only."""
    with isolated_folder(tmp_path_factory.mktemp("fuzz")) as path:
        yield path


def assert_clean_problems(problems: list[Problem]) -> None:
    for problem in problems:
        text = problem.format()
        assert problem.location.line >= 1 and problem.location.col >= 1, text
        assert "\n" not in text and not _CONTROL.search(text), repr(text)


# --- the properties --------------------------------------------------------------------------

@settings(FUZZ_SETTINGS, max_examples=150)
@given(rng=st.randoms(use_true_random=False))
def test_a_workflow_generated_from_the_schema_is_valid_or_refused_with_positions(
    case_path: Path, rng,
):
    assert_clean_problems(validate_case(case_path, schema_workflow(rng, SEEDS.expressions)))


@pytest.mark.parametrize("mutator", MUTATORS[:-1], ids=lambda m: m.__name__)
@settings(FUZZ_SETTINGS, max_examples=40)
@given(index=SEED_INDEXES, rng=st.randoms(use_true_random=False))
def test_a_mutated_seed_file_is_valid_or_refused_with_positions(
    case_path: Path, mutator, index: int, rng,
):
    data = mutator(rng, SEEDS.texts[index], SEEDS)
    assert_clean_problems(validate_case(case_path, data))


@settings(FUZZ_SETTINGS, max_examples=100)
@given(index=SEED_INDEXES, rng=st.randoms(use_true_random=False))
def test_stacked_mutations_of_seeds_and_generated_files_are_valid_or_refused(
    case_path: Path, index: int, rng,
):
    start = SEEDS.texts[index] if rng.random() < 0.5 else schema_workflow(rng, SEEDS.expressions)
    assert_clean_problems(validate_case(case_path, mutate(rng, start, SEEDS)))


def test_every_seed_file_is_valid_or_refused_with_positions(case_path: Path):
    for text in SEEDS.texts:
        assert_clean_problems(validate_case(case_path, text))


def test_the_campaign_script_reports_its_counts_and_exits_0(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fuzz_loader.py"), "--cases", "20",
         "--subprocess-every", "20", "--seed", "3", "--save", str(tmp_path / "saved")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fuzz_loader: 20 cases" in done.stdout
    assert "crashes (raised something other than a WfeError): 0" in done.stdout
    assert "`wfe validate` processes: 1: tracebacks 0, signal deaths 0" in done.stdout
    assert "cases over 3 s:" in done.stdout


# --- crashes the fuzzer found ------------------------------------------------------------------

def _problems(case_path: Path, text: str, imports: tuple[str, ...] = ()) -> list[str]:
    case_path.write_text(text)
    return [p.format().removeprefix(f"{case_path}:") for p in validate_file(case_path, imports)]


@pytest.mark.parametrize(
    ("literal", "shown"),
    [('""', "''"), ('".."', "'..'"), ('"a b"', "'a b'"), ('"os..path"', "'os..path'"),
     ("x" * 300, "'" + "x" * 57 + "'...")],
    ids=["empty", "dots", "space", "empty-part", "too-long"],
)
def test_an_import_that_is_not_a_module_name_is_a_problem_at_its_position(
    case_path: Path, literal: str, shown: str,
):
    found = _problems(case_path, f"imports: [tools, {literal}]\nnodes:\n  a: {{tool: noop}}\n")
    assert found == [f"1:18: error[WFE011]: imports[1]: {shown} is not a module name (such as "
                     "my_tools or package.tools)"]


def test_a_subgraph_file_name_with_a_nul_is_a_problem_at_its_position(case_path: Path):
    found = _problems(case_path, 'nodes:\n  a: {workflow: "a\\0b.yaml"}\n')
    assert found == ["2:17: error[WFE006]: control character U+0000 not allowed (written as an "
                     "escape)"]


@pytest.mark.parametrize("name", ["", "..", "x" * 300], ids=["empty", "dots", "too-long"])
def test_an_import_option_that_is_not_a_module_name_is_a_problem(case_path: Path, name: str):
    found = _problems(case_path, "nodes:\n  a: {tool: noop}\n", imports=(name,))
    assert any(f"error[WFE033]: cannot import tool module '{name}'" in p for p in found), found


@pytest.mark.parametrize(
    ("value", "problem"),
    [("a\\nb", "error[WFE030]: unknown tool 'a\\nb' (imports: tools)"),
     ("a\\tb", "error[WFE030]: unknown tool 'a\\tb' (imports: tools)"),
     ("a\\e[31mb", "error[WFE006]: control character U+001B not allowed (written as an escape)"),
     ("a\\x85b", "error[WFE006]: control character U+0085 not allowed (written as an escape)"),
     ("a\\u202eb", "error[WFE006]: invisible/bidirectional control character U+202E not allowed "
                  "(written as an escape)")],
    ids=["newline", "tab", "escape-sequence", "next-line", "bidi"],
)
def test_a_value_quoted_in_a_message_cannot_break_the_line_or_restyle_the_terminal(
    case_path: Path, value: str, problem: str,
):
    found = _problems(case_path, f'imports: [tools]\nnodes:\n  a: {{tool: "{value}"}}\n')
    assert found == [f"3:13: {problem}"]


def test_start_naming_end_is_a_problem_at_its_position(case_path: Path):
    found = _problems(case_path, "imports: [tools]\nstart: end\nnodes:\n  a: {tool: noop}\n")
    assert found == ["2:8: error[WFE020]: start must name a node; 'end' is where a run stops"]
