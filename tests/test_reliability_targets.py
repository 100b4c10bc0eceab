"""The measurable targets of reliability.md §6 on the loading side (1, 2, 4, 5 and 16) that no
other test checks in full. What each target needs and where it is checked is tabled in
SECURITY.md; the figures (times) come from benchmarks/reliability_targets.py, never from here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import peak_rss
import pytest
from adversarial_inputs import ADVERSARIAL, oversized, typical
from fuzz_workflows import BAD_EXPRESSIONS, BAD_YAML, ROOT, TOOL_MODULES, isolated_folder

from wfe import Workflow
from wfe.errors import SpecError
from wfe.graph.validate import validate_file

MIB = 1 << 20
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *map(str, TOOL_MODULES.values())])}


def wfe_measured(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the `wfe` command line with ARGS; also its peak RSS in bytes."""
    return peak_rss.wfe_measured(*args, cwd=cwd, env=_ENV, timeout=120)


@pytest.fixture(scope="module")
def case_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where in-process cases are written, beside the corpus's tool modules."""
    with isolated_folder(tmp_path_factory.mktemp("cases")) as path:
        yield path


# --- target 1: the expression corpus in bounded memory ------------------------------------------

_RSS_RUNNER = """
import json, resource, sys
from wfe.expr.expression import compile_expression
cases = json.load(sys.stdin)
state = {"i": 0, "x": 5, "name": "bob", "items": [1, 2, 3], "visits": {"improve": 2}, "step": 3,
         "inputs": {"path": "src", "cfg": {"a": 1}}}
compile_expression("x > 1").evaluate_condition(state)  # warm: imports and caches in place
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for text in cases:
    try:
        compile_expression(text).evaluate_condition(state)
    except Exception:
        pass
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_kib": after - before}))
"""


def expression_corpus() -> list[tuple[str, str]]:
    lines = BAD_EXPRESSIONS.read_text(encoding="utf-8").split("\n")
    cases = [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]
    return [*cases, ("x\0", "REJECT"), ("x\n== 5", "REJECT")]  # type: ignore[list-item]


def test_the_whole_expression_corpus_grows_peak_memory_by_less_than_50_mib():
    cases = [text for text, _ in expression_corpus()]
    done = subprocess.run([sys.executable, "-c", _RSS_RUNNER], input=json.dumps(cases), env=_ENV,
                          capture_output=True, text=True, timeout=300, check=True)
    growth = json.loads(done.stdout)["growth_kib"] * 1024
    assert len(cases) == 88
    assert growth < 50 * MIB, f"peak RSS grew by {growth / MIB:.1f} MiB"


# --- target 2: every REJECT line is refused by `wfe validate`, at its position ------------------

REJECTS = [text for text, policy in expression_corpus() if policy == "REJECT"]
#: Lines that only fail when evaluated (an ExpressionError naming the node, tested in
#: test_expr.py): their fault depends on values (an index, an input) or on the declared types of
#: state keys, which the load-time check does not infer.
DECIDED_AT_RUN_TIME = {
    "items[10]": "the index is out of range only for the value the list has",
}
REJECT_WORKFLOW = """\
imports: [tools]
state:
  i: {{type: int, default: 0}}
  x: {{type: int, default: 5}}
  name: {{type: str, default: bob}}
  items: {{type: "list[int]", default: [1, 2, 3]}}
nodes:
  first:
    tool: inc
    next:
      - when: {expression}
        then: end
      - then: end
"""


@pytest.fixture(scope="module")
def rejects_validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, str]]:
    """Every REJECT line in its own otherwise valid file, all checked by one `wfe validate`."""
    folder = tmp_path_factory.mktemp("rejects")
    shutil.copyfile(BAD_YAML / "tools.py", folder / "tools.py")  # a workflow's own module
    for number, text in enumerate(REJECTS):
        when = json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML quoted scalar
        (folder / f"r{number:02d}.yaml").write_text(REJECT_WORKFLOW.format(expression=when))
    done = subprocess.run([sys.executable, "-m", "wfe", "validate", "."], cwd=folder, env=_ENV,
                          capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in done.stderr + done.stdout
    first_lines: dict[str, str] = {}
    for line in done.stdout.splitlines():
        if ": error[" in line:  # a file's warnings are reported beside its errors
            first_lines.setdefault(line.split(":", 1)[0], line)
    return done.returncode, first_lines


@pytest.mark.parametrize(
    ("number", "text"),
    [pytest.param(n, t, marks=pytest.mark.xfail(reason=DECIDED_AT_RUN_TIME[t], strict=True))
     if t in DECIDED_AT_RUN_TIME else (n, t) for n, t in enumerate(REJECTS)],
    ids=[f"{n:02d}-{t[:30]!r}" for n, t in enumerate(REJECTS)],
)
def test_a_rejected_expression_in_a_when_is_refused_by_validate_at_its_position(
    rejects_validated: tuple[int, dict[str, str]], number: int, text: str,
):
    code, first_lines = rejects_validated
    line = first_lines.get(f"r{number:02d}.yaml", "")
    assert code == 2
    assert re.match(rf"r{number:02d}\.yaml:\d+:\d+: error\[WFE0\d\d\]: ", line), line


def test_a_rejected_expression_stops_the_load_so_no_node_runs(case_path: Path):
    refused = 0
    for text in REJECTS:
        if text in DECIDED_AT_RUN_TIME:
            continue
        when = json.dumps(text, ensure_ascii=False)
        case_path.write_text(REJECT_WORKFLOW.format(expression=when))
        with pytest.raises(SpecError):
            Workflow.load(case_path, entry_points=False)
        refused += 1
    assert refused == len(REJECTS) - len(DECIDED_AT_RUN_TIME) == 63


# --- target 4: the bad_yaml corpus through `wfe validate`, in bounded memory --------------------

@pytest.fixture(scope="module")
def corpus_validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, int, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    for path in [*BAD_YAML.glob("*.yaml"), BAD_YAML / "tools.py"]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "19_oversized_file.yaml").write_bytes(oversized())
    done, peak = wfe_measured("validate", ".", cwd=folder)
    return done.returncode, done.stdout + done.stderr, peak, folder


def test_validate_refuses_the_corpus_without_a_traceback_or_a_signal(corpus_validated):
    code, output, _, folder = corpus_validated
    assert code == 2
    assert "Traceback" not in output
    assert not list(folder.glob("wfe_pwned*"))


@pytest.mark.parametrize("name", sorted([p.name for p in BAD_YAML.glob("*.yaml")] +
                                        ["19_oversized_file.yaml"]))
def test_validate_reports_each_corpus_file_with_a_position(corpus_validated, name: str):
    _, output, _, _ = corpus_validated
    errors = [line for line in output.splitlines() if line.startswith(f"{name}:")
              and ": error[" in line]
    if name.startswith("11_"):  # valid under YAML 1.2 core scalars
        assert errors == []
    else:
        assert errors and all(re.match(rf"{re.escape(name)}:\d+:\d+: ", e) for e in errors)


def test_validating_the_whole_corpus_peaks_under_256_mib(corpus_validated):
    _, _, peak, _ = corpus_validated
    assert peak < 256 * MIB, f"peak RSS {peak / MIB:.0f} MiB"


# --- target 5: inputs up to 1 MiB are loaded or refused, never anything else -------------------

@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_an_adversarial_input_up_to_1_mib_is_loaded_or_refused_with_positions(
    case_path: Path, name: str,
):
    data = ADVERSARIAL[name]().encode()
    assert len(data) <= MIB
    case_path.write_bytes(data)
    for problem in validate_file(case_path):
        assert problem.location.line >= 1, problem


def test_the_typical_workflow_of_the_load_budget_is_valid(case_path: Path):
    data = typical().encode()
    assert 15_000 < len(data) < 20_000
    case_path.write_bytes(data)
    assert validate_file(case_path) == []


def test_an_input_over_1_mib_is_refused_before_parsing(case_path: Path):
    case_path.write_bytes(oversized())
    [problem] = validate_file(case_path)
    assert (problem.code, problem.location.line, problem.location.col) == ("WFE001", 1, 1)
    assert problem.message.endswith("limit is 1048576")


# --- target 16: the dependency floors are declared, not only installed ------------------------

@pytest.mark.parametrize(("package", "floor"), [("simpleeval", "1.0.8"), ("PyYAML", "6.0.1")])
def test_pyproject_declares_the_security_floor_of(package: str, floor: str):
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"{package}>={floor}" in dependencies
